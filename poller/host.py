"""Everything EGO keeps about one host between polls: its connection, its REFLECTOR
session, its previous counters and its state.

``HostPoller.poll`` never raises: a failure becomes the host's state (Prometheus'
``up == 0`` with the reason), so a dead host costs only its own loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import asyncssh

from collectors.linux.sample import (
    FastSample,
    SlowSample,
    counter_bits,
    fast_metrics,
    parse_fast,
    parse_slow,
    slow_metrics,
)
from mirror.errors import (
    AuthFailed,
    CollectError,
    ConfigError,
    HostKeyChanged,
    HostKeyUnknown,
    Timeout,
)
from mirror.inventory import HostConfig
from mirror.model import HostState, PollStatus, Snapshot
from poller.reflector import LocalReflector, Reflector, SshReflector
from poller.ssh import KnownHosts, close_quietly, connect, map_error

log = logging.getLogger(__name__)

# Wrong credentials or a changed key will not fix themselves in 5 s; retrying
# every poll would fill the host's auth log (and may trip fail2ban).
SLOW_RETRY_S = 300.0
MAX_BACKOFF_S = 60.0


@dataclass(frozen=True, slots=True)
class PollResult:
    snapshot: Snapshot | None
    status: PollStatus


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
        self._prev_fast: FastSample | None = None
        self._prev_slow: SlowSample | None = None
        self._slow_series: dict[str, float] = {}
        self._counter_bits = 64  # until the slow sample says the kernel is 32-bit
        self._next_slow_at = 0.0
        self._failures = 0
        self._retry_at = 0.0
        ssh_timeout_s = host.ssh.connect_timeout_s if host.ssh else timeout_s
        self._connect_deadline_s = ssh_timeout_s + timeout_s
        self.state = HostState.PENDING
        self.last_error: str | None = None

    def due(self, now_monotonic: float) -> bool:
        """False while backing off after a failure."""
        return now_monotonic >= self._retry_at

    async def poll(self) -> PollResult:
        started = time.monotonic()
        deadline_s = self._timeout_s
        opening = False
        try:
            if self._reflector is None:
                # Connecting has its own deadline: a handshake storm after a restart
                # (1000 hosts at once) must not be mistaken for hosts that hang.
                deadline_s, opening = self._connect_deadline_s, True
                async with asyncio.timeout(deadline_s):
                    await self._open()
            deadline_s, opening = self._timeout_s, False
            async with asyncio.timeout(deadline_s):
                snapshot = await self._sample(started)
        except Exception as exc:  # every failure is a state, never a dead loop
            if isinstance(exc, TimeoutError):
                error: CollectError = Timeout(f"no answer within {deadline_s:g} s")
            elif isinstance(exc, CollectError | ConfigError):
                error = exc if isinstance(exc, CollectError) else CollectError(str(exc))
            elif isinstance(exc, asyncssh.Error | OSError):
                error = map_error(exc)
            else:
                log.exception("%s: unexpected error while polling", self.host.name)
                error = CollectError(f"{type(exc).__name__}: {exc}")
            await self._recover(connection_suspect=opening and isinstance(exc, TimeoutError))
            return self._failed(error, started)
        return self._succeeded(snapshot, started)

    async def close(self) -> None:
        await self._drop_session()

    async def _sample(self, started: float) -> Snapshot:
        assert self._reflector is not None
        fast = parse_fast(await self._reflector.request("s"))
        metrics = fast_metrics(self._prev_fast, fast, counter_bits=self._counter_bits)
        self._prev_fast = fast
        info = None
        if started >= self._next_slow_at:
            slow = parse_slow(await self._reflector.request("x"))
            self._slow_series, info = slow_metrics(self._prev_slow, slow)
            self._prev_slow = slow
            self._counter_bits = counter_bits(slow.arch)
            self._next_slow_at = started + self._slow_every_s
        metrics.update(self._slow_series)
        return Snapshot(self.host.name, time.time(), metrics, info or {})

    async def _open(self) -> None:
        if self.host.local:
            self._reflector = await LocalReflector.start()
            return
        await self.connection()
        assert self._conn is not None
        try:
            self._reflector = await SshReflector.start(self._conn)
        except (asyncssh.Error, OSError) as exc:
            raise map_error(exc) from exc
        # A new session needs identity (and a slow sample) straight away.
        self._next_slow_at = 0.0

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
        if self.state is not HostState.UP and self.state is not HostState.PENDING:
            log.info("%s: back up after %s", self.host.name, self.state)
        self.state, self.last_error = HostState.UP, None
        self._failures, self._retry_at = 0, 0.0
        status = PollStatus(
            self.host.name,
            HostState.UP,
            snapshot.ts,
            None,
            (time.monotonic() - started) * 1000,
        )
        return PollResult(snapshot, status)

    def _failed(self, error: CollectError, started: float) -> PollResult:
        state = HostState(error.state)
        message = str(error) or type(error).__name__
        if state is not self.state or message != self.last_error:
            # Logged once per change, not every interval (Home Assistant's coordinator).
            log.warning("%s: %s: %s", self.host.name, state, message)
        self.state, self.last_error = state, message
        self._failures += 1
        if isinstance(error, AuthFailed | HostKeyChanged | HostKeyUnknown):
            delay = SLOW_RETRY_S
        else:
            delay = min(self._interval_s * 2 ** (self._failures - 1), MAX_BACKOFF_S)
        now = time.monotonic()
        self._retry_at = now + delay - self._interval_s  # the loop's own tick adds one interval
        status = PollStatus(self.host.name, state, time.time(), message, (now - started) * 1000)
        return PollResult(None, status)
