"""The poller against the simulated lab: reboots, hosts that go away and come back, many
hosts at once through the scheduler, writer and store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec
import pytest

from lab import LabServer, SimHost, ensure_keys, lab_inventory, make_lab
from mirror.inventory import HostConfig, Inventory
from mirror.live import LiveHub
from mirror.model import HostState
from mirror.storage import Store
from poller.host import HostPoller
from poller.scheduler import Scheduler
from poller.ssh import KnownHosts
from poller.writer import BatchWriter


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return ensure_keys(tmp_path_factory.mktemp("labkeys"))


def poll_inventory(
    lab: list[SimHost], client_key: Path, port: int, interval_s: float = 5
) -> Inventory:
    return Inventory.from_dict(
        {
            "poll": {"interval_s": interval_s, "timeout_s": min(interval_s, 4)},
            **lab_inventory(lab, client_key, port),
        }
    )


def one_poller(host: HostConfig, tmp_path: Path) -> HostPoller:
    return HostPoller(host, KnownHosts(tmp_path / "kh"), interval_s=1, timeout_s=2, slow_every_s=30)


async def test_reboot_gives_no_rates_and_no_negative_values(keys, tmp_path: Path) -> None:
    host_key, client_key, client_pub = keys
    lab = make_lab(1, start=60, seed="reboot")
    async with LabServer(lab, 0, host_key, client_pub) as server:
        host = poll_inventory(lab, client_key, server.port).hosts_resolved()[0]
        poller = one_poller(host, tmp_path)
        try:
            await poller.poll()
            await asyncio.sleep(0.2)
            before = await poller.poll()
            assert before.snapshot and "net.rx_bytes_per_s[eth0]" in before.snapshot.metrics
            server.reboot(lab[0].name)
            dropped = await poller.poll()  # the reboot closed the connection
            assert dropped.status.state in (HostState.UNREACHABLE, HostState.ERROR)
            after = await poller.poll()
        finally:
            await poller.close()
    assert after.status.state is HostState.UP, after.status.error
    assert after.snapshot is not None
    metrics = after.snapshot.metrics
    assert metrics["uptime_s"] < before.snapshot.metrics["uptime_s"]
    assert not any("_per_s" in name for name in metrics), "no rates across a reboot"
    assert all(value >= 0 for value in metrics.values())


async def test_host_down_then_back(keys, tmp_path: Path) -> None:
    host_key, client_key, client_pub = keys
    lab = make_lab(1, start=70, seed="flap")
    async with LabServer(lab, 0, host_key, client_pub) as server:
        host = poll_inventory(lab, client_key, server.port).hosts_resolved()[0]
        poller = one_poller(host, tmp_path)
        try:
            assert (await poller.poll()).status.state is HostState.UP
            server.set_down(lab[0].name, True)
            down = await poller.poll()
            assert down.status.state is HostState.UNREACHABLE
            server.set_down(lab[0].name, False)
            await server.settle()
            back = await poller.poll()
        finally:
            await poller.close()
    assert back.status.state is HostState.UP, back.status.error


async def test_lab_of_24_through_scheduler_writer_store_and_hub(keys, tmp_path: Path) -> None:
    host_key, client_key, client_pub = keys
    lab = make_lab(24, start=100, seed="fleet")
    store = Store.open(f"sqlite:///{tmp_path / 'lab.db'}")
    store.upgrade()
    hub = LiveHub()
    events: list[dict] = []

    async def listen() -> None:
        async for event in hub.subscribe():
            events.append(msgspec.to_builtins(event))  # as /api/live sends it

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0)
    async with LabServer(lab, 0, host_key, client_pub) as server:
        inventory = poll_inventory(lab, client_key, server.port, interval_s=1)
        writer = BatchWriter(store, hub, flush_interval_s=0.1)
        scheduler = Scheduler(
            inventory.hosts_resolved(),
            KnownHosts(tmp_path / "kh"),
            writer.submit,
            interval_s=1,
            timeout_s=1,
            slow_every_s=30,
        )
        writer_task = asyncio.create_task(writer.run())
        await scheduler.start()
        await asyncio.sleep(3.5)
        await scheduler.stop()
        writer_task.cancel()
        await writer.flush()
    listener.cancel()
    rows = {row.name: row for row in store.host_rows()}
    assert set(rows) == {h.name for h in lab}
    assert all(row.state is HostState.UP for row in rows.values())
    assert all(row.info.get("os") for row in rows.values()), "identity from the slow sample"
    busy = rows[lab[1].name].metrics["cpu.busy_pct"]
    assert 0 <= busy <= 100
    points = store.series(lab[0].name, "cpu.busy_pct", 0, 2**40)
    assert len(points) >= 2
    assert {e["host"] for e in events} == {h.name for h in lab}
    assert all(e["type"] == "host" for e in events)
    store.close()
