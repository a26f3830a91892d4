"""One target health (poller/health.py): the exception → state mapping, backoff and due
times under a controlled clock, one log line per change, and state-change events."""

from __future__ import annotations

import asyncio
import errno
import itertools
import logging
import socket

import asyncssh
import pytest

from mirror.errors import (
    AuthFailed,
    CollectError,
    ConfigError,
    HostKeyChanged,
    ParseError,
    Timeout,
    Unexpected,
    Unreachable,
    Unsupported,
)
from mirror.events import StateChange
from mirror.model import HostState
from poller.health import (
    MAX_BACKOFF_S,
    SLOW_RETRY_S,
    TargetHealth,
    classify,
)
from poller.scheduler import every


@pytest.mark.parametrize(
    ("exc", "state", "words"),
    [
        (TimeoutError(), HostState.TIMEOUT, "no answer within 2.5 s"),
        (
            asyncssh.TimeoutError(None, "uname -s", None, None, None, None, "", ""),
            HostState.TIMEOUT,
            "2.5 s",
        ),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), HostState.UNREACHABLE, "refused"),
        (OSError(errno.EHOSTUNREACH, "No route to host"), HostState.UNREACHABLE, "No route"),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), HostState.UNREACHABLE, "Network"),
        (socket.gaierror(-2, "Name or service not known"), HostState.UNREACHABLE, "resolve"),
        (asyncssh.ConnectionLost("reset by peer"), HostState.UNREACHABLE, "connection lost"),
        (asyncssh.ChannelOpenError(1, "no"), HostState.ERROR, "refused a session channel"),
        (AuthFailed("key refused"), HostState.AUTH_FAILED, "key refused"),
        (HostKeyChanged("other key"), HostState.HOSTKEY_CHANGED, "other key"),
        (ParseError("not a frame"), HostState.ERROR, "not a frame"),
        (ConfigError("SW_COMM is not set"), HostState.ERROR, "SW_COMM is not set"),
        (asyncio.IncompleteReadError(b"ab", 10), HostState.ERROR, "IncompleteReadError"),
        (ValueError("a bug"), HostState.ERROR, "ValueError: a bug"),
    ],
)
def test_every_exception_maps_to_one_state(exc: BaseException, state: HostState, words: str):
    error = classify(exc, deadline_s=2.5)
    assert isinstance(error, CollectError)
    assert HostState(error.state) is state
    assert words in str(error)


def test_an_unexpected_exception_keeps_its_cause() -> None:
    bug = KeyError("x")
    error = classify(bug)
    assert isinstance(error, Unexpected) and error.__cause__ is bug
    assert str(classify(TimeoutError())) == "no answer before the deadline"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_backoff_doubles_up_to_the_cap_and_success_resets_it() -> None:
    clock = Clock()
    health = TargetHealth("box", "host", 5.0, clock=clock, wall=lambda: 7.0)
    delays = []
    for _ in range(6):
        health.failed(Timeout("slow"))
        # The loop's own tick adds one interval: next_due is that much earlier.
        delays.append(health.next_due - clock.now + 5.0)
    assert delays == [5.0, 10.0, 20.0, 40.0, MAX_BACKOFF_S, MAX_BACKOFF_S]
    assert not health.due(clock.now + 54.9) and health.due(clock.now + 55.0)
    clock.now += 30
    assert not health.due()
    health.succeeded()
    assert health.due() and health.failures == 0 and health.last_error is None


@pytest.mark.parametrize(
    "error", [AuthFailed("refused"), HostKeyChanged("changed"), Unsupported("no kind")]
)
def test_errors_a_retry_cannot_fix_wait_minutes(error: CollectError) -> None:
    clock = Clock()
    health = TargetHealth("box", "snmp", 5.0, clock=clock)
    health.failed(error)
    assert health.next_due == clock.now + SLOW_RETRY_S - 5.0
    assert not health.due(clock.now + 60)


def test_a_change_is_logged_once_not_every_poll(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="poller.health")
    health = TargetHealth("box", "host", 5.0, clock=Clock())
    for _ in range(5):
        health.failed(Unreachable("connection refused"))
    health.failed(Unreachable("No route to host"))  # same state, new reason: said once
    for _ in range(3):
        health.succeeded()
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "box: unreachable: connection refused",
        "box: unreachable: No route to host",
        "box: back up after unreachable",
    ]


