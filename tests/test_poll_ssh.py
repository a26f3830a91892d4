"""Poll a real OpenSSH server on loopback, and break it in the ways real hosts break."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mirror.inventory import HostConfig, Inventory
from mirror.model import HostState
from poller.host import HostPoller
from poller.scheduler import Scheduler
from poller.ssh import KnownHosts
from tests.support.sshd import Sshd, free_port, keygen


def host_config(sshd: Sshd, address: str | None = None, **ssh: Any) -> HostConfig:
    settings = sshd.ssh_settings(connect_timeout_s=3) | ssh
    inventory = Inventory.from_dict(
        {"hosts": [{"name": "box", "address": address or sshd.ok_address, "ssh": settings}]}
    )
    return inventory.hosts_resolved()[0]


def poller_for(host: HostConfig, known_hosts: Path, timeout_s: float = 3.0) -> HostPoller:
    return HostPoller(
        host, KnownHosts(known_hosts), interval_s=5, timeout_s=timeout_s, slow_every_s=30
    )


def meminfo_total_bytes() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no MemTotal")


async def test_poll_reads_this_machine_through_real_sshd(sshd: Sshd, tmp_path: Path) -> None:
    poller = poller_for(host_config(sshd), tmp_path / "known_hosts")
    try:
        first = await poller.poll()
        assert first.status.state is HostState.UP, first.status.error
        await asyncio.sleep(0.3)
        second = await poller.poll()
    finally:
        await poller.close()
    assert second.snapshot is not None
    metrics = second.snapshot.metrics
    assert metrics["mem.total_bytes"] == meminfo_total_bytes()
    cores = {name for name in metrics if name.startswith("cpu.busy_pct[")}
    assert len(cores) == os.cpu_count()
    assert 0 <= metrics["cpu.busy_pct"] <= 100
    assert any(name.startswith("net.rx_bytes_per_s[") for name in metrics)
    assert any(name.startswith("fs.used_pct[") for name in metrics), "no real filesystem"
    info = first.snapshot.info if first.snapshot else {}
    assert info["kernel"] == os.uname().release
    assert info["cpu_count"] == os.cpu_count()
    assert info["top_mem"], "no processes listed"
    assert info["top_cpu"] == [], "CPU shares need two samples"


async def test_connection_is_reused_between_polls(sshd: Sshd, tmp_path: Path) -> None:
    poller = poller_for(host_config(sshd), tmp_path / "known_hosts")
    try:
        await poller.poll()
        conn = poller._conn
        for _ in range(3):
            result = await poller.poll()
            assert result.status.state is HostState.UP
        assert poller._conn is conn and conn is not None
    finally:
        await poller.close()


async def test_unreachable_port_is_a_state(sshd: Sshd, tmp_path: Path) -> None:
    host = host_config(sshd, port=free_port(sshd.ok_address))
    poller = poller_for(host, tmp_path / "known_hosts")
    result = await poller.poll()
    assert result.status.state is HostState.UNREACHABLE
    assert "refused" in (result.status.error or "")
    assert result.snapshot is None


async def test_wrong_key_is_auth_failed(sshd: Sshd, tmp_path: Path) -> None:
    stranger = keygen(tmp_path / "stranger")
    poller = poller_for(host_config(sshd, key_file=str(stranger)), tmp_path / "known_hosts")
    result = await poller.poll()
    assert result.status.state is HostState.AUTH_FAILED
    assert sshd.user in (result.status.error or "")
    # Backs off for minutes instead of retrying every interval.
    assert not poller.due(time.monotonic() + 60)


async def test_unknown_host_key_without_tofu(sshd: Sshd, tmp_path: Path) -> None:
    host = host_config(sshd, trust_on_first_use=False)
    result = await poller_for(host, tmp_path / "known_hosts").poll()
    assert result.status.state is HostState.HOSTKEY_UNKNOWN
    assert "mirror trust box" in (result.status.error or "")


async def test_tofu_records_key_once(sshd: Sshd, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    poller = poller_for(host_config(sshd), known)
    assert (await poller.poll()).status.state is HostState.UP
    await poller.close()
    assert (await poller.poll()).status.state is HostState.UP
    await poller.close()
    lines = known.read_text().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"[{sshd.ok_address}]:{sshd.port} ssh-ed25519 ")


async def test_hang_times_out_without_delaying_other_hosts(sshd: Sshd, tmp_path: Path) -> None:
    inventory = Inventory.from_dict(
        {
            "poll": {"interval_s": 1, "timeout_s": 0.8, "slow_every_s": 30},
            "defaults": {"ssh": sshd.ssh_settings()},
            "hosts": [
                {"name": "good", "address": sshd.ok_address},
                {"name": "hangs", "address": sshd.hang_address},
            ],
        }
    )
    results: list[Any] = []
    scheduler = Scheduler(
        inventory.hosts_resolved(),
        KnownHosts(tmp_path / "known_hosts"),
        results.append,
        interval_s=1,
        timeout_s=0.8,
        slow_every_s=30,
    )
    await scheduler.start()
    await asyncio.sleep(4.5)
    await scheduler.stop()
    by_host: dict[str, list[Any]] = {}
    for r in results:
        by_host.setdefault(r.status.host, []).append(r.status)
    assert by_host["hangs"][0].state is HostState.TIMEOUT
    assert "0.8 s" in by_host["hangs"][0].error
    good = by_host["good"]
    assert len(good) >= 3 and all(s.state is HostState.UP for s in good)
    assert max(scheduler.stats.lateness_s) < 0.25


async def test_garbage_output_is_an_error_state(sshd: Sshd, tmp_path: Path) -> None:
    poller = poller_for(host_config(sshd, address=sshd.garbage_address), tmp_path / "kh")
    result = await poller.poll()
    assert result.status.state is HostState.ERROR
    assert "instead of a frame" in (result.status.error or "")


async def test_changed_host_key_refuses_to_poll(sshd: Sshd, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    poller = poller_for(host_config(sshd), known)
    assert (await poller.poll()).status.state is HostState.UP
    await poller.close()
    sshd.restart_with_new_host_key()
    fresh = poller_for(host_config(sshd), known)
    result = await fresh.poll()
    assert result.status.state is HostState.HOSTKEY_CHANGED
    assert "mirror trust box" in (result.status.error or "")
    assert len(known.read_text().splitlines()) == 1, "a changed key must never be re-recorded"


async def test_local_host_needs_no_ssh(tmp_path: Path) -> None:
    inventory = Inventory.from_dict(
        {"hosts": [{"name": "ego", "address": "127.0.0.1", "local": True}]}
    )
    poller = poller_for(inventory.hosts_resolved()[0], tmp_path / "kh")
    try:
        result = await poller.poll()
    finally:
        await poller.close()
    assert result.status.state is HostState.UP, result.status.error
    assert result.snapshot and result.snapshot.metrics["mem.total_bytes"] == meminfo_total_bytes()


@pytest.mark.parametrize("shell", ["bash", "dash"])
async def test_reflector_frames_agree_between_shells(shell: str) -> None:
    from collectors.frame import parse_frame
    from collectors.linux.kind import KIND as LINUX

    proc = await asyncio.create_subprocess_exec(
        shell,
        "-c",
        LINUX.program,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate(b"s\nq\n")
    frame = parse_frame(out)
    assert frame.kind == "s"
    assert frame.files["/proc/meminfo"].startswith("MemTotal:")
    assert frame.files["/proc/loadavg"].count(" ") == 4


async def test_keys_recorded_on_first_use_make_one_log_line(
    sshd: Sshd, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Three hosts met for the first time at once: one warning naming all three and the
    key's fingerprint, not one per host (the demo's 24 hosts made 24)."""
    from poller import first_use

    addresses = {"one": sshd.ok_address, "two": sshd.hang_address, "three": sshd.garbage_address}
    known = KnownHosts(tmp_path / "known_hosts")
    pollers = []
    for name, address in addresses.items():
        host = host_config(sshd, address=address)
        pollers.append(
            HostPoller(replace(host, name=name), known, interval_s=5, timeout_s=2, slow_every_s=30)
        )
    caplog.set_level("WARNING", logger="poller.ssh")
    try:
        await asyncio.gather(*(p.poll() for p in pollers))
        await asyncio.sleep(first_use.QUIET_S + 0.5)
    finally:
        await asyncio.gather(*(p.close() for p in pollers))
    lines = [r.getMessage() for r in caplog.records if "first use" in r.getMessage()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("recorded host keys on first use for 3 hosts: SHA256:")
    assert all(name in lines[0] for name in addresses)
    for address in addresses.values():
        assert known.recorded_keys(address, sshd.port)


async def test_a_host_back_is_polled_within_one_interval_not_after_its_backoff(
    tmp_path: Path,
) -> None:
    """A real sshd stopped while polled (refused: backing off, 8 s after four failures),
    then started: the loop's look at the SSH port between backed-off polls finds it, and
    the host is up within one interval (1 s here), not when the backoff ends."""
    import tempfile

    from poller import scheduler
    from tests.support.sshd import start_sshd

    root = Path(tempfile.mkdtemp(prefix="mirror-sshd-back-"))  # sshd reads it as the user
    server = start_sshd(root)
    poller = HostPoller(
        host_config(server),
        KnownHosts(tmp_path / "kh"),
        interval_s=1,
        timeout_s=2,
        slow_every_s=30,
    )
    task = None
    try:
        assert (await poller.poll()).status.state is HostState.UP
        server.stop()  # its session processes live on: the poller drops its connection
        await poller.close()
        for _ in range(4):
            result = await poller.poll()
        assert result.status.state is HostState.UNREACHABLE, result.status.error
        assert poller.health.next_due - time.monotonic() > 5  # backing off: 8 s
        assert not poller.due() and not await poller.ready()  # the port is closed
        server.start()
        back = time.monotonic()
        assert not poller.due() and await poller.ready()  # its banner answers

        up = asyncio.Event()

        async def step(slot: float) -> None:
            if (await poller.poll()).status.state is HostState.UP:
                up.set()

        task = asyncio.create_task(scheduler.every("box", 1.0, step, due=poller.ready))
        await asyncio.wait_for(up.wait(), 3)
        assert time.monotonic() - back < 2.5  # one interval (plus the poll), not 8 s
    finally:
        if task is not None:
            task.cancel()
        await poller.close()
        server.stop()


async def test_a_hung_server_is_not_probed_back_into_polling(sshd: Sshd, tmp_path: Path) -> None:
    """Commands that hang once connected: the port answers a probe, so no probe is made;
    the backoff stands."""
    poller = poller_for(host_config(sshd, address=sshd.hang_address), tmp_path / "kh", 1.0)
    try:
        for _ in range(3):
            result = await poller.poll()
        assert result.status.state is HostState.TIMEOUT
        assert not poller.due() and not await poller.ready()
    finally:
        await poller.close()
