"""Reloading the inventory while EGO runs, against the simulated lab: hosts added, removed
and changed by diff, untouched loops and connections kept, broken files refused with
file:line (polling goes on), SIGHUP and the file watch, adopt over the API, roles."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from ego.runtime import Running, _on_sighup, start
from lab import LabServer, ensure_keys, lab_ssh, make_lab
from lab.model import SimHost
from mirror.audit import AuditLog
from mirror.auth import AuthService
from mirror.inventory import load_inventory
from mirror.settings import Settings
from tests.test_api import _serve

PASSWORD = "correct horse battery"
ROLES = ("viewer", "operator", "admin")
HEADER = "# the lab under test: this comment must survive an adopt\n"


@dataclass
class Lab:
    running: Running
    server: LabServer
    hosts: list[SimHost]
    path: Path
    address: str
    tokens: dict[str, str]
    key: Path
    port: int

    def write(self, names: list[str], **extra: Any) -> None:
        self.path.write_text(HEADER + yaml.safe_dump(self.data(names, **extra), sort_keys=False))

    def data(self, names: list[str], **extra: Any) -> dict[str, Any]:
        by_name = {h.name: h for h in self.hosts}
        return {
            "poll": {"interval_s": 1, "timeout_s": 1, "slow_every_s": 30},
            "defaults": {"ssh": lab_ssh(self.key, self.port)},
            "hosts": [
                {"name": n, "address": by_name[n].address, **extra.get(n, {})} for n in names
            ],
        }

    def client(self, who: str = "admin") -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return httpx.AsyncClient(base_url=f"http://{self.address}", headers=headers, timeout=15)


async def eventually(check: Callable[[], Any], timeout_s: float = 15.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[Lab]:
    host_key, client_key, client_pub = ensure_keys(tmp_path / "keys")
    hosts = make_lab(4, subnet="127.78.6.0/24", start=10, seed="reload")
    async with LabServer(hosts, 0, host_key, client_pub) as server:
        path = tmp_path / "inventory.yaml"
        settings = Settings(
            data_dir=tmp_path / "data",
            database_url=f"sqlite:///{tmp_path / 'mirror.db'}",
            inventory_path=path,
            bind_host="127.0.0.1",
            bind_port=0,
            inventory_watch_s=0,
        )
        draft = Lab(None, server, hosts, path, "", {}, client_key, server.port)  # type: ignore[arg-type]
        draft.write([h.name for h in hosts[:2]])
        running = await start(settings, load_inventory(path))
        try:
            auth = AuthService(running.ego.store.engine)
            for role in ROLES:
                auth.add_user(role, PASSWORD, role)
                draft.tokens[role] = auth.create_token(role, "operate", user=role)[1]
            draft.running = running
            async for address in _serve(running.app):
                draft.address = address
                yield draft
        finally:
            await running.stop()


def up(lab: Lab, name: str) -> bool:
    poller = lab.running.ego.scheduler.poller(name)
    return poller is not None and poller.state == "up"


def stored_state(lab: Lab, name: str) -> str | None:
    row = lab.running.ego.store.host_row(name)
    return str(row.state) if row is not None else None


async def hosts_listed(lab: Lab) -> dict[str, dict[str, Any]]:
    async with lab.client("viewer") as c:
        response = await c.get("/api/hosts")
    assert response.status_code == 200, response.text
    return {h["name"]: h for h in response.json()}


async def overview_names(lab: Lab, *, expect: str | None, gone: str | None = None) -> set[str]:
    """The fleet table's names, once it shows ``expect`` / no longer ``gone`` (it is cached
    for up to 2 s)."""
    names: set[str] = set()
    async with lab.client("viewer") as client:
        for _ in range(50):
            response = await client.get("/api/overview")
            assert response.status_code == 200, response.text
            names = {h["name"] for h in response.json()["hosts"]}
            if (expect is None or expect in names) and (gone is None or gone not in names):
                break
            await asyncio.sleep(0.2)
    return names


async def test_reload_adds_removes_and_leaves_the_rest_alone(lab: Lab) -> None:
    a, b, c = (h.name for h in lab.hosts[:3])
    scheduler = lab.running.ego.scheduler
    await eventually(lambda: up(lab, a) and up(lab, b))
    kept_poller, kept_conn = scheduler.poller(a), scheduler.poller(a)._conn  # type: ignore[union-attr]
    kept_server_side = set(lab.server.connections[a])
    assert kept_server_side

    lab.write([a, b, c])
    async with lab.client("admin") as client:
        response = await client.post("/api/admin/inventory/reload")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["added"] == [c] and report["removed"] == [] and report["changed"] == []
    await eventually(lambda: up(lab, c) and lab.server.connections[c])
    await eventually(lambda: stored_state(lab, c) == "up")  # polled and written
    assert (await hosts_listed(lab))[c]["state"] == "up"
    assert c in await overview_names(lab, expect=c)
    monitor = lab.running.ego.network.monitor  # type: ignore[union-attr]
    assert monitor.known.get(lab.hosts[2].address) == c  # the ICMP round pings it too

    lab.write([a, c])
    async with lab.client("admin") as client:
        response = await client.post("/api/admin/inventory/reload")
    assert response.status_code == 200, response.text
    assert response.json()["removed"] == [b]
    assert scheduler.poller(b) is None and not scheduler.loop_running(b)
    await eventually(lambda: not lab.server.connections[b])  # its connection was closed
    assert b not in await hosts_listed(lab)
    assert b not in await overview_names(lab, expect=None, gone=b)
    assert lab.hosts[1].address not in monitor.known

    # The untouched host kept its loop object and its one SSH connection throughout.
    assert scheduler.poller(a) is kept_poller and kept_poller._conn is kept_conn  # type: ignore[union-attr]
    assert set(lab.server.connections[a]) == kept_server_side
    entries = await asyncio.to_thread(
        AuditLog(lab.running.ego.store.engine).entries, action="inventory.reload"
    )
    assert [e.actor for e in entries[:2]] == ["admin", "admin"]
    assert entries[1].detail["added"] == [c] and entries[0].detail["removed"] == [b]
    assert entries[0].result == "applied"


async def test_changed_connection_restarts_only_that_host(lab: Lab) -> None:
    a, b = (h.name for h in lab.hosts[:2])
    scheduler = lab.running.ego.scheduler
    await eventually(lambda: up(lab, a) and up(lab, b))
    old_a, old_b = scheduler.poller(a), scheduler.poller(b)
    lab.write([a, b], **{a: {"ssh": {"connect_timeout_s": 3}}, b: {"tags": ["new-tag"]}})
    result = await lab.running.reloader.reload("tester", "test")
    assert result.change.restarted == (a,) and result.change.updated == (b,)
    assert scheduler.poller(a) is not old_a and scheduler.poller(b) is old_b
    assert scheduler.poller(b).host.tags == ("new-tag",)  # type: ignore[union-attr]
    await eventually(lambda: up(lab, a))
    assert (await hosts_listed(lab))[b]["tags"] == ["new-tag"]


async def test_broken_file_is_refused_with_lines_and_polling_goes_on(lab: Lab) -> None:
    a, b = (h.name for h in lab.hosts[:2])
    await eventually(lambda: up(lab, a))
    polls = lab.running.ego.scheduler.stats.polls
    data = lab.data([a, b])
    data["poll"]["interval_s"] = -1
    data["hosts"].append({"name": "broken", "address": "not an address"})
    text = HEADER + yaml.safe_dump(data, sort_keys=False)
    lab.path.write_text(text)
    line = text.splitlines().index("  address: not an address") + 1
    async with lab.client("admin") as client:
        response = await client.post("/api/admin/inventory/reload")
    assert response.status_code == 422, response.text
    body = response.json()
    problems = body["detail"]["problems"]
    assert any(p.startswith(f"{lab.path}:") and "poll.interval_s" in p for p in problems)
    assert any(p.startswith(f"{lab.path}:{line} hosts[2].address") for p in problems), problems
    assert "running inventory stays" in body["error"]
    assert "Traceback" not in response.text
    # Still the old inventory, still polling both hosts.
    assert {h.name for h in lab.running.reloader.current.get().hosts_resolved()} == {a, b}
    await eventually(lambda: lab.running.ego.scheduler.stats.polls >= polls + 3)
    assert up(lab, a) and up(lab, b)
    entries = await asyncio.to_thread(
        AuditLog(lab.running.ego.store.engine).entries, action="inventory.reload"
    )
    assert entries[0].result == "refused" and entries[0].detail["count"] == len(problems)


async def test_sighup_and_file_watch_reload(lab: Lab) -> None:
    a, b, c, d = (h.name for h in lab.hosts)
    assert _on_sighup(lab.running.reloader)
    try:
        lab.write([a, b, c])
        os.kill(os.getpid(), signal.SIGHUP)
        await eventually(lambda: lab.running.ego.scheduler.poller(c) is not None)
    finally:
        asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
    watch = asyncio.create_task(lab.running.reloader.watch(0.1))
    try:
        lab.write([a, b, c, d])
        await eventually(lambda: lab.running.ego.scheduler.poller(d) is not None)
        await eventually(lambda: up(lab, d))
    finally:
        watch.cancel()
    entries = await asyncio.to_thread(
        AuditLog(lab.running.ego.store.engine).entries, action="inventory.reload"
    )
    assert [(e.actor, e.via) for e in entries[:2]] == [("ego", "file-watch"), ("ego", "signal")]


async def test_adopt_over_the_api_keeps_comments_and_polls_it(lab: Lab) -> None:
    newcomer = lab.hosts[3]
    before = lab.path.read_text()
    async with lab.client("admin") as client:
        response = await client.post(
            f"/api/discovered/{newcomer.address}/adopt",
            json={"name": "newcomer", "tags": ["adopted"]},
        )
        assert response.status_code == 201, response.text
        assert response.json()["reload"]["added"] == ["newcomer"]
        again = await client.post(
            f"/api/discovered/{newcomer.address}/adopt", json={"name": "twice"}
        )
        assert again.status_code == 409, again.text
        bad = await client.post("/api/discovered/127.78.6.99/adopt", json={"name": "no spaces"})
        assert bad.status_code == 422, bad.text
        assert str(lab.path) in bad.text and "Traceback" not in bad.text
    after = lab.path.read_text()
    assert after.startswith(before) and HEADER in after and "# adopted from discovery" in after
    assert load_inventory(lab.path).hosts[-1].name == "newcomer"
    await eventually(lambda: up(lab, "newcomer"))
    assert "newcomer" in await hosts_listed(lab)
    entries = await asyncio.to_thread(
        AuditLog(lab.running.ego.store.engine).entries, action="inventory.adopt"
    )
    assert len(entries) == 1 and entries[0].target == newcomer.address
    assert entries[0].actor == "admin"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/admin/inventory/reload", None),
        ("POST", "/api/discovered/127.78.6.13/adopt", {"name": "x"}),
    ],
)
async def test_only_admins_change_the_inventory(
    lab: Lab, method: str, path: str, body: Any
) -> None:
    before = lab.path.read_text()
    for who in ("viewer", "operator"):
        async with lab.client(who) as client:
            response = await client.request(method, path, json=body)
        assert response.status_code == 403, (who, response.text)
        assert "error" in response.json()
    assert lab.path.read_text() == before
