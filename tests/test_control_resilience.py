"""Commands, terminals and tunnels share the poll loop's SSH connection (issue 6): a failing
poll restarts only the REFLECTOR channel, and when the connection itself dies each session
ends with the reason. Against the real OpenSSH server."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path

import asyncssh
import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from collectors.linux.kind import KIND as LINUX
from mirror.audit import AuditLog
from mirror.control.model import (
    CancelToken,
    CommandRequest,
    HostResult,
    OutputEvent,
    ResultState,
)
from mirror.model import HostState
from poller.commands import PollerConnections, SshCommandRunner, SshTerminal, run_on_host
from poller.host import HostPoller
from poller.ssh import KnownHosts
from tests.support.sshd import Sshd
from tests.test_commands import inventory_for
from tests.test_control_api import _read_until as _read_ws
from tests.test_control_api import serve_control, ws


@pytest.fixture
async def poller(sshd: Sshd, tmp_path: Path) -> AsyncIterator[HostPoller]:
    [host] = [h for h in inventory_for(sshd).hosts_resolved() if h.name == "box"]
    p = HostPoller(host, KnownHosts(tmp_path / "kh"), interval_s=5, timeout_s=1, slow_every_s=30)
    yield p
    await p.close()


async def _read_until(term: SshTerminal, needle: str, timeout_s: float = 5) -> str:
    seen = ""
    async with asyncio.timeout(timeout_s):
        while needle not in seen:
            chunk = await term.read()
            assert chunk, f"terminal ended while waiting for {needle!r}: {seen!r}"
            seen += chunk
    return seen


def _command(command: str, timeout_s: float = 20) -> CommandRequest:
    return CommandRequest(command, ("box",), timeout_s=timeout_s)


def _ignore(_: OutputEvent) -> None:
    """Output is not what these tests look at."""


async def test_a_hung_reflector_restarts_without_ending_other_channels(
    poller: HostPoller, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = PollerConnections([poller])
    conn = await poller.connection()
    term = await SshTerminal.open(conn, 80, 24)
    request = _command("sleep 2; echo survived")
    command = asyncio.create_task(run_on_host(source, "box", request, _ignore, CancelToken()))
    # A REFLECTOR that reads the request and never answers: the poll times out.
    hung = dataclasses.replace(LINUX, program="read k; sleep 60")
    monkeypatch.setattr(poller, "kind", hung)
    failed = await poller.poll()
    assert failed.status.state == HostState.TIMEOUT, failed.status
    assert poller._conn is conn and not conn.is_closed()

    # The terminal and the command on other channels of the same connection go on.
    term.write("echo still-here\n")
    await _read_until(term, "still-here\r\n")
    result: HostResult = await command
    assert result.state is ResultState.OK and result.stdout == "survived\n", result

    # The next poll starts a fresh REFLECTOR on the same connection.
    monkeypatch.undo()
    ok = await poller.poll()
    assert ok.status.state == HostState.UP and poller._conn is conn
    await term.close()


async def test_a_dead_connection_ends_each_session_with_the_reason(poller: HostPoller) -> None:
    assert (await poller.poll()).status.state == HostState.UP
    runner = SshCommandRunner(PollerConnections([poller]))
    conn = await poller.connection()
    term = await runner.open_terminal("box", 80, 24)
    request = _command("sleep 30")
    source = runner.source
    command = asyncio.create_task(run_on_host(source, "box", request, _ignore, CancelToken()))
    tunnel = await runner.open_tunnel("box", 22, "localhost", 0, "tester")
    await asyncio.sleep(0.3)  # the command's channel is open

    # The server side of this connection dies (as when the host reboots).
    with contextlib.suppress(asyncssh.Error):
        await conn.run("kill -9 $PPID", check=False)

    result = await asyncio.wait_for(command, 10)
    assert result.state is ResultState.ERROR and result.error is not None
    assert result.error.startswith("connection lost"), result
    async with asyncio.timeout(5):
        while await term.read():
            pass
    assert term.end_reason().startswith("connection lost")
    async with asyncio.timeout(5):
        while runner.tunnels()[0].state == "open":
            await asyncio.sleep(0.05)
    [closed] = runner.tunnels()
    assert closed.id == tunnel.id and closed.close_reason == "connection lost"
    async with httpx.AsyncClient() as plain:
        with pytest.raises(httpx.ConnectError):
            await plain.get(f"http://{tunnel.listen_host}:{tunnel.listen_port}/")

    # The poll loop notices, and the next poll logs in again.
    await poller.poll()
    again = await poller.poll()
    assert again.status.state == HostState.UP and poller._conn is not conn
    await runner.close()


async def test_a_tunnel_counts_bytes_and_is_listed_closed_after_close(
    poller: HostPoller,
) -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.readexactly(5) * 2)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    runner = SshCommandRunner(PollerConnections([poller]))
    try:
        tunnel = await runner.open_tunnel("box", port, "127.0.0.1", 0, "tester")
        reader, writer = await asyncio.open_connection(tunnel.listen_host, tunnel.listen_port)
        writer.write(b"hello")
        assert await asyncio.wait_for(reader.read(), 5) == b"hellohello"
        writer.close()
        [listed] = runner.tunnels()
        assert (listed.state, listed.connections) == ("open", 1)
        assert (listed.bytes_to_host, listed.bytes_from_host) == (5, 10)
        closed = await runner.close_tunnel(tunnel.id, "closed by tester")
        assert closed is not None and closed.state == "closed"
        assert [(t.id, t.close_reason) for t in runner.tunnels()] == [
            (tunnel.id, "closed by tester")
        ]
        assert await runner.close_tunnel(tunnel.id) is None  # no longer open
    finally:
        await runner.close()
        server.close()
        await server.wait_closed()


async def test_the_web_terminal_says_the_connection_was_lost(sshd: Sshd, tmp_path: Path) -> None:
    async for env in serve_control(sshd, tmp_path):
        async with ws(env, "operator", "/api/hosts/box/terminal") as sock:
            # The shell's parent is sshd's process for this connection: the connection dies.
            await sock.send(json.dumps({"type": "input", "data": "kill -9 $PPID\n"}))
            with pytest.raises(ConnectionClosed) as closed:
                await _read_ws(sock, "never", timeout_s=10)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.reason.startswith("connection lost"), closed.value.rcvd
        log = AuditLog(env["store"].engine)
        for _ in range(100):
            if ended := log.entries(action="terminal.end"):
                break
            await asyncio.sleep(0.05)
        assert ended[0].result is not None and ended[0].result.startswith("connection lost")
