"""ICMP loops into storage and the API, discovered addresses, Wake-on-LAN and adopt.

Everything is on loopback: 127.x answers ping, the magic packet goes to a UDP listener on
127.0.0.1 that checks it, and the API runs in-process.
"""

from __future__ import annotations

import asyncio
import difflib
import re
import shutil
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from collectors.neighbours import Neighbour
from mirror.audit import AuditLog
from mirror.auth import AuthService
from mirror.errors import ConfigError
from mirror.inventory import Inventory, load_inventory
from mirror.inventory.adopt import adopt_host
from mirror.live import LiveHub
from mirror.model import HostState, PollStatus, ping_key
from mirror.storage import Store
from poller.host import PollResult
from poller.icmp import IcmpAccess, IcmpMode, PingResult, SweepResult, detect_icmp
from poller.icmp_loop import IcmpMonitor, seen_from_rows
from poller.wol import (
    MAGIC_PACKET_BYTES,
    WakeError,
    WakeService,
    send_magic_packet,
    wake_target,
)

REPO = Path(__file__).resolve().parent.parent
MAC = "52:54:00:12:34:56"


@pytest.fixture(scope="module")
def access() -> IcmpAccess:
    found = detect_icmp()
    if not found.usable:
        pytest.skip(found.message)
    return found


