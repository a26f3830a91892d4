"""/api/world on a running EGO: simulated SSH hosts and the demo's switch and router (real
snmpsim, polled by the real SNMP poller), placement in racks and on a desk, cables checked;
admin edits written through the inventory writer (comments kept, reloaded, audited), refused
edits answered with file:line and the file left as it was, other roles refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from ego.runtime import Running, start
from lab import LabServer, ensure_keys, lab_ssh, make_lab
from lab.demo_gear import RunningGear, start_gear
from lab.gear import ROUTER_NAME, SWITCH_NAME, host_mac
from mirror.audit import AuditLog
from mirror.auth import AuthService
from mirror.inventory import load_inventory
from mirror.settings import Settings
from tests.test_api import _serve
from tests.test_demo_gear import _port_free_on_both

PASSWORD = "correct horse battery"
SITES = """\
sites:
  - name: home
    rooms:
      - name: office
        size: {w: 5.0, d: 4.0, h: 2.6}
        racks:
          # the network rack, by the door
          - name: rack-a
            position: {x: 0.5, y: 0.3}
            height_u: 42
            devices:
              - {device: core-switch, u: 40}
              - {device: gateway, u: 38}
              - {device: lab-01, u: 10, height_u: 2}
        places:
          - name: desk-1
            kind: desk
            position: {x: 3.0, y: 2.5}
            devices: [lab-03, lab-04]
