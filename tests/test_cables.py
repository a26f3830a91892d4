"""The cable check: declared cables against LLDP and MAC-table learning.

First the pure rules on small hand-made tables, then the demo's switch and router served by
a real snmpsim on 127.77.0.1/.2, polled by the real SNMP poller into a real SQLite store, and
checked by `mirror cables check` (exit 1 on drift, one line per finding with file:line).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

from cli.main import main
from lab import make_lab
from lab.demo_gear import RunningGear, start_gear
from lab.gear import SWITCH_NAME, host_mac
from mirror.cables import check
from mirror.inventory import load_inventory
from mirror.storage import Store
from mirror.topology import CableInput, NodeInput
from mirror.world import check_cables
from poller.snmp import SnmpPoller
from tests.test_demo_gear import _port_free_on_both

HOST_MAC = "02:00:00:00:00:aa"


def _switch(lldp: list[dict[str, Any]], fdb: list[tuple[str, str]]) -> NodeInput:
    return NodeInput(
        "sw", "snmp", None, None, "up",
        info={
            "interfaces": [{"name": f"p{i}", "mac": None} for i in range(1, 9)],
            "lldp": {"chassis_id": "02:00:00:00:00:01", "neighbours": lldp},
            "fdb": [{"mac": m, "port": p, "vlan": None} for m, p in fdb],
            "arp": [],
        },
    )  # fmt: skip


def _lab() -> list[NodeInput]:
    router_row = {
        "local_port": "p8", "chassis_id": "02:00:00:00:00:02", "chassis_kind": "mac",
        "port_id": "ether1", "port_kind": "interface-name", "port_descr": None,
        "sys_name": "gw", "addresses": [],
    }  # fmt: skip
    return [
        _switch([router_row], [(HOST_MAC, "p3"), ("02:00:00:00:00:bb", "p4")]),
        NodeInput("gw", "host", "127.77.0.1", "02:00:00:00:00:02", "up"),
        NodeInput("pc", "host", "127.77.0.5", HOST_MAC, "up", metrics={"net.up[eth0]": 1}),
        NodeInput("tv", "host", "127.77.0.6", "02:00:00:00:00:bb", "up"),
        NodeInput("laptop", "host", "127.77.0.7", None, "up"),
    ]  # fmt: skip


def test_each_kind_of_finding() -> None:
    cables = [
        CableInput(("sw", "p8"), ("gw", "ether1"), "uplink"),  # ok by LLDP
        CableInput(("pc", "eth0"), ("sw", "p5"), "P-05"),  # learnt on p3: wrong port
        CableInput(("tv", None), ("sw", "p99"), "P-99"),  # sw has no p99
        CableInput(("laptop", None), ("sw", "p6"), "P-06"),  # sw reads its tables: not seen
        CableInput(("laptop", "eth1"), ("tv", None), None),  # nobody can see it
    ]
    result = check(cables, _lab())
    assert [c.status for c in result.cables] == [
        "ok", "wrong-port", "unknown-port", "not-seen", "unchecked",
    ]  # fmt: skip
    kinds = [(f.kind, f.cable) for f in result.findings]
    assert kinds == [("wrong-port", 1), ("unknown-port", 2), ("not-seen", 3)]
    assert result.findings[0].message == "documented pc:eth0 — sw:p5, seen sw:p3 — pc"
    assert result.findings[1].message == "sw has no port 'p99'"
    assert result.cables[4].message.startswith("neither end reads LLDP")
    assert result.drift  # tv's link is taken by its unknown-port cable: no extra finding


def test_a_seen_link_nobody_documents_is_drift_once_any_cable_is_declared() -> None:
    uplink = [CableInput(("sw", "p8"), ("gw", "ether1"), "uplink")]
    result = check(uplink, _lab())
    assert sorted(f.message for f in result.findings) == [
        "sw:p3 — pc is seen (by fdb) but no cable documents it",
        "sw:p4 — tv is seen (by fdb) but no cable documents it",
    ]
    assert {f.kind for f in result.findings} == {"not-documented"}
    assert not check([], _lab()).drift  # no cables: the file documents no cabling


def test_an_exact_match_is_never_taken_by_a_wrong_cable_listed_first() -> None:
    cables = [
        CableInput(("pc", None), ("sw", "p7"), "wrong"),
        CableInput(("pc", None), ("sw", "p3"), "right"),
        CableInput(("tv", None), ("sw", "p4"), None),
        CableInput(("sw", "p8"), ("gw", None), None),
    ]
    result = check(cables, _lab())
    assert [c.status for c in result.cables] == ["not-seen", "ok", "ok", "ok"]


# --- the demo's gear, polled for real --------------------------------------------------------


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[list[Any], RunningGear]]:
    lab = make_lab(6)
    gear = await start_gear(lab, tmp_path, _port_free_on_both())
    try:
        yield lab, gear
    finally:
        gear.stop()


async def test_cables_check_on_polled_gear_and_the_command(
    served: tuple[list[Any], RunningGear],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lab, gear = served
    ports = gear.gear.host_ports
    hosts = [{"name": h.name, "address": h.address, "mac": host_mac(h)} for h in lab]
    data: dict[str, Any] = {"groups": {"network": {}}, "hosts": hosts, **gear.inventory()}
    data["cables"] += [
        {"a": {"node": "lab-01"}, "b": {"node": SWITCH_NAME, "port": ports["lab-01"]}},
        {"a": {"node": "lab-02"}, "b": {"node": SWITCH_NAME, "port": "Gi1/0/7"}, "label": "P-07"},
        {"a": {"node": "lab-03"}, "b": {"node": SWITCH_NAME, "port": "Gi1/0/99"}},
    ]
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    inventory = load_inventory(path)

    engine = SnmpEngine()
    try:
        pollers = [SnmpPoller(d, engine) for d in inventory.snmp_resolved()]
        results = await asyncio.gather(*(p.poll() for p in pollers))
    finally:
        engine.close_dispatcher()
    store = Store.open(f"sqlite:///{tmp_path / 'mirror.db'}")
    store.upgrade()
    try:
        store.write([r.snapshot for r in results if r.snapshot], [r.status for r in results])
        checked = check_cables(inventory, store.host_rows())
    finally:
        store.close()

    assert [c.status for c in checked.cables] == ["ok", "ok", "wrong-port", "unknown-port"]
    assert "lldp" in checked.cables[0].message  # the uplink, seen from both ends
    wrong = checked.findings[0]
    assert wrong.message == (
        f"documented lab-02 — {SWITCH_NAME}:Gi1/0/7, seen {SWITCH_NAME}:{ports['lab-02']} — lab-02"
    )
    undocumented = sorted(f.seen[1].node for f in checked.findings if f.kind == "not-documented")
    assert undocumented == ["lab-04", "lab-05", "lab-06"]

    monkeypatch.setenv("MIRROR_DATABASE_URL", f"sqlite:///{tmp_path / 'mirror.db'}")
    monkeypatch.setenv("MIRROR_DATA_DIR", str(tmp_path))
    assert main(["cables", "check", "-i", str(path)]) == 1
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 5
    text = path.read_text().splitlines()
    items = [n for n, t in enumerate(text, 1) if t.startswith("- a:") and n > text.index("cables:")]
    assert lines[0].startswith(f"{path}:{items[2]} cables[2] 'P-07': wrong-port: documented ")
    assert lines[1].endswith("unknown-port: core-switch has no port 'Gi1/0/99'")
    assert lines[2].startswith("not-documented: ")
    assert "4 cable(s) declared (2 ok, 1 unknown-port, 1 wrong-port); 5 finding(s)" in err

    # Fixed in the file: the wrong and the unknown cable removed, the rest documented.
    data["cables"] = data["cables"][:2] + [
        {"a": {"node": h}, "b": {"node": SWITCH_NAME, "port": ports[h]}}
        for h in ("lab-02", "lab-03", "lab-04", "lab-05", "lab-06")
    ]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["cables", "check", "-i", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "7 cable(s) declared (7 ok); 0 finding(s)" in err
