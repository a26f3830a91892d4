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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from mirror.inventory import HostConfig
from mirror.inventory.diff import Plan, plan, same_host_loop
from poller.host import HostPoller, PollResult
from poller.ssh import KnownHosts

log = logging.getLogger(__name__)

T = TypeVar("T")


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


def _reordered(by_name: dict[str, T], order: Mapping[str, object]) -> dict[str, T]:
    """``by_name``'s entries in ``order``'s order, as a new dict with the same values."""
    return {name: by_name[name] for name in order if name in by_name}


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
        self.timeout_s = timeout_s
        self.slow_every_s = slow_every_s
        self._known_hosts = known_hosts
        # Name → poller, changed in place by ``reconcile``: the command runner keeps this very
        # mapping (``PollerConnections``), so it follows a reload without being told.
        self.by_name: dict[str, HostPoller] = {h.name: self._poller(h) for h in hosts}
        self._on_result = on_result
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._running = False
        self.stats = PollStats()

    @property
    def pollers(self) -> list[HostPoller]:
        return list(self.by_name.values())

    def poller(self, name: str) -> HostPoller | None:
        """The loop of host ``name`` (the command runner borrows its connection)."""
        return self.by_name.get(name)

    def loop_running(self, name: str) -> bool:
        task = self._tasks.get(name)
        return task is not None and not task.done()

    async def start(self) -> None:
        self._running = True
        for poller in self.by_name.values():
            self._start_loop(poller)

    async def stop(self) -> None:
        self._running = False
        await cancel_all(list(self._tasks.values()))
        self._tasks.clear()
        await asyncio.gather(*(p.close() for p in self.by_name.values()), return_exceptions=True)

    async def reconcile(
        self,
        hosts: Iterable[HostConfig],
        *,
        interval_s: float,
        timeout_s: float,
        slow_every_s: float,
    ) -> Plan:
        """Make the loops match ``hosts`` (Prometheus' scrape pool sync): start new hosts,
        stop removed ones (closing their connection, and with it their commands, terminals
        and tunnels), restart hosts whose connection settings changed, and leave every other
        loop and connection as it is. A new cadence restarts every loop."""
        cadence = (interval_s, timeout_s, slow_every_s)
        restart_all = cadence != (self.interval_s, self.timeout_s, self.slow_every_s)
        wanted = {h.name: h for h in hosts}
        current = {name: p.host for name, p in self.by_name.items()}
        change = plan(current, wanted, same_host_loop, restart_all=restart_all)
        self.interval_s, self.timeout_s, self.slow_every_s = cadence
        gone = [*change.removed, *change.restarted]
        await asyncio.gather(*(self._stop_loop(name) for name in gone))
        for name in change.removed:
            del self.by_name[name]
        for name in change.updated:
            # Same address and SSH settings: only groups, tags or MAC changed.
            self.by_name[name].host = wanted[name]
        for name in (*change.restarted, *change.added):
            poller = self.by_name[name] = self._poller(wanted[name])
            if self._running:
                self._start_loop(poller)
        # The inventory's order, in place (the command runner holds this dict).
        ordered = _reordered(self.by_name, wanted)
        self.by_name.clear()
        self.by_name.update(ordered)
        return change

    def _poller(self, host: HostConfig) -> HostPoller:
        return HostPoller(
            host,
            self._known_hosts,
            interval_s=self.interval_s,
            timeout_s=self.timeout_s,
            slow_every_s=self.slow_every_s,
        )

    def _start_loop(self, poller: HostPoller) -> None:
        name = poller.host.name
        self._tasks[name] = asyncio.create_task(self._loop(poller), name=f"poll:{name}")

    async def _stop_loop(self, name: str) -> None:
        task = self._tasks.pop(name, None)
        if task is not None:
            await cancel_all([task])
        poller = self.by_name.get(name)
        if poller is not None:
            try:
                await poller.close()
            except Exception:  # a broken connection must not stop the reconcile
                log.warning("%s: error while closing the connection", name, exc_info=True)

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
