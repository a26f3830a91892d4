"""The command runner: commands on new channels of the hosts' SSH connections.

In ``mirror serve`` the connections are the poll loops' own (``PollerConnections``: one
login per host, shared by polls, commands, terminals and tunnels); the CLI without a
server opens one per host itself (``OwnConnections``). A run never raises: each host ends
in a ``HostResult`` (ok, failed, timeout, cancelled, or error with the reason), and one
slow or dead host costs only its own slot.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import asyncssh

from mirror.control.model import (
    CancelToken,
    CommandRequest,
    HostResult,
    OutputEvent,
    ResultState,
    Stream,
    TerminalSession,
    TunnelInfo,
)
from mirror.control.output import (
    OutputCap,
    PgidFilter,
    kill_group_command,
    sudo_refusal,
    wrap_command,
)
from mirror.errors import CollectError, ConfigError, MirrorError
from mirror.inventory import HostConfig
from mirror.settings import DEFAULT_TUNNEL_BIND
from poller.ssh import KnownHosts, close_quietly, connect, map_error

log = logging.getLogger(__name__)

READ_BYTES = 65536
STOP_GRACE_S = 1.0  # TERM, then this long, then KILL
STOP_DEADLINE_S = 4.0  # the most a stop may take before the channel is just closed


class ConnectionSource(Protocol):
    def hosts(self) -> dict[str, HostConfig]: ...

    async def connection(self, name: str) -> asyncssh.SSHClientConnection: ...

    async def close(self) -> None: ...


class PollerConnections:
    """Borrows the poll loops' connections (EGO is running)."""

    def __init__(self, pollers: Iterable[_HasConnection] | Mapping[str, _HasConnection]) -> None:
        # A mapping is kept as is: the scheduler's own, which a reload changes in place.
        self._pollers: Mapping[str, _HasConnection] = (
            pollers if isinstance(pollers, Mapping) else {p.host.name: p for p in pollers}
        )

    def hosts(self) -> dict[str, HostConfig]:
        return {name: p.host for name, p in self._pollers.items()}

    async def connection(self, name: str) -> asyncssh.SSHClientConnection:
        poller = self._pollers.get(name)
        if poller is None:
            raise ConfigError(f"no host named {name!r} in the inventory")
        return await poller.connection()

    async def close(self) -> None:
        """The poll loops own the connections."""


class _HasConnection(Protocol):
    host: HostConfig

    async def connection(self) -> asyncssh.SSHClientConnection: ...


class OwnConnections:
    """One connection per host, opened on first use (the CLI without a running EGO)."""

    def __init__(self, hosts: Iterable[HostConfig], known_hosts: KnownHosts) -> None:
        self._hosts = {h.name: h for h in hosts}
        self._known_hosts = known_hosts
        self._conns: dict[str, asyncssh.SSHClientConnection] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def hosts(self) -> dict[str, HostConfig]:
        return dict(self._hosts)

    async def connection(self, name: str) -> asyncssh.SSHClientConnection:
        host = self._hosts.get(name)
        if host is None:
            raise ConfigError(f"no host named {name!r} in the inventory")
        if host.local or host.ssh is None:
            raise ConfigError(f"{name} is read locally, without SSH")
        async with self._locks.setdefault(name, asyncio.Lock()):
            conn = self._conns.get(name)
            if conn is None or conn.is_closed():
                conn = self._conns[name] = await connect(host, self._known_hosts)
            return conn

    async def close(self) -> None:
        conns, self._conns = list(self._conns.values()), {}
        await asyncio.gather(*(close_quietly(c) for c in conns))


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, MirrorError):
        return str(exc) or type(exc).__name__
    if isinstance(exc, asyncssh.Error | OSError | TimeoutError):
        return str(map_error(exc))
    return f"{type(exc).__name__}: {exc}"


def _lost_under(
    conn: asyncssh.SSHClientConnection | None, proc: asyncssh.SSHClientProcess[Any] | None
) -> bool:
    """The connection closed before the process reported how it ended."""
    if conn is None or not conn.is_closed():
        return False
    return proc is None or (proc.exit_status is None and not proc.exit_signal)


def _lost_reason(exc: BaseException | None) -> str:
    """The error when it says the connection was lost (with more detail), else just that."""
    why = _error_text(exc) if exc is not None else ""
    return why if "connection lost" in why else "connection lost"