"""


@dataclass
class World:
    running: Running
    gear: RunningGear
    path: Path
    address: str
    tokens: dict[str, str]

    def client(self, who: str = "admin") -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return httpx.AsyncClient(base_url=f"http://{self.address}", headers=headers, timeout=15)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    host_key, client_key, client_pub = ensure_keys(tmp_path / "keys")
    hosts = make_lab(4)
    gear = await start_gear(hosts, tmp_path, _port_free_on_both())
    try:
        async with LabServer(hosts, 0, host_key, client_pub) as server:
            data: dict[str, Any] = {
                "poll": {"interval_s": 1, "timeout_s": 1, "slow_every_s": 30},
                "defaults": {"ssh": lab_ssh(client_key, server.port)},
                "hosts": [
                    {"name": h.name, "address": h.address, "mac": host_mac(h)} for h in hosts
                ],
                **gear.inventory(),
            }
            data["groups"] = {"network": {}}
            ports = gear.gear.host_ports
            data["cables"] += [
                {"a": {"node": "lab-01", "port": "eth0"},
                 "b": {"node": SWITCH_NAME, "port": ports["lab-01"]}, "label": "P-01"},
                {"a": {"node": "lab-02"}, "b": {"node": SWITCH_NAME, "port": ports["lab-03"]},
                 "label": "P-03", "colour": "red"},
            ]  # fmt: skip
            path = tmp_path / "inventory.yaml"
            path.write_text("# my room\n" + yaml.safe_dump(data, sort_keys=False) + SITES)
            settings = Settings(
                data_dir=tmp_path / "data",
                database_url=f"sqlite:///{tmp_path / 'mirror.db'}",
                inventory_path=path,
                bind_host="127.0.0.1",
                bind_port=0,
                inventory_watch_s=0,
            )
            running = await start(settings, load_inventory(path))
            try:
                auth = AuthService(running.ego.store.engine)
                tokens = {}
                for role in ("viewer", "admin"):
                    auth.add_user(role, PASSWORD, role)
                    tokens[role] = auth.create_token(role, "operate", user=role)[1]
                async for address in _serve(running.app):
                    yield World(running, gear, path, address, tokens)
            finally:
                await running.stop()
    finally:
        gear.stop()


async def _world(w: World) -> dict[str, Any]:
    async with w.client("viewer") as client:
        response = await client.get("/api/world")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _polled(w: World) -> dict[str, Any]:
    """The world once the switch's tables and lab-02's interfaces are stored."""
    answer: dict[str, Any] = {}

    async def ready() -> bool:
        answer.update(await _world(w))
        devices = {d["name"]: d for d in answer["devices"]}
        return bool(devices[SWITCH_NAME]["ports"]) and devices["lab-01"]["ports"] != []

    deadline = asyncio.get_running_loop().time() + 20
    while not await ready():
        assert asyncio.get_running_loop().time() < deadline, "the gear was not polled in time"
        await asyncio.sleep(0.3)
    return answer


async def test_world_shows_placement_states_and_checked_cables(world: World) -> None:
    answer = await _polled(world)
    [site] = answer["sites"]
    [room] = site["rooms"]
    assert room["size"] == {"w": 5.0, "d": 4.0, "h": 2.6}
    [rack] = room["racks"]
    assert [(m["device"], m["u"], m["height_u"]) for m in rack["devices"]] == [
        (SWITCH_NAME, 40, 1),
        (ROUTER_NAME, 38, 1),
        ("lab-01", 10, 2),
    ]
    devices = {d["name"]: d for d in answer["devices"]}
    assert devices[SWITCH_NAME]["kind"] == "snmp" and devices[SWITCH_NAME]["state"] == "up"
    assert devices["lab-02"]["placed"] is False and devices["lab-03"]["placed"] is True
    assert "eth0" in devices["lab-01"]["ports"]
    statuses = [(c["label"], c["status"]) for c in answer["cables"]]
    ports = world.gear.gear.host_ports
    assert statuses == [
        ("uplink U-1 (patch panel A-01)", "ok"),
        ("P-01", "ok"),
        ("P-03", "wrong-port"),
    ]
    wrong = answer["cables"][2]
    assert wrong["colour"] == "red" and wrong["where"].startswith(f"{world.path}:")
    assert f"seen {SWITCH_NAME}:{ports['lab-02']} — lab-02" in wrong["message"]
    kinds = sorted(f["kind"] for f in answer["findings"])
    assert kinds == ["not-documented", "not-documented", "wrong-port"]  # lab-03, lab-04
    assert answer["version"] and answer["source"] == str(world.path)

    async with world.client("viewer") as client:
        checked = (await client.get("/api/world/cables/check")).json()
    assert checked["drift"] is True and len(checked["lines"]) == 3
    assert (
        checked["lines"][0].startswith(f"{world.path}:")
        and "'P-03': wrong-port" in checked["lines"][0]
    )


async def test_admin_edits_are_written_kept_reloaded_and_audited(world: World) -> None:
    before = world.path.read_text()
    version = (await _world(world))["version"]
    async with world.client("viewer") as client:
        refused = await client.put("/api/world/devices/lab-02", json={"rack": "rack-a", "u": 20})
        assert refused.status_code == 403
    assert world.path.read_text() == before

    async with world.client("admin") as client:
        moved = await client.put(
            "/api/world/devices/lab-03", json={"rack": "rack-a", "u": 20, "expect": version}
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["edits"] == ["move lab-03 to rack rack-a U20"]
        taken = await client.put("/api/world/devices/lab-04", json={"rack": "rack-a", "u": 40})
        assert taken.status_code == 422, taken.text
        problem = taken.json()["detail"]["problems"][0]
        assert (
            problem.startswith(f"{world.path}:")
            and "U40 is already taken by 'core-switch'" in problem
        )
        stale = await client.delete("/api/world/cables/2", params={"expect": version})
        assert stale.status_code == 409, stale.text
        rack = await client.put("/api/world/racks/rack-a", json={"x": 1.5, "y": 0.25})
        assert rack.status_code == 200, rack.text
        added = await client.post(
            "/api/world/cables",
            json={"a": {"node": "lab-04"}, "b": {"node": SWITCH_NAME, "port": "Gi1/0/4"},
                  "label": "P-04", "type": "cat6"},
        )  # fmt: skip
        assert added.status_code == 201, added.text
        renamed = await client.put("/api/world/cables/1", json={"label": "P-01 (blue)"})
        assert renamed.status_code == 200, renamed.text
        gone = await client.delete("/api/world/cables/2")
        assert gone.status_code == 200, gone.text
        outside = await client.put("/api/world/racks/rack-a", json={"x": 9.0, "y": 0.0})
        assert outside.status_code == 422 and "is outside the room" in outside.text

    text = world.path.read_text()
    assert text.startswith("# my room\n") and "# the network rack, by the door" in text
    assert "- {device: lab-03, u: 20}" in text and "devices: [lab-04]" in text
    inventory = load_inventory(world.path)
    assert [c.label for c in inventory.cables] == [
        "uplink U-1 (patch panel A-01)",
        "P-01 (blue)",
        "P-04",
    ]
    assert inventory.cables[2].type == "cat6"
    rack = inventory.sites[0].rooms[0].racks[0]
    assert (rack.position.x, rack.position.y) == (1.5, 0.25)
    running = world.running.reloader.current.get()
    assert [c.label for c in running.cables] == [c.label for c in inventory.cables]  # reloaded
    answer = await _world(world)
    assert any(
        m["device"] == "lab-03" for m in answer["sites"][0]["rooms"][0]["racks"][0]["devices"]
    )
    entries = await asyncio.to_thread(
        AuditLog(world.running.ego.store.engine).entries, action="inventory.edit"
    )
    summaries = [e.detail["edits"] for e in entries]
    assert len(entries) == 5 and all(e.actor == "admin" for e in entries), summaries


def test_removing_a_host_takes_it_out_of_its_rack_and_drops_its_cables(tmp_path: Path) -> None:
    from mirror.inventory.edits import RemoveHost
    from mirror.inventory.writer import InventoryWriter

    hosts = "hosts:\n  - {name: nas, address: 127.0.0.5}\n  - {name: pc, address: 127.0.0.6}\n"
    cables = (
        "cables:\n  - a: {node: nas, port: eth0}\n    b: {node: pc}\n    label: X-1\n"
        "  - a: {node: pc}\n    b: {node: pc}\n"
    )
    path = tmp_path / "inventory.yaml"
    path.write_text(hosts + cables + SITES.replace("core-switch", "pc").replace("gateway", "nas")
                    .replace("lab-01", "x").replace("[lab-03, lab-04]", "[]")
                    .replace("              - {device: x, u: 10, height_u: 2}\n", ""))  # fmt: skip
    assert load_inventory(path).sites[0].rooms[0].racks[0].devices[1].device == "nas"
    InventoryWriter(path).write([RemoveHost("nas")], actor="t", via="test")
    inventory = load_inventory(path)
    assert [h.name for h in inventory.hosts] == ["pc"]
    assert [m.device for m in inventory.sites[0].rooms[0].racks[0].devices] == ["pc"]
    assert [(c.a.node, c.b.node) for c in inventory.cables] == [("pc", "pc")]
    assert "# the network rack, by the door" in path.read_text()