class Listener:
    """A UDP socket on 127.0.0.1 that collects what it receives (the WoL target)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(5)
        self.port = self.sock.getsockname()[1]

    def receive(self) -> bytes:
        return self.sock.recvfrom(2048)[0]


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    yield found
    found.sock.close()


def lab(port: int = 9) -> dict[str, Any]:
    return {
        "poll": {"interval_s": 3},
        "subnets": [
            {
                "name": "lab",
                "cidr": "127.77.0.0/28",
                "sweep_interval_s": 5,
                "wol_broadcast": "127.0.0.1",
                "wol_port": port,
            }
        ],
        "hosts": [
            {"name": "alpha", "address": "127.77.0.1", "mac": MAC},
            {"name": "beta", "address": "127.77.0.2"},
        ],
    }


# --- Wake-on-LAN --------------------------------------------------------------------------


def test_wake_target_from_inventory_or_neighbours() -> None:
    inventory = Inventory.from_dict(lab(4009))
    alpha, beta = inventory.hosts_resolved()
    target = wake_target(alpha, inventory.subnets, {})
    assert (target.mac, target.mac_source) == (MAC, "inventory")
    assert (target.broadcast, target.port, target.subnet) == ("127.0.0.1", 4009, "lab")
    learnt = {"127.77.0.2": Neighbour("127.77.0.2", "02:00:00:00:00:02", "eth0", "STALE")}
    target = wake_target(beta, inventory.subnets, learnt)
    assert (target.mac, target.mac_source) == ("02:00:00:00:00:02", "neighbour table")
    with pytest.raises(WakeError, match=r"beta: no MAC address: add mac: "):
        wake_target(beta, inventory.subnets, {})


def test_wake_target_default_broadcast_and_missing_subnet() -> None:
    data = lab()
    del data["subnets"][0]["wol_broadcast"]
    inventory = Inventory.from_dict(data)
    alpha = inventory.hosts_resolved()[0]
    assert wake_target(alpha, inventory.subnets, {}).broadcast == "127.77.0.15"
    with pytest.raises(WakeError, match=r"127.77.0.1 is in no subnet of the inventory"):
        wake_target(alpha, [], {})


def test_magic_packet_reaches_a_loopback_listener(listener: Listener) -> None:
    inventory = Inventory.from_dict(lab(listener.port))
    target = wake_target(inventory.hosts_resolved()[0], inventory.subnets, {})
    report = send_magic_packet(target, 5.0)
    packet = listener.receive()
    assert len(packet) == MAGIC_PACKET_BYTES == 102
    assert packet == b"\xff" * 6 + bytes.fromhex(MAC.replace(":", "")) * 16
    assert report.sent_to == "127.0.0.1" and report.port == listener.port
    assert report.message == (
        f"sent a 102-byte magic packet for {MAC} to 127.0.0.1:{listener.port} (subnet lab)"
    )


def test_mirror_wake_sends_and_times_the_answer(
    listener: Listener,
    access: IcmpAccess,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import yaml

    from cli.main import main

    monkeypatch.setenv("MIRROR_DATA_DIR", str(tmp_path / "data"))  # the wake is audited there
    monkeypatch.delenv("MIRROR_DATABASE_URL", raising=False)
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(lab(listener.port)))
    assert main(["wake", "alpha", "-i", str(path), "--timeout", "5"]) == 0
    assert len(listener.receive()) == 102
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"alpha: sent a 102-byte magic packet for {MAC} to 127.0.0.1:")
    assert out[0].endswith("(MAC from the inventory)")
    assert out[-1].startswith("alpha: awake: answered ping ")
    assert main(["wake", "beta", "-i", str(path)]) == 1
    assert "beta: no MAC address" in capsys.readouterr().err


async def test_wake_service_watches_until_ping_answers(listener: Listener) -> None:
    events: list[dict[str, Any]] = []
    answers = iter([False, False, True])

    async def ping(address: str) -> bool:
        return next(answers)

    inventory = Inventory.from_dict(lab(listener.port))
    access = IcmpAccess(IcmpMode.PRIVILEGED, "test")
    service = WakeService(inventory, access, publish=events.append, timeout_s=5, ping=ping)
    report = service.start_wake("alpha")
    assert report["state"] == "waiting" and len(listener.receive()) == 102
    for _ in range(100):
        if events:
            break
        await asyncio.sleep(0.05)
    [event] = events
    assert event["type"] == "wake" and event["state"] == "awake"
    assert 1.5 < event["woke_after_s"] < 4  # two failed pings, one second apart
    assert service.wake_status("alpha")["state"] == "awake"
    with pytest.raises(ConfigError, match="unknown host 'nope'"):
        service.start_wake("nope")
    await service.close()


# --- ICMP loops, storage and the API -------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(f"sqlite:///{tmp_path / 'mirror.db'}")
    store.upgrade()
    yield store
    store.close()


@pytest.fixture
async def monitored(store: Store, access: IcmpAccess) -> AsyncIterator[Inventory]:
    """Ping the inventory hosts and sweep the /28 once, for real; write it all to ``store``."""
    inventory = Inventory.from_dict(lab())
    results: list[PollResult] = []
    neighbours = {"127.77.0.9": Neighbour("127.77.0.9", "02:00:00:00:00:09", "lo", "STALE")}
    monitor = IcmpMonitor(inventory, results.append, access=access, neighbours=lambda: neighbours)
    assert await monitor.ping_hosts_once()
    assert await monitor.sweep_once(inventory.subnets[0])
    store.write([r.snapshot for r in results if r.snapshot], [r.status for r in results])
    # alpha's SSH fails while it answers ping; beta's SSH works.
    now = time.time()
    store.write([], [PollStatus("alpha", HostState.UNREACHABLE, now, "connection refused")])
    store.write([], [PollStatus("beta", HostState.UP, now)])
    yield inventory


async def _client(store: Store, inventory: Inventory, **kw: Any) -> AsyncTestClient[Any]:
    _, secret = AuthService(store.engine).create_token("tests", "operate")
    app = create_app(store, LiveHub(), inventory, **kw)
    client = AsyncTestClient(app)
    client.headers["Authorization"] = f"Bearer {secret}"
    return client


async def test_hosts_show_ping_and_tell_ping_only_from_down(
    store: Store, monitored: Inventory
) -> None:
    async with await _client(store, monitored) as client:
        hosts = {h["name"]: h for h in (await client.get("/api/hosts")).json()}
        assert set(hosts) == {"alpha", "beta"}  # no ping/ rows among the hosts
        alpha = hosts["alpha"]
        assert alpha["state"] == "unreachable" and alpha["reachability"] == "ping-only"
        ping = alpha["ping"]
        assert ping["address"] == "127.77.0.1" and ping["up"] and ping["loss_pct"] == 0.0
        assert ping["rtt_min_ms"] <= ping["rtt_avg_ms"] <= ping["rtt_max_ms"]
        assert ping["first_seen"] <= ping["last_seen"]
        assert hosts["beta"]["reachability"] == "up"
        detail = (await client.get("/api/hosts/alpha/ping")).json()
        assert detail["reachability"] == "ping-only" and detail["ping"]["up"]
        stored = (await client.get("/api/hosts", params={"all": "true"})).json()
        assert [h["name"] for h in stored] == ["alpha", "beta"]


async def test_discovered_lists_answering_addresses_not_in_the_inventory(
    store: Store, monitored: Inventory
) -> None:
    async with await _client(store, monitored) as client:
        found = (await client.get("/api/discovered")).json()
    # The /28 has 14 host addresses; .1 and .2 are inventory hosts.
    assert [d["address"] for d in found] == [f"127.77.0.{i}" for i in range(3, 15)]
    nine = next(d for d in found if d["address"] == "127.77.0.9")
    assert nine["mac"] == "02:00:00:00:00:09" and nine["up"] and nine["last_seen"]
    assert series_points(store, "127.77.0.9", "ping.rtt_avg_ms") == 1


async def test_snmp_gear_in_the_inventory_is_not_discovered(
    store: Store, monitored: Inventory
) -> None:
    with_gear = Inventory.from_dict(
        {**lab(), "snmp": [{"name": "sw", "address": "127.77.0.9", "community_env": "C"}]}
    )
    async with await _client(store, with_gear) as client:
        found = (await client.get("/api/discovered")).json()
    assert "127.77.0.9" not in [d["address"] for d in found]
    assert "127.77.0.10" in [d["address"] for d in found]


def series_points(store: Store, address: str, metric: str) -> int:
    return len(store.series(ping_key(address), metric, 0, time.time() + 1))


async def test_wake_api(store: Store, listener: Listener) -> None:
    inventory = Inventory.from_dict(lab(listener.port))
    answered = asyncio.Event()

    async def ping(address: str) -> bool:
        answered.set()
        return True

    access = IcmpAccess(IcmpMode.PRIVILEGED, "test")
    wake = WakeService(inventory, access, timeout_s=3, ping=ping)
    async with await _client(store, inventory, wake=wake) as client:
        response = await client.post("/api/hosts/alpha/wake")
        assert response.status_code == 202, response.text
        body = response.json()
        assert body["sent_to"] == "127.0.0.1" and body["port"] == listener.port
        assert body["packet_bytes"] == 102 and body["mac"] == MAC
        assert len(listener.receive()) == 102
        await asyncio.wait_for(answered.wait(), 5)
        for _ in range(50):
            status = (await client.get("/api/hosts/alpha/wake")).json()
            if status["state"] == "awake":
                break
            await asyncio.sleep(0.05)
        assert status["state"] == "awake" and status["woke_after_s"] is not None
        missing = await client.post("/api/hosts/beta/wake")
        assert missing.status_code == 400 and "no MAC address" in missing.json()["error"]
        assert (await client.post("/api/hosts/nope/wake")).status_code == 404
    await wake.close()
    async with await _client(store, inventory) as client:
        assert (await client.post("/api/hosts/alpha/wake")).status_code == 503


async def test_seen_then_silent_address_is_written_as_down(monkeypatch: pytest.MonkeyPatch) -> None:
    import poller.icmp_loop as loop_module

    answers = [
        [PingResult("127.77.0.9", 1, 1, 0.1, 0.1, 0.1, 0.0)],
        [PingResult("127.77.0.9", 1, 0)],
    ]

    async def fake_sweep(network: Any, **kw: Any) -> SweepResult:
        return SweepResult(str(network), answers.pop(0), 0.0, 0.01)

    monkeypatch.setattr(loop_module, "sweep", fake_sweep)
    inventory = Inventory.from_dict(lab())
    results: list[PollResult] = []
    clock = iter([100.0, 130.0])
    monitor = IcmpMonitor(
        inventory,
        results.append,
        access=IcmpAccess(IcmpMode.PRIVILEGED, "test"),
        neighbours=dict,
        resolver=None,
        clock=lambda: next(clock),
    )
    await monitor.sweep_once(inventory.subnets[0])
    await monitor.sweep_once(inventory.subnets[0])
    up, down = results
    assert up.status.state == HostState.UP and down.status.state == HostState.UNREACHABLE
    assert down.snapshot is not None and down.snapshot.metrics == {
        "ping.up": 0.0,
        "ping.loss_pct": 100.0,
    }
    assert down.snapshot.info["first_seen"] == 100.0 and down.snapshot.info["last_seen"] == 100.0
    assert down.status.error == "no echo reply to 1 ping(s) within 1 s"


def test_seen_from_stored_rows(store: Store) -> None:
    from mirror.model import Snapshot

    info = {"first_seen": 10.0, "last_seen": 20.0}
    store.write([Snapshot(ping_key("127.77.0.9"), 20.0, {"ping.up": 1.0}, info)], [])
    store.write([Snapshot("alpha", 20.0, {"cpu.busy_pct": 1.0}, info)], [])
    assert seen_from_rows(store.host_rows()) == {"127.77.0.9": (10.0, 20.0)}


# --- adopt ---------------------------------------------------------------------------------


def test_adopt_keeps_comments_and_validates(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    shutil.copy(REPO / "inventory.yaml", path)
    before = path.read_text()
    adopt_host(path, "nas", "10.0.0.20", mac="aa:bb:cc:dd:ee:01", tags=["adopted"])
    after = path.read_text()
    kept = [line for line in before.splitlines() if line.lstrip().startswith("#")]
    assert all(line in after.splitlines() for line in kept)
    # Only added lines: the comment and the entry (block style, as the host before it).
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    assert not [d for d in diff if d.startswith("- ")]
    added = [d[2:] for d in diff if d.startswith("+ ")]
    assert added[0].startswith("  # adopted from discovery on ") and added[1:] == [
        "  - name: nas",
        "    address: 10.0.0.20",
        "    mac: aa:bb:cc:dd:ee:01",
        "    tags: [adopted]",
    ]
    hosts = {h.name: h for h in load_inventory(path).hosts_resolved()}
    assert hosts["nas"].address == "10.0.0.20" and hosts["nas"].mac == "aa:bb:cc:dd:ee:01"


def test_adopt_refuses_what_would_break_the_inventory(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text("# mine\nhosts:\n  - {name: ego, address: 127.0.0.1, local: true}\n")
    before = path.read_text()
    with pytest.raises(ConfigError) as info:
        adopt_host(path, "ego", "127.77.0.9")
    assert str(info.value) == (
        "not adopted, the inventory would be invalid:\n"
        f"{path}:5 hosts[1].name: duplicate name 'ego': already used by hosts[0]"
    )
    with pytest.raises(ConfigError, match=r"hosts\[1\].name: must be letters, digits"):
        adopt_host(path, "bad name", "127.77.0.9")
    assert path.read_text() == before
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind


ADOPTED = "# adopted from discovery on "


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hosts: []\n", "hosts:\n  #\n  - name: b\n    address: 127.0.0.2\n"),
        (
            "poll: {interval_s: 5}",
            "poll: {interval_s: 5}\nhosts:\n  #\n  - name: b\n    address: 127.0.0.2\n",
        ),
        (
            "hosts:\n- name: a\n  address: 127.0.0.1\n\n# end\n",
            "hosts:\n- name: a\n  address: 127.0.0.1\n#\n- name: b\n  address: 127.0.0.2\n"
            "\n# end\n",
        ),
        # A [flow] list (refused when adopt edited text) takes one more entry of its style.
        (
            "hosts: [{name: a, address: 127.0.0.1}]\n",
            "hosts: [{name: a, address: 127.0.0.1}, {name: b, address: 127.0.0.2}]\n",
        ),
    ],
)
def test_adopt_shapes(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(text)
    adopt_host(path, "b", "127.0.0.2")
    assert re.sub(rf"{ADOPTED}\S+", "#", path.read_text()) == expected  # "#": the date


def test_mirror_adopt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli.main import main

    monkeypatch.setenv("MIRROR_DATA_DIR", str(tmp_path / "data"))  # the adopt is audited there
    monkeypatch.delenv("MIRROR_DATABASE_URL", raising=False)
    path = tmp_path / "inventory.yaml"
    path.write_text("subnets: [{name: lab, cidr: 127.77.0.0/24}]\nhosts: []\n")
    assert main(["adopt", "127.77.0.9", "--name", "printer", "--tag", "new", "-i", str(path)]) == 0
    assert "added host printer (127.77.0.9)" in capsys.readouterr().out
    [host] = load_inventory(path).hosts_resolved()
    assert (host.name, host.address, host.tags) == ("printer", "127.77.0.9", ("new",))
    assert main(["adopt", "nope", "--name", "x", "-i", str(path)]) == 1
    assert "'nope' is not an IP address" in capsys.readouterr().err


def test_mirror_adopt_dry_run_then_audited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli.main import main
    from mirror.settings import Settings
    from mirror.storage import Store

    monkeypatch.setenv("MIRROR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("MIRROR_DATABASE_URL", raising=False)
    path = tmp_path / "inventory.yaml"
    path.write_text("# mine\nhosts: []\n")
    args = ["adopt", "127.77.0.9", "--name", "printer", "--mac", "aa:bb:cc:dd:ee:09"]
    assert main([*args, "--dry-run", "-i", str(path)]) == 0
    out = capsys.readouterr().out
    assert "+  - name: printer\n" in out and "not written (--dry-run)" in out
    assert path.read_text() == "# mine\nhosts: []\n"
    assert not (tmp_path / "data").exists()  # nothing written, nothing audited
    assert main([*args, "-i", str(path)]) == 0
    store = Store.open(Settings.from_env().database_url)
    try:
        [entry] = AuditLog(store.engine).entries(action="inventory.")
    finally:
        store.close()
    assert (entry.action, entry.target, entry.via) == ("inventory.adopt", "127.77.0.9", "cli")
    assert entry.detail is not None and entry.detail["edits"] == ["add host printer"]


async def test_ping_series_of_an_address(store: Store, monitored: Inventory) -> None:
    async with await _client(store, monitored) as client:
        response = await client.get(
            "/api/ping/127.77.0.1/series", params={"metric": "ping.rtt_avg_ms", "from": "-1h"}
        )
        assert response.status_code == 200, response.text
        [point] = response.json()["points"]
        assert point[1] >= 0
        wrong = await client.get("/api/ping/127.77.0.1/series", params={"metric": "cpu.busy_pct"})
        assert wrong.status_code == 400 and "not an ICMP series" in wrong.json()["error"]