class _HostRun:
    """One host's run: its channel, its output so far and how to stop it."""

    def __init__(
        self,
        host: HostConfig,
        request: CommandRequest,
        emit: Callable[[OutputEvent], None],
    ) -> None:
        self.host = host
        self.request = request
        self._emit = emit
        self.conn: asyncssh.SSHClientConnection | None = None
        self.proc: asyncssh.SSHClientProcess[bytes] | None = None
        self.pgid = PgidFilter()
        self.caps: dict[Stream, OutputCap] = {
            "stdout": OutputCap(request.cap_bytes),
            "stderr": OutputCap(request.cap_bytes),
        }

    async def execute(self, source: ConnectionSource) -> None:
        self.conn = await source.connection(self.host.name)
        command = wrap_command(self.request.command, sudo=self.request.sudo)
        self.proc = await self.conn.create_process(command, encoding=None, stdin=asyncssh.DEVNULL)
        await asyncio.gather(
            self._pump("stdout", self.proc.stdout), self._pump("stderr", self.proc.stderr)
        )
        await self.proc.wait_closed()

    async def _pump(self, stream: Stream, reader: asyncssh.SSHReader[bytes]) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while True:
            data = await reader.read(READ_BYTES)
            eof = not data
            if stream == "stderr":
                data = self.pgid.flush() if eof else self.pgid.feed(data)
            if data:
                self.caps[stream].add(data)
            text = decoder.decode(data, final=eof)
            if text:
                try:
                    self._emit(OutputEvent(self.host.name, stream, text, time.time()))
                except Exception:  # a listener's bug must not stop the run
                    log.exception("%s: output listener failed", self.host.name)
            if eof:
                return

    async def stop(self) -> None:
        """Signal the process, kill its whole group on the host, close the channel."""
        proc, conn = self.proc, self.conn
        if proc is None:
            return
        with contextlib.suppress(Exception):
            proc.send_signal("TERM")
        pgid = self.pgid.pgid
        try:
            if pgid is not None and conn is not None and not conn.is_closed():
                await asyncio.wait_for(
                    conn.run(kill_group_command(pgid, STOP_GRACE_S), check=False),
                    STOP_DEADLINE_S,
                )
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(proc.wait_closed(), STOP_GRACE_S)
                with contextlib.suppress(Exception):
                    proc.send_signal("KILL")
        except Exception as exc:  # the host may be gone meanwhile: closing is what is left
            log.info("%s: stopping the command: %s", self.host.name, _error_text(exc))
        proc.close()

    def result(self, state: ResultState, started: float, error: str | None = None) -> HostResult:
        proc = self.proc
        exit_status = proc.exit_status if proc is not None else None
        signal = proc.exit_signal[0] if proc is not None and proc.exit_signal else None
        if exit_status is not None and exit_status < 0:
            exit_status = None  # asyncssh's "none reported"
        out, err = self.caps["stdout"], self.caps["stderr"]
        if state is ResultState.OK and self.request.sudo:
            refused = sudo_refusal(err.head, exit_status)
            if refused is not None:
                state, error = ResultState.ERROR, refused
        if state is ResultState.OK and (exit_status != 0 or signal):
            state = ResultState.FAILED
        return HostResult(
            host=self.host.name,
            state=state,
            exit_status=exit_status,
            exit_signal=signal,
            duration_s=time.monotonic() - started,
            stdout=out.text(),
            stderr=err.text(),
            stdout_bytes=out.total_bytes,
            stderr_bytes=err.total_bytes,
            truncated=out.truncated or err.truncated,
            error=error,
        )


