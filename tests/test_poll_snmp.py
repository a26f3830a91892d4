"""SNMP polled for real: Debian snmpd (v2c and v3 authPriv) and snmpsim serving recorded devices.

Every agent is started by these tests on 127.0.0.1; nothing else is contacted.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

from api.app import create_app
from cli.main import main
from lab.snmpsim import SnmpSim
from mirror.auth import AuthService
from mirror.inventory import Inventory, SnmpDevice
from mirror.live import LiveHub
from mirror.model import HostState
from mirror.storage import Store
from poller.host import PollResult
from poller.snmp import SnmpPoller, SnmpScheduler
from tests.support.snmpd import COMMUNITY, V3_AUTH, V3_PRIV, V3_USER, Snmpd, free_udp_port
from tests.test_api import _serve
from tests.test_collectors_snmp import _golden

FIXTURES = Path(__file__).parent / "fixtures" / "snmp"
RECORDED = ["arubaos-cx", "swos", "routeros", "qnap", "openwrt"]


@pytest.fixture(scope="module")
def snmpsim() -> Iterator[tuple[str, int]]:
    endpoint = ("127.0.0.1", free_udp_port())
    with SnmpSim(FIXTURES, [endpoint]):
        yield endpoint


@pytest.fixture(scope="module")
def snmpd() -> Iterator[Snmpd]:
    if not Path("/usr/sbin/snmpd").exists():
        pytest.fail("snmpd not installed: run `scripts/setup.sh --test` (it installs snmpd)")
    root = Path(tempfile.mkdtemp(prefix="mirror-snmpd-"))
    agent = Snmpd(root, "127.0.0.1", free_udp_port()).start()
    yield agent
    agent.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A UDP port that takes requests and never answers (a device that hangs)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def _device(name: str, port: int, **extra: Any) -> SnmpDevice:
    entry = {"name": name, "address": "127.0.0.1", "port": port, "timeout_s": 1.0, **extra}
    if "version" not in extra and "community_file" not in extra:
        entry.setdefault("community_env", "SNMP_COMMUNITY")
    [device] = Inventory.from_dict({"snmp": [entry]}).snmp_resolved()
    return device


async def _poll(device: SnmpDevice, env: dict[str, str], times: int = 1) -> list[PollResult]:
    engine = SnmpEngine()
    poller = SnmpPoller(device, engine, env=env)
    results = []
    try:
        for i in range(times):
            if i:
                await asyncio.sleep(1.0)
            results.append(await poller.poll())
    finally:
        engine.close_dispatcher()
    return results


# --- Net-SNMP -------------------------------------------------------------------------------


async def test_snmpd_v2c_twice_gives_rates(snmpd: Snmpd) -> None:
    device = _device("ego-snmpd", snmpd.port)
    first, second = await _poll(device, {"SNMP_COMMUNITY": COMMUNITY}, times=2)
    assert first.status.state is HostState.UP, first.status.error
    info = first.snapshot.info  # type: ignore[union-attr]
    assert info["kind"] == "snmp" and info["system"]["name"] == "mirror-test-snmpd"
    assert "lo" in {i["name"] for i in info["interfaces"]}
    metrics = second.snapshot.metrics  # type: ignore[union-attr]
    assert metrics["net.oper_up[lo]"] == 1.0
    # Net-SNMP caches ifTable for a few seconds, so one second apart the rate may be 0.
    assert metrics["net.rx_bytes_per_s[lo]"] >= 0
    assert metrics["mem.total_bytes"] > 0 and "fs.used_pct[/]" in metrics
    assert second.snapshot.info == {}  # tables only on the table cadence  # type: ignore[union-attr]


async def test_snmpd_v3_authpriv_with_secrets_by_reference(snmpd: Snmpd, tmp_path: Path) -> None:
    (tmp_path / "priv").write_text(V3_PRIV + "\n")
    device = _device(
        "ego-v3", snmpd.port, version=3, user=V3_USER, auth_env="V3_AUTH",
        priv_file=str(tmp_path / "priv"),
    )  # fmt: skip
    [result] = await _poll(device, {"V3_AUTH": V3_AUTH})
    assert result.status.state is HostState.UP, result.status.error
    assert result.snapshot.info["system"]["location"] == "loopback"  # type: ignore[union-attr]


async def test_snmpd_v3_wrong_key_is_auth_failed_and_backs_off(snmpd: Snmpd) -> None:
    device = _device("ego-v3-bad", snmpd.port, version=3, user=V3_USER, auth_env="A", priv_env="P")
    engine = SnmpEngine()
    poller = SnmpPoller(device, engine, env={"A": "wrong-auth-key", "P": V3_PRIV})
    try:
        result = await poller.poll()
    finally:
        engine.close_dispatcher()
    assert result.status.state is HostState.AUTH_FAILED
    assert "wrong-auth-key" not in (result.status.error or "")
    assert not poller.due(time.monotonic() + 60)  # no retry for minutes: the log stays quiet


async def test_snmpd_wrong_community_is_a_timeout_state(snmpd: Snmpd) -> None:
    device = _device("ego-bad-community", snmpd.port, timeout_s=0.3, retries=0)
    started = time.monotonic()
    [result] = await _poll(device, {"SNMP_COMMUNITY": "not-the-community"})
    assert result.status.state is HostState.TIMEOUT
    assert "wrong community" in (result.status.error or "")
    assert "not-the-community" not in (result.status.error or "")
    assert time.monotonic() - started < 2


async def test_missing_secret_is_an_error_state_not_a_traceback(snmpd: Snmpd) -> None:
    [result] = await _poll(_device("no-env", snmpd.port), {})
    assert result.status.state is HostState.ERROR
    assert result.status.error == "community_env: environment variable SNMP_COMMUNITY is not set"


# --- recorded devices through snmpsim --------------------------------------------------------


@pytest.mark.parametrize("name", RECORDED)
async def test_recorded_device_polled_equals_golden(snmpsim: tuple[str, int], name: str) -> None:
    """What the poller walks over the wire is all the parsers need: same series, same tables."""
    [result] = await _poll(_device(name, snmpsim[1]), {"SNMP_COMMUNITY": name})
    assert result.status.state is HostState.UP, result.status.error
    expected = _golden(FIXTURES / f"{name}.snmprec")
    snapshot = result.snapshot
    assert snapshot is not None
    assert json.loads(json.dumps(snapshot.info)) == expected["info"]
    assert snapshot.metrics == expected["metrics"]


async def test_counters_advance_and_a_32_bit_counter_wraps(snmpsim: tuple[str, int]) -> None:
    first, second = await _poll(
        _device("lab-switch", snmpsim[1]), {"SNMP_COMMUNITY": "lab-switch"}, times=2
    )
    m = second.snapshot.metrics  # type: ignore[union-attr]
    # snmpsim's numeric module: 125 000 B/s × port number; the clock of both is this machine's.
    assert m["net.rx_bytes_per_s[ge-0/1]"] == pytest.approx(125_000, rel=0.25)
    assert m["net.rx_bytes_per_s[ge-0/2]"] == pytest.approx(250_000, rel=0.25)
    assert m["net.util_pct[ge-0/2]"] == pytest.approx(0.2, rel=0.25)
    # ge-0/3 has only Counter32 octets starting just under 2**32: it wraps, the rate stays sane.
    assert m["net.rx_bytes_per_s[ge-0/3]"] == pytest.approx(1_000_000, rel=0.25)
    assert m["net.rx_errors_per_s[ge-0/1]"] == pytest.approx(2, abs=1)
    assert m["net.oper_up[ge-0/4]"] == 0.0
    assert m["uptime_seconds"] > first.snapshot.metrics["uptime_seconds"]  # type: ignore[union-attr]


async def test_device_that_never_answers_gets_a_state_quickly(black_hole: int) -> None:
    device = _device("hung", black_hole, timeout_s=0.3, retries=1)
    started = time.monotonic()
    [result] = await _poll(device, {"SNMP_COMMUNITY": "x"})
    assert result.status.state is HostState.TIMEOUT
    assert time.monotonic() - started < 1.5  # 0.3 s × (1 + 1 retry), not the poll interval


async def test_scheduler_keeps_polling_beside_a_hung_device(
    snmpsim: tuple[str, int], black_hole: int
) -> None:
    good = _device("lab-switch", snmpsim[1], interval_s=0.5, timeout_s=0.4)
    hung = _device("hung", black_hole, interval_s=0.5, timeout_s=0.4, retries=0)
    results: list[PollResult] = []
    scheduler = SnmpScheduler([good, hung], results.append, env={"SNMP_COMMUNITY": "lab-switch"})
    await scheduler.start()
    await asyncio.sleep(2.2)
    await scheduler.stop()
    by_name: dict[str, list[PollResult]] = {}
    for r in results:
        by_name.setdefault(r.status.host, []).append(r)
    assert len(by_name["lab-switch"]) >= 3
    assert all(r.status.state is HostState.UP for r in by_name["lab-switch"])
    assert {r.status.state for r in by_name["hung"]} == {HostState.TIMEOUT}
    assert len(by_name["hung"]) <= 3  # backed off, not hammered every 0.5 s


def test_cli_poll_snmp_device(
    snmpsim: tuple[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        "snmp:\n"
        f"  - {{name: core, address: 127.0.0.1, port: {snmpsim[1]}, community_env: SW_COMM}}\n"
    )
    monkeypatch.setenv("SW_COMM", "lab-switch")
    assert main(["poll", "--host", "core", "-i", str(inventory)]) == 0
    out = capsys.readouterr().out
    assert "core: up" in out and "ge-0/1" in out and "lab-router" in out
    assert main(["poll", "--host", "core", "-i", str(inventory), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["metrics"]["net.rx_bytes_per_s[ge-0/1]"] > 0
    assert data["info"]["fdb"][0]["port"] == "ge-0/1"
    monkeypatch.delenv("SW_COMM")
    assert main(["poll", "--host", "core", "-i", str(inventory)]) == 1
    assert "SW_COMM is not set" in capsys.readouterr().out


# --- topology from real polls, through the API ---------------------------------------------


@pytest.fixture
async def topology_client(
    snmpsim: tuple[str, int], tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    port = snmpsim[1]
    inventory = Inventory.from_dict(
        {
            "hosts": [
                {"name": "pc-01", "address": "127.77.1.2"},  # MAC learnt from the router's ARP
                {"name": "nas-01", "address": "127.77.1.3", "mac": "02:00:00:00:03:01"},
                {"name": "printer", "address": "127.77.1.9"},
            ],
            "snmp": [
                {"name": n, "address": "127.0.0.1", "port": port, "community_env": "C_" + n[4:]}
                for n in ("lab-switch", "lab-router")
            ],
            "cables": [
                {"a": {"node": "printer"}, "b": {"node": "lab-switch", "port": "ge-0/4"},
                 "label": "patch B-04"},
                {"a": {"node": "lab-router", "port": "ether1"},
                 "b": {"node": "lab-switch", "port": "ge-0/1"}, "label": "uplink U-1"},
            ],
        }
    )  # fmt: skip
    env = {"C_switch": "lab-switch", "C_router": "lab-router"}
    store = Store.open(f"sqlite:///{tmp_path / 'mirror.db'}")
    store.upgrade()
    for device in inventory.snmp_resolved():
        for r in await _poll(device, env, times=2):
            # One write per poll, as the writer's 0.25 s batches do at a 5 s interval.
            store.write([r.snapshot] if r.snapshot else [], [r.status])
    _, secret = AuthService(store.engine).create_token("tests", "read")
    async for address in _serve(create_app(store, LiveHub(), inventory)):
        async with httpx.AsyncClient(
            base_url=f"http://{address}", headers={"Authorization": f"Bearer {secret}"}
        ) as client:
            yield client
    store.close()


async def test_topology_api_from_lldp_fdb_arp_and_cables(
    topology_client: httpx.AsyncClient,
) -> None:
    response = await topology_client.get("/api/topology")
    assert response.status_code == 200, response.text
    data = response.json()
    kinds = {n["id"]: n["kind"] for n in data["nodes"]}
    assert kinds["lab-switch"] == "snmp" and kinds["pc-01"] == "host"
    links = {
        frozenset((e["node"], e["port"]) for e in (link["a"], link["b"])): link
        for link in data["links"]
    }
    # LLDP seen from both sides and the declared cable: one link, labelled, counters attached.
    uplink = links[frozenset({("lab-switch", "ge-0/1"), ("lab-router", "ether1")})]
    assert sorted(uplink["sources"]) == ["cable", "lldp"] and uplink["label"] == "uplink U-1"
    assert uplink["utilisation"]["rx_bytes_per_s"] == pytest.approx(125_000, rel=0.25)
    # FDB + ARP: pc-01's MAC came from the router's ARP table, then the switch's MAC table.
    assert links[frozenset({("lab-switch", "ge-0/2"), ("pc-01", None)})]["sources"] == ["fdb"]
    assert frozenset({("lab-switch", "ge-0/3"), ("nas-01", None)}) in links
    printer = links[frozenset({("printer", None), ("lab-switch", "ge-0/4")})]
    assert printer["label"] == "patch B-04" and printer["utilisation"]["oper_up"] is False
    hosts = (await topology_client.get("/api/hosts")).json()
    assert {h["name"]: h["kind"] for h in hosts}["lab-router"] == "snmp"
    assert "community" not in json.dumps(hosts) and "C_router" not in json.dumps(hosts)
