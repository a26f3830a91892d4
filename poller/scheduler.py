"""One loop per host, each on its own stable offset within the interval (Prometheus).

The offset is derived from a hash of the host's name, so 254 hosts spread over the
interval instead of firing together, and a restart keeps each host on its slot.
Each loop has at most one poll in flight and each poll has a deadline shorter than
the interval, so a hung host delays nobody, itself included.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from mirror.inventory import HostConfig
from poller.host import HostPoller, PollResult
from poller.ssh import KnownHosts

log = logging.getLogger(__name__)


def stable_offset(name: str, interval_s: float) -> float:
    """Fraction of the interval for this name; not ``hash()``, which changes per process."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 * interval_s


def first_slot(name: str, interval_s: float, now: float) -> float:
    """Loop time of a target's first poll: wall-clock multiples of the interval plus the
    target's stable offset, never in the past."""
    slot = now - time.time() % interval_s + stable_offset(name, interval_s)
    return slot + interval_s if slot < now else slot


def next_slot(slot: float, interval_s: float, now: float) -> float:
    """The slot after ``slot``; missed slots are skipped, not run back to back."""
    slot += interval_s
    if slot < now:
        slot += ((now - slot) // interval_s + 1) * interval_s
    return slot


async def cancel_all(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    tasks.clear()


@dataclass
class PollStats:
    """Recent poll timings, for the benchmark and for /api/health later."""

    latency_s: deque[float] = field(default_factory=lambda: deque(maxlen=200_000))
    lateness_s: deque[float] = field(default_factory=lambda: deque(maxlen=200_000))
    polls: int = 0

    def clear(self) -> None:
        self.latency_s.clear()
        self.lateness_s.clear()
        self.polls = 0


class Scheduler:
    def __init__(
        self,
        hosts: Iterable[HostConfig],
        known_hosts: KnownHosts,
        on_result: Callable[[PollResult], None],
        *,
        interval_s: float,
        timeout_s: float,
        slow_every_s: float,
    ) -> None:
        self.interval_s = interval_s
        self.pollers = [
            HostPoller(
                host,
                known_hosts,
                interval_s=interval_s,
                timeout_s=timeout_s,
                slow_every_s=slow_every_s,
            )
            for host in hosts
        ]
        self._on_result = on_result
        self._tasks: list[asyncio.Task[None]] = []
        self.stats = PollStats()

    def poller(self, name: str) -> HostPoller | None:
        """The loop of host ``name`` (the command runner borrows its connection)."""
        return next((p for p in self.pollers if p.host.name == name), None)

    async def start(self) -> None:
        for poller in self.pollers:
            task = asyncio.create_task(self._loop(poller), name=f"poll:{poller.host.name}")
            self._tasks.append(task)

    async def stop(self) -> None:
        await cancel_all(self._tasks)
        await asyncio.gather(*(p.close() for p in self.pollers), return_exceptions=True)

    async def _loop(self, poller: HostPoller) -> None:
        loop = asyncio.get_running_loop()
        interval = self.interval_s
        next_at = first_slot(poller.host.name, interval, loop.time())
        while True:
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            started = loop.time()
            if poller.due(time.monotonic()):
                self.stats.lateness_s.append(started - next_at)
                result = await poller.poll()
                self.stats.latency_s.append(loop.time() - started)
                self.stats.polls += 1
                try:
                    self._on_result(result)
                except Exception:  # a sink bug must not kill this host's loop
                    log.exception("%s: result handler failed", poller.host.name)
            next_at = next_slot(next_at, interval, loop.time())