def test_a_bug_is_logged_with_its_traceback_once(caplog: pytest.LogCaptureFixture) -> None:
    health = TargetHealth("box", "host", 5.0, clock=Clock())
    for _ in range(3):
        try:
            raise ZeroDivisionError("oops")
        except ZeroDivisionError as exc:
            health.failed(classify(exc))
    [record] = caplog.records
    assert record.exc_info is not None and record.exc_info[0] is ZeroDivisionError


def test_state_changes_say_from_to_reason_and_since() -> None:
    wall = iter([10.0, 20.0, 30.0, 40.0])
    health = TargetHealth("box", "host", 5.0, clock=Clock(), wall=lambda: next(wall))
    assert health.succeeded() is None  # pending → up: every start of EGO, not news
    assert health.since == 10.0
    down = health.failed(Unreachable("connection refused"))
    assert down == StateChange(
        target="box",
        kind="host",
        from_="up",
        to="unreachable",
        reason="connection refused",
        since=20.0,
    )
    assert health.failed(Unreachable("connection refused")) is None  # no change
    assert health.failed(Timeout("slow")) == StateChange(
        target="box", kind="host", from_="unreachable", to="timeout", reason="slow", since=30.0
    )
    back = health.succeeded()
    assert back is not None and (back.from_, back.to, back.reason) == ("timeout", "up", None)


def test_a_first_failure_is_a_change() -> None:
    health = TargetHealth("ping/127.0.0.9", "ping", 5.0, wall=lambda: 3.0)
    change = health.observe(HostState.UNREACHABLE, "no echo reply", at=2.0)
    assert change is not None and (change.from_, change.to, change.since) == (
        "pending",
        "unreachable",
        2.0,
    )
    assert health.due()  # observe() never backs off: the next round pings again


async def test_the_loop_skips_slots_while_backing_off_and_survives_a_failing_step() -> None:
    ran: list[float] = []
    asked = 0

    def due() -> bool:
        nonlocal asked
        asked += 1
        return asked % 2 == 1  # every other slot is "backing off"

    async def step(slot: float) -> None:
        ran.append(slot)
        if len(ran) <= 2:
            raise RuntimeError("a sink bug")

    task = asyncio.create_task(every("loop", 0.02, step, due=due))
    while len(ran) < 6:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert asked >= 11  # slots kept coming after the two failures
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(ran)]
    assert all(gap >= 0.04 - 1e-6 for gap in gaps), gaps  # skipped slots never ran


def test_a_channel_closed_by_the_host_is_a_lost_connection() -> None:
    # What asyncssh raises writing to a session the host closed (channel.py).
    error = classify(BrokenPipeError("Channel not open for sending"))
    assert error.state == "unreachable"
    assert str(error) == "connection lost: Channel not open for sending"
    assert classify(ConnectionResetError()).state == "unreachable"


def test_garbage_that_changes_each_retry_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A host answering random bytes: the error quotes them, different at every retry; one
    warning for the kind of failure, a new one only when the kind changes."""
    import os

    caplog.set_level(logging.INFO, logger="poller.health")
    health = TargetHealth("box", "host", 5.0, clock=Clock())
    for _ in range(5):
        junk = os.urandom(12)
        health.failed(CollectError(f"reflector: got {junk!r} instead of a frame"))
    health.failed(Timeout("no answer within 4 s"))
    health.failed(Timeout("no answer within 5 s"))  # the same kind: a number folded
    health.failed(CollectError("reflector: got b'x' instead of a frame"))
    health.succeeded()
    health.failed(CollectError(f"reflector: got {os.urandom(4)!r} instead of a frame"))
    lines = [r.getMessage() for r in caplog.records]
    heads = [line.split(" got ")[0] for line in lines]
    assert heads == [
        "box: error: reflector:",
        "box: timeout: no answer within 4 s",
        "box: error: reflector:",
        "box: back up after error",
        "box: error: reflector:",
    ], lines
