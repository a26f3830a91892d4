"""Everything EGO keeps about one host between polls: its connection, its host kind and
REFLECTOR session, its collector (previous counters) and its health.

The host kind comes from the inventory's ``os:``, or from ``uname -s`` on first contact;
an OS without a kind yet is the host's state (``error``, retried slowly), not a crash.

``HostPoller.poll`` never raises: a failure becomes the host's state (Prometheus'
``up == 0`` with the reason), so a dead host costs only its own loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time

import asyncssh

from collectors.hostkind import FAST_REQUEST, SLOW_REQUEST, Collector, HostKind
from collectors.kinds import KINDS, kind_for, known_kinds, os_from_uname
from mirror.errors import CollectError, ConfigError, Timeout, Unreachable, Unsupported
from mirror.inventory import HostConfig
from mirror.model import HostState, PollStatus, Snapshot
from poller.first_use import FIRST_USE
from poller.health import PollResult, TargetHealth, classify
from poller.port_probe import PROBE_TIMEOUT_S, ssh_port_answers
from poller.reflector import LocalReflector, Reflector, SshReflector
from poller.ssh import KnownHosts, close_quietly, connect, map_error

log = logging.getLogger(__name__)


class HostPoller:
    def __init__(
        self,
        host: HostConfig,
        known_hosts: KnownHosts,
        *,
        interval_s: float,
        timeout_s: float,
        slow_every_s: float,
    ) -> None:
        self.host = host
        self._known_hosts = known_hosts
        self._interval_s = interval_s
        self._timeout_s = timeout_s
        self._slow_every_s = slow_every_s
        self._conn: asyncssh.SSHClientConnection | None = None
        self._connect_lock = asyncio.Lock()  # the poll and a command may both want to connect
        self._reflector: Reflector | None = None
        # The inventory's os: picks the kind now; without one, first contact detects it.
        self.kind: HostKind | None = kind_for(host.os) if host.os else None
        self._collector: Collector | None = None
        self._slow_series: dict[str, float] = {}
        self._next_slow_at = 0.0
        self.health = TargetHealth(host.name, "host", interval_s)
        # After a failure that a closed or silent port explains (refused, lost, a connect
        # that timed out), a backed-off loop looks at the SSH port each tick (poller.port_probe).
        self._probe_while_backing_off = False
        ssh_timeout_s = host.ssh.connect_timeout_s if host.ssh else timeout_s
        self._connect_deadline_s = ssh_timeout_s + timeout_s

    @property
    def state(self) -> HostState:
        return self.health.state

    @property
    def last_error(self) -> str | None:
        return self.health.last_error

    def due(self, now_monotonic: float | None = None) -> bool:
        """False while backing off after a failure."""
        return self.health.due(now_monotonic)

    async def ready(self) -> bool:
        """Due, or backing off but its SSH server answers again (the loop's ``due``)."""
        if self.health.due():
            return True
        if not self._probe_while_backing_off or self.host.ssh is None:
            return False
        port = self.host.ssh.port
        if port is None or self.host.ssh.config_host:
            return False  # ~/.ssh/config decides where it goes: nothing to look at here
        if await ssh_port_answers(self.host.address, port, min(PROBE_TIMEOUT_S, self._timeout_s)):
            log.info("%s: SSH port answers again; polling now", self.host.name)
            return True
        return False

    async def poll(self) -> PollResult:
        started = time.monotonic()
        deadline_s = self._timeout_s
        opening = connecting = False
        try:
            if self._reflector is None:
                # Connecting has its own deadline: a handshake storm after a restart
                # (1000 hosts at once) must not be mistaken for hosts that hang.
                deadline_s, opening = self._connect_deadline_s, True
                connecting = True
                async with asyncio.timeout(deadline_s):
                    conn = await self._connect()
                connecting = False
                if self.kind is None:
                    # First contact without os: asking uname is the host's work, like a poll
                    # (its deadline; a timeout keeps the connection: under a handshake storm
                    # dropping it would only add another handshake).
                    deadline_s, opening = self._timeout_s, False
                    async with asyncio.timeout(deadline_s):
                        await self._detect(conn)
                deadline_s, opening = self._connect_deadline_s, True
                async with asyncio.timeout(deadline_s):
                    await self._open(conn)
            deadline_s, opening = self._timeout_s, False
            async with asyncio.timeout(deadline_s):
                snapshot = await self._sample(started)
        except Exception as exc:  # every failure is a state, never a dead loop
            error = classify(exc, deadline_s)
            # Not after a timeout once connected: a hung server answers a probe too.
            self._probe_while_backing_off = isinstance(error, Unreachable) or (
                connecting and isinstance(error, Timeout)
            )
            await self._recover(connection_suspect=opening and isinstance(exc, TimeoutError))
            return self._failed(error, started)
        return self._succeeded(snapshot, started)

    async def close(self) -> None:
        await self._drop_session()
        FIRST_USE.flush()  # a one-shot poll (`mirror poll`) still reports a key it recorded

    async def _sample(self, started: float) -> Snapshot:
        assert self._reflector is not None and self.kind is not None
        if self._collector is None:
            self._collector = self.kind.collector()
        metrics = self._collector.fast(await self._reflector.request(FAST_REQUEST))
        info = None
        if started >= self._next_slow_at:
            frame = await self._reflector.request(SLOW_REQUEST)
            self._slow_series, info = self._collector.slow(frame)
            self._next_slow_at = started + self._slow_every_s
        metrics.update(self._slow_series)
        return Snapshot(self.host.name, time.time(), metrics, info or {})

    async def _connect(self) -> asyncssh.SSHClientConnection | None:
        """The host's connection (None for the local host), or why not."""
        if self.host.os is not None and self.kind is None:
            raise self._no_kind(self.host.os)  # before any traffic: the inventory says so
        return None if self.host.local else await self.connection()

    async def _detect(self, conn: asyncssh.SSHClientConnection | None) -> None:
        self._choose(os.uname().sysname if conn is None else await self._uname(conn))

    async def _open(self, conn: asyncssh.SSHClientConnection | None) -> None:
        assert self.kind is not None
        if conn is None:
            self._reflector = await LocalReflector.start(self.kind.command())
            return
        try:
            self._reflector = await SshReflector.start(conn, self.kind.command())
        except (asyncssh.Error, OSError) as exc:
            raise map_error(exc) from exc
        # A new session needs identity (and a slow sample) straight away.
        self._next_slow_at = 0.0

    async def _uname(self, conn: asyncssh.SSHClientConnection) -> str:
        """First contact without ``os:``: the first line ``uname -s`` prints (once per
        poller). Only that line is read: a wrapper that keeps the channel open (a
        ForceCommand) cannot stall it."""
        try:
            process = await conn.create_process("uname -s", encoding=None)
            try:
                process.stdin.write_eof()
                line = await process.stdout.readline()
                why = b"" if line.strip() else await process.stderr.readline()
            finally:
                process.close()
        except (asyncssh.Error, OSError) as exc:
            raise map_error(exc) from exc
        said = line.decode(errors="replace").strip()
        if not said:
            reason = why.decode(errors="replace").strip() or "no output"
            raise Unsupported(
                f"cannot tell the host's OS: `uname -s` failed ({reason[:120]}); "
                "set os: for it in the inventory"
            )
        return said

    def _choose(self, uname: str) -> HostKind:
        """The kind for what ``uname -s`` printed. A known OS without a kind is refused
        clearly; an answer that names no OS we know (an odd embedded system, a wrapper that
        prints a banner) gets the first kind, Linux, whose frames then say what works."""
        os_name = os_from_uname(uname)
        if os_name is None:
            kind = next(iter(KINDS.values()))
            log.info(
                "%s: `uname -s` says %r; trying the %s kind (os: in the inventory chooses)",
                self.host.name,
                uname[:80],
                kind.os,
            )
        else:
            found = kind_for(os_name)
            if found is None:
                raise self._no_kind(os_name)
            kind = found
        self.kind = kind
        return kind

    @staticmethod
    def _no_kind(os_name: str) -> Unsupported:
        return Unsupported(
            f"{os_name} hosts cannot be read yet: no host kind for {os_name!r} "
            f"(EGO reads: {known_kinds()}; collectors/KINDS.md says how to add one)"
        )

    async def connection(self) -> asyncssh.SSHClientConnection:
        """The host's live SSH connection, for commands, terminals and tunnels (each a new
        channel on it: no new login). Opened here, with the poll's known_hosts rules, when
        the poller has none yet; the poll then reuses it. Raises ``CollectError``."""
        if self.host.local or self.host.ssh is None:
            raise ConfigError(f"{self.host.name} is read locally, without SSH")
        async with self._connect_lock:
            if self._conn is None or self._conn.is_closed():
                self._conn = await connect(self.host, self._known_hosts)
            return self._conn

    async def _recover(self, *, connection_suspect: bool) -> None:
        """After a failed poll: restart only the REFLECTOR channel while the connection is
        healthy, because commands, terminals and tunnels ride other channels of it; drop the
        connection too when it is closed, or when it could not even open a channel in time
        (dead peer: keepalive would only notice after 45 s)."""
        conn = self._conn
        if conn is None or conn.is_closed() or connection_suspect:
            await self._drop_session()
        else:
            await self._drop_reflector()

    async def _drop_session(self) -> None:
        conn, self._conn = self._conn, None
        await self._drop_reflector()
        await close_quietly(conn)

    async def _drop_reflector(self) -> None:
        reflector, self._reflector = self._reflector, None
        if reflector is not None:
            try:
                await asyncio.wait_for(reflector.close(), timeout=2)
            except Exception:  # closing a broken session must not fail the poll loop
                log.debug("%s: error while closing reflector", self.host.name, exc_info=True)

    def _succeeded(self, snapshot: Snapshot, started: float) -> PollResult:
        change = self.health.succeeded()
        duration_ms = (time.monotonic() - started) * 1000
        status = PollStatus(self.host.name, HostState.UP, snapshot.ts, None, duration_ms)
        return PollResult(snapshot, status, change)

    def _failed(self, error: CollectError, started: float) -> PollResult:
        change = self.health.failed(error)
        duration_ms = (time.monotonic() - started) * 1000
        status = PollStatus(
            self.host.name, self.health.state, time.time(), self.health.last_error, duration_ms
        )
        return PollResult(None, status, change)