async def run_on_host(
    source: ConnectionSource,
    name: str,
    request: CommandRequest,
    emit: Callable[[OutputEvent], None],
    cancel: CancelToken,
) -> HostResult:
    """Run ``request.command`` on one host; never raises."""
    started = time.monotonic()
    host = source.hosts().get(name)
    if host is None:
        return HostResult(name, ResultState.ERROR, error="not in the inventory")
    if host.ssh is None:
        return HostResult(name, ResultState.ERROR, error="read locally, without SSH")
    if request.sudo and not host.ssh.sudo:
        return HostResult(
            name,
            ResultState.ERROR,
            error="the inventory does not allow sudo on this host (set ssh.sudo: true)",
        )
    if cancel.cancelled:
        return HostResult(name, ResultState.CANCELLED, error=cancel.reason)
    run = _HostRun(host, request, emit)
    task = asyncio.create_task(run.execute(source), name=f"command:{name}")
    cancelled = asyncio.create_task(cancel.event.wait())
    try:
        done, _ = await asyncio.wait(
            {task, cancelled}, timeout=request.timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
    except asyncio.CancelledError:
        task.cancel()
        await run.stop()
        raise
    finally:
        cancelled.cancel()
    if task in done:
        exc = task.exception()
        if _lost_under(run.conn, run.proc):
            # Not the command's exit: the host's connection died under it (or was dropped).
            return run.result(ResultState.ERROR, started, _lost_reason(exc))
        if exc is not None:
            if not isinstance(exc, CollectError | ConfigError | asyncssh.Error | OSError):
                log.error("%s: command failed", name, exc_info=exc)
            return run.result(ResultState.ERROR, started, _error_text(exc))
        return run.result(ResultState.OK, started)
    state = ResultState.CANCELLED if cancel.cancelled else ResultState.TIMEOUT
    await run.stop()
    with contextlib.suppress(BaseException):
        await asyncio.wait_for(task, STOP_GRACE_S)
    error = cancel.reason if cancel.cancelled else f"stopped after {request.timeout_s:g} s"
    return run.result(state, started, error)


async def run_command(
    source: ConnectionSource,
    request: CommandRequest,
    emit: Callable[[OutputEvent], None],
    cancel: CancelToken | None = None,
) -> list[HostResult]:
    """Every host of ``request``, at most ``request.concurrency`` at a time; results in
    the order the hosts were asked for."""
    cancel = cancel or CancelToken()
    slots = asyncio.Semaphore(max(1, request.concurrency))

    async def one(name: str) -> HostResult:
        async with slots:
            return await run_on_host(source, name, request, emit, cancel)

    return list(await asyncio.gather(*(one(name) for name in request.hosts)))


class SshTerminal:
    """A login shell on a PTY channel of the host's connection."""

    def __init__(
        self, conn: asyncssh.SSHClientConnection, proc: asyncssh.SSHClientProcess[str]
    ) -> None:
        self._conn = conn
        self._proc = proc
        self._error: BaseException | None = None

    @classmethod
    async def open(cls, conn: asyncssh.SSHClientConnection, cols: int, rows: int) -> SshTerminal:
        proc = await conn.create_process(
            term_type="xterm-256color",
            term_size=(cols, rows),
            encoding="utf-8",
            errors="replace",
        )
        return cls(conn, proc)

    async def read(self) -> str:
        try:
            return await self._proc.stdout.read(READ_BYTES)
        except (asyncssh.Error, OSError) as exc:
            self._error = exc
            return ""

    def end_reason(self) -> str:
        if _lost_under(self._conn, self._proc):
            return _lost_reason(self._error)
        return "the shell ended"

    def write(self, text: str) -> None:
        with contextlib.suppress(asyncssh.Error, OSError, BrokenPipeError):
            self._proc.stdin.write(text)

    def resize(self, cols: int, rows: int) -> None:
        with contextlib.suppress(asyncssh.Error, OSError):
            self._proc.change_terminal_size(cols, rows)

    async def close(self) -> None:
        self._proc.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._proc.wait_closed(), 2)


class SshCommandRunner:
    """What the API is handed (``mirror.control.CommandRunner``)."""

    def __init__(self, source: ConnectionSource, tunnel_bind: str = DEFAULT_TUNNEL_BIND) -> None:
        from poller.tunnels import TunnelManager

        self.source = source
        self._tunnels = TunnelManager(source, tunnel_bind)

    def host_names(self) -> set[str]:
        return {name for name, h in self.source.hosts().items() if h.ssh is not None}

    async def run(
        self,
        request: CommandRequest,
        on_output: Callable[[OutputEvent], None],
        cancel: CancelToken,
    ) -> list[HostResult]:
        return await run_command(self.source, request, on_output, cancel)

    async def open_terminal(self, host: str, cols: int, rows: int) -> TerminalSession:
        try:
            conn = await self.source.connection(host)
            return await SshTerminal.open(conn, cols, rows)
        except (asyncssh.Error, OSError, TimeoutError) as exc:
            raise map_error(exc) from exc

    async def open_tunnel(
        self,
        host: str,
        dest_port: int,
        dest_host: str,
        listen_port: int,
        opened_by: str,
        allowed_from: tuple[str, ...] = (),
    ) -> TunnelInfo:
        return await self._tunnels.open(
            host, dest_port, dest_host, listen_port, opened_by, allowed_from
        )

    def tunnels(self) -> list[TunnelInfo]:
        return self._tunnels.list()

    async def close_tunnel(self, tunnel_id: str, reason: str = "closed") -> TunnelInfo | None:
        return await self._tunnels.close(tunnel_id, reason)

    async def close(self) -> None:
        await self._tunnels.close_all()
        await self.source.close()
