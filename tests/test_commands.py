"""The command runner against the real OpenSSH server (and the simulator for many hosts)."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lab import LabServer, ensure_keys, lab_inventory, make_lab
from mirror.control import CancelToken, CommandRequest, OutputEvent, ResultState
from mirror.control.output import PGID_TAG, OutputCap, PgidFilter, sudo_refusal, wrap_command
from mirror.inventory import HostConfig, Inventory
from poller.commands import OwnConnections, PollerConnections, run_command
from poller.host import HostPoller
from poller.ssh import KnownHosts
from tests.support.sshd import Sshd, free_port


def inventory_for(sshd: Sshd, **ssh: Any) -> Inventory:
    settings = sshd.ssh_settings(connect_timeout_s=3) | ssh
    return Inventory.from_dict(
        {
            "groups": {"lab": {}},
            "hosts": [
                {"name": "box", "address": sshd.ok_address, "groups": ["lab"], "ssh": settings},
                {
                    "name": "gone",
                    "address": "127.0.0.1",
                    "ssh": {**settings, "port": free_port()},  # nothing listens there
                },
            ],
        }
    )


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder the login user (not root) may write into."""
    path = Path(tempfile.mkdtemp(prefix="mirror-cmd-"))
    path.chmod(0o1777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
async def source(sshd: Sshd, tmp_path: Path) -> Any:
    conns = OwnConnections(inventory_for(sshd).hosts_resolved(), KnownHosts(tmp_path / "kh"))
    yield conns
    await conns.close()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def gone_within(pids: list[int], seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(alive(p) for p in pids):
            return True
        await asyncio.sleep(0.05)
    return False


async def run(source: Any, command: str, hosts: tuple[str, ...] = ("box",), **kw: Any) -> Any:
    events: list[OutputEvent] = []
    results = await run_command(source, CommandRequest(command, hosts, **kw), events.append)
    return results, events


# --- pure pieces ------------------------------------------------------------------------


def test_output_cap_keeps_head_and_tail_and_full_size() -> None:
    cap = OutputCap(10)
    for chunk in (b"abc", b"defgh", b"ijklmnop", b"qrstuvwxyz"):
        cap.add(chunk)
    assert cap.total_bytes == 26
    assert cap.truncated
    assert cap.text() == "abcde\n… [16 bytes omitted] …\nvwxyz"
    small = OutputCap(100)
    small.add(b"hello")
    assert small.text() == "hello" and not small.truncated


def test_pgid_filter_takes_the_announcement_out() -> None:
    f = PgidFilter()
    assert f.feed(PGID_TAG[:5]) == b""
    assert f.feed(PGID_TAG[5:] + b"4242\nboom\n") == b"boom\n"
    assert f.pgid == 4242
    assert f.feed(b"more") == b"more"
    noisy = PgidFilter()
    assert noisy.feed(b"motd line\n" + PGID_TAG + b"7\nerr") == b"motd line\nerr"
    assert noisy.pgid == 7
    plain = PgidFilter()  # a host that never announces (the simulator, a non-POSIX shell)
    assert plain.feed(b"sh: 1: x: not found\n") == b"sh: 1: x: not found\n"
    assert plain.pgid is None


def test_wrap_and_sudo_refusal() -> None:
    assert wrap_command("df -h", sudo=False).endswith("; df -h")
    assert wrap_command("echo 'a b'; id", sudo=True).endswith(
        "sudo -n -- sh -c 'echo '\"'\"'a b'\"'\"'; id'"
    )
    assert "password" in (sudo_refusal(b"sudo: a password is required\n", 1) or "")
    assert "not installed" in (sudo_refusal(b"sh: 1: sudo: not found\n", 127) or "")
    assert sudo_refusal(b"", 0) is None


# --- against the real OpenSSH server -----------------------------------------------------


async def test_stdout_and_stderr_stream_in_order_with_exit_status(source: Any) -> None:
    script = "echo out1; sleep 0.3; echo err1 >&2; sleep 0.3; echo out2; exit 3"
    [result], events = await run(source, script)
    assert [(e.stream, e.text) for e in events] == [
        ("stdout", "out1\n"),
        ("stderr", "err1\n"),
        ("stdout", "out2\n"),
    ]
    assert result.state is ResultState.FAILED
    assert result.exit_status == 3
    assert result.stdout == "out1\nout2\n" and result.stderr == "err1\n"
    assert 0.5 < result.duration_s < 3


async def test_exit_zero_signal_and_utf8(source: Any) -> None:
    [ok], _ = await run(source, "printf '한국어 ok\\n'")
    assert ok.state is ResultState.OK and ok.exit_status == 0
    assert ok.stdout == "한국어 ok\n"
    [killed], _ = await run(source, "kill -KILL $$")
    assert killed.state is ResultState.FAILED and killed.exit_signal == "KILL"


async def test_timeout_kills_the_remote_process_and_its_children(
    source: Any, shared_dir: Path
) -> None:
    pid, child = shared_dir / "pid", shared_dir / "child"
    script = f"echo $$ > {pid}; sleep 60 & echo $! > {child}; echo started; wait"
    started = time.monotonic()
    [result], events = await run(source, script, timeout_s=1.0)
    assert time.monotonic() - started < 4
    assert result.state is ResultState.TIMEOUT
    assert events and events[0].text == "started\n"
    pids = [int(pid.read_text()), int(child.read_text())]
    assert await gone_within(pids), "remote processes survived the timeout"


async def test_cancel_stops_the_remote_process(source: Any, shared_dir: Path) -> None:
    pid = shared_dir / "pid"
    cancel = CancelToken()
    events: list[OutputEvent] = []

    def on_output(event: OutputEvent) -> None:
        events.append(event)
        cancel.cancel("cancelled by the test")

    request = CommandRequest(f"echo $$ > {pid}; echo go; sleep 60; echo never", ("box",))
    task = asyncio.create_task(run_command(source, request, on_output, cancel))
    [result] = await asyncio.wait_for(task, 6)
    assert result.state is ResultState.CANCELLED
    assert result.error == "cancelled by the test"
    assert "never" not in result.stdout
    assert await gone_within([int(pid.read_text())])


async def test_output_cap_records_the_full_size(source: Any) -> None:
    [result], events = await run(source, "seq 1 100000", cap_bytes=1000)
    full = "".join(f"{i}\n" for i in range(1, 100001))
    assert "".join(e.text for e in events) == full  # streamed in full
    assert result.stdout_bytes == len(full) and result.truncated
    assert result.stdout.startswith("1\n2\n3\n") and result.stdout.endswith("99999\n100000\n")
    assert len(result.stdout.encode()) < 1100


async def test_offline_host_is_a_clear_error_not_a_hang(source: Any) -> None:
    started = time.monotonic()
    results, _ = await run(source, "uptime", ("box", "gone", "nosuch"))
    assert time.monotonic() - started < 5
    box, gone, nosuch = results
    assert box.state is ResultState.OK
    assert gone.state is ResultState.ERROR and "refused" in (gone.error or "")
    assert nosuch.state is ResultState.ERROR and "inventory" in (nosuch.error or "")


async def test_sudo_that_would_prompt_is_a_clear_error(sshd: Sshd, tmp_path: Path) -> None:
    if shutil.which("sudo") is None:
        pytest.fail("sudo is not installed: run `scripts/setup.sh --test`")
    allowed = OwnConnections(
        inventory_for(sshd, sudo=True).hosts_resolved(), KnownHosts(tmp_path / "kh")
    )
    refused = OwnConnections(inventory_for(sshd).hosts_resolved(), KnownHosts(tmp_path / "kh"))
    try:
        [result], _ = await run(allowed, "id -u", sudo=True, timeout_s=10)
        assert result.state is ResultState.ERROR, result
        assert "sudo would prompt for a password" in (result.error or "")
        [result], _ = await run(refused, "id -u", sudo=True)
        assert result.state is ResultState.ERROR
        assert "does not allow sudo" in (result.error or "")
    finally:
        await allowed.close()
        await refused.close()


async def test_commands_borrow_the_poll_connection(sshd: Sshd, tmp_path: Path) -> None:
    host = inventory_for(sshd).hosts_resolved()[0]
    poller = HostPoller(
        host, KnownHosts(tmp_path / "kh"), interval_s=5, timeout_s=3, slow_every_s=30
    )
    try:
        first = await poller.poll()
        assert first.snapshot is not None, first.status.error
        polled_with = poller._conn
        source = PollerConnections([poller])
        [result], _ = await run(source, "echo hi")
        assert result.stdout == "hi\n"
        assert await poller.connection() is polled_with  # no second login
        second = await poller.poll()
        assert second.snapshot is not None and poller._conn is polled_with
    finally:
        await poller.close()


# --- many hosts (the simulator) ----------------------------------------------------------


def lab_hosts(lab: list[Any], client_key: Path, port: int) -> list[HostConfig]:
    return Inventory.from_dict(lab_inventory(lab, client_key, port)).hosts_resolved()


async def test_twenty_hosts_in_parallel_each_result_apart(tmp_path: Path) -> None:
    host_key, client_key, client_pub = ensure_keys(tmp_path / "keys")
    lab = make_lab(20, start=1)
    async with LabServer(lab, 0, host_key, client_pub) as server:
        source = OwnConnections(
            lab_hosts(lab, client_key, server.port), KnownHosts(tmp_path / "kh")
        )
        names = tuple(h.name for h in lab)
        try:
            started = time.monotonic()
            results, events = await run(source, "sleep 0.3", names, concurrency=10)
            elapsed = time.monotonic() - started
            assert [r.state for r in results] == [ResultState.OK] * 20
            assert 0.6 <= elapsed < 3, elapsed  # two waves of ten, not twenty in a row
            results, events = await run(source, "hostname", names)
        finally:
            await source.close()
    assert [r.host for r in results] == list(names)
    assert all(r.stdout == f"{r.host}\n" for r in results)
    assert {e.host for e in events} == set(names)


# --- the CLI (no EGO running: it opens its own connections) ------------------------------


def cli_inventory(sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``sshd``'s inventory as a file, and a data directory of the test's own, for the CLI."""
    import yaml

    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(inventory_for(sshd).model_dump(mode="json", exclude_none=True)))
    monkeypatch.setenv("MIRROR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("MIRROR_DATABASE_URL", raising=False)
    return path


def test_mirror_run_streams_prefixes_and_audits(
    sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.main import main
    from mirror.audit import AuditLog
    from mirror.storage import Store

    path = cli_inventory(sshd, tmp_path, monkeypatch)
    run = ["run", "--direct", "-i", str(path)]  # no EGO: the CLI logs in itself
    assert main([*run, "--host", "box", "--", "echo hi; echo oops >&2"]) == 0
    out, err = capsys.readouterr()
    assert out == "hi\n" and err == "oops\n"
    assert main([*run, "--host", "box,gone", "--", "hostname"]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("box | ")
    assert "box: exit 0" in err and "gone: error: connection refused" in err
    assert main([*run, "--group", "nolab", "--", "true"]) == 1
    assert "no host is in group 'nolab'" in capsys.readouterr().err
    with Store.open(f"sqlite:///{tmp_path / 'data' / 'mirror.db'}") as store:
        entries = AuditLog(store.engine).entries(action="command")
        assert [e.action for e in entries] == ["command.done", "command"] * 2
        assert entries[0].actor.startswith("cli:") and entries[0].result == "1 error, 1 ok"
        assert AuditLog(store.engine).verify().ok
