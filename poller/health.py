"""One target's health: its state, last error, failures, backoff and when it is next due.

SSH hosts (``poller.host``), SNMP devices (``poller.snmp``) and ICMP addresses
(``poller.icmp_loop``) all keep a ``TargetHealth``, and every exception a poll raises goes
through ``classify``, so ``up``, ``timeout``, ``error`` and ``unreachable`` mean the same for
every kind of target:

* ``timeout``: no answer before the poll's deadline;
* ``unreachable``: the address or port refused or could not be routed, or the connection died;
* ``auth-failed`` / ``hostkey-*``: the target answered and refused us (retried slowly);
* ``error``: it answered, but not with something we can use (or an unexpected bug).

A change of state (or of the kind of failure: ``failure_kind``) is logged once, not at every
failed poll (Home Assistant's coordinator), and returned as a ``StateChange`` event for the
live hub.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

import asyncssh

from mirror.errors import (
    AuthFailed,
    CollectError,
    ConfigError,
    HostKeyChanged,
    HostKeyUnknown,
    Timeout,
    Unexpected,
    Unreachable,
    Unsupported,
)
from mirror.events import StateChange, TargetKind
from mirror.model import HostState, PollStatus, Snapshot

log = logging.getLogger(__name__)

# Wrong credentials or a changed key will not fix themselves in 5 s; retrying
# every poll would fill the host's auth log (and may trip fail2ban).
SLOW_RETRY_S = 300.0
MAX_BACKOFF_S = 60.0


# Errors that a retry in a few seconds cannot fix: retried every SLOW_RETRY_S.
SLOW_ERRORS = (AuthFailed, HostKeyChanged, HostKeyUnknown, Unsupported)


@dataclass(frozen=True, slots=True)
class PollResult:
    snapshot: Snapshot | None
    status: PollStatus
    change: StateChange | None = None  # set when this poll changed the target's state


def classify(exc: BaseException, deadline_s: float | None = None) -> CollectError:
    """The one mapping from what a poll raised to what the target's state becomes."""
    if isinstance(exc, CollectError):
        return exc
    if isinstance(exc, TimeoutError | asyncssh.TimeoutError):
        if deadline_s is None:
            return Timeout("no answer before the deadline")
        return Timeout(f"no answer within {deadline_s:g} s")
    if isinstance(exc, ConfigError):
        return CollectError(str(exc))
    if isinstance(exc, ConnectionRefusedError):
        return Unreachable("connection refused (no SSH server on that port?)")
    if isinstance(exc, socket.gaierror):
        return Unreachable(f"name does not resolve: {exc.strerror}")
    if isinstance(exc, OSError) and exc.errno in (
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.EHOSTDOWN,
        errno.ECONNRESET,
        errno.ETIMEDOUT,
    ):
        return Unreachable(exc.strerror or str(exc))
    if isinstance(exc, BrokenPipeError | ConnectionResetError | ConnectionAbortedError):
        # asyncssh: "Channel not open for sending" when the host closed the session under us.
        return Unreachable(f"connection lost: {exc or 'closed by the host'}")
    if isinstance(exc, asyncssh.ConnectionLost | asyncssh.DisconnectError):
        return Unreachable(f"connection lost: {getattr(exc, 'reason', exc)}")
    if isinstance(exc, asyncssh.ChannelOpenError):
        return CollectError(f"host refused a session channel: {exc.reason}")
    if isinstance(exc, asyncssh.Error | OSError | asyncio.IncompleteReadError):
        return CollectError(f"{type(exc).__name__}: {exc}")
    error = Unexpected(f"{type(exc).__name__}: {exc}")
    error.__cause__ = exc
    return error


def failure_kind(state: HostState, error: CollectError) -> tuple[str, str, str]:
    """What makes two failures "the same" for the log: the state, the error class and the
    message's head (before its first ':' or quote, numbers folded), so a host answering
    random garbage, whose error text quotes the bytes, is logged once, not at every retry."""
    message = str(error) or type(error).__name__
    head = re.split(r"[:'\"]", message, maxsplit=1)[0]
    return str(state), type(error).__name__, re.sub(r"\d+(?:\.\d+)?", "N", head).strip()


class TargetHealth:
    """What a poll loop knows about how its target is doing.

    ``clock`` is monotonic (backoff and due times), ``wall`` unix time (``since``); tests
    pass their own. ``level`` is the log level of a failure (ping addresses come and go,
    so their changes are logged at DEBUG).
    """

    def __init__(
        self,
        name: str,
        kind: TargetKind,
        interval_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        level: int = logging.WARNING,
    ) -> None:
        self.name = name
        self.kind: TargetKind = kind
        self.interval_s = interval_s
        self._clock = clock
        self._wall = wall
        self._level = level
        self.state = HostState.PENDING
        self.last_error: str | None = None
        self.failures = 0
        self.next_due = 0.0  # monotonic; 0: due now
        self.since: float | None = None  # unix seconds when ``state`` began
        self._logged_kind: tuple[str, str, str] | None = None  # the failure last logged

    def due(self, now: float | None = None) -> bool:
        """False while backing off after a failure."""
        return (self._clock() if now is None else now) >= self.next_due

    def succeeded(self) -> StateChange | None:
        if self.state not in (HostState.UP, HostState.PENDING):
            log.info("%s: back up after %s", self.name, self.state)
        self.failures, self.next_due = 0, 0.0
        self._logged_kind = None
        return self._enter(HostState.UP, None)

    def failed(self, error: CollectError) -> StateChange | None:
        """Record a failed poll and back off: doubling from one interval up to
        ``MAX_BACKOFF_S``, or ``SLOW_RETRY_S`` for errors a retry cannot fix."""
        state = HostState(error.state)
        message = str(error) or type(error).__name__
        kind = failure_kind(state, error)
        if kind != self._logged_kind:
            exc_info = error.__cause__ if isinstance(error, Unexpected) else None
            log.log(self._level, "%s: %s: %s", self.name, state, message, exc_info=exc_info)
            self._logged_kind = kind
        self.failures += 1
        self.next_due = self._clock() + self.backoff_s(error) - self.interval_s
        return self._enter(state, message)

    def observe(
        self, state: HostState, message: str | None, at: float | None = None
    ) -> StateChange | None:
        """A result that needs no backoff (an ICMP echo, asked again next interval anyway);
        ``at``: its unix time, when the caller has it."""
        if state is not HostState.UP and (state is not self.state or message != self.last_error):
            log.log(self._level, "%s: %s: %s", self.name, state, message)
        return self._enter(state, message, at)

    def backoff_s(self, error: CollectError) -> float:
        """Seconds from this failure to the next try (the loop's own tick is one interval)."""
        if isinstance(error, SLOW_ERRORS):
            return SLOW_RETRY_S
        return min(self.interval_s * 2 ** (self.failures - 1), MAX_BACKOFF_S)

    def _enter(
        self, state: HostState, message: str | None, at: float | None = None
    ) -> StateChange | None:
        before = self.state
        self.last_error = message
        if state is before:
            return None
        self.state, self.since = state, self._wall() if at is None else at
        if before is HostState.PENDING and state is HostState.UP:
            return None  # a first success is every start of EGO, not a change
        return StateChange(
            target=self.name,
            kind=self.kind,
            from_=str(before),
            to=str(state),
            reason=message,
            since=self.since,
        )
