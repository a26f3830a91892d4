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
import inspect
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from mirror.inventory import HostConfig
from mirror.inventory.diff import Plan, plan, same_host_loop
from poller.host import HostPoller, PollResult
from poller.ssh import KnownHosts

log = logging.getLogger(__name__)


class _Target(Protocol):
    @property
    def name(self) -> str: ...


class _Poller(Protocol):
    async def close(self) -> None: ...


C = TypeVar("C", bound=_Target)  # a target: HostConfig, SnmpDevice
P = TypeVar("P", bound=_Poller)  # its poller


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


async def every(
    name: str,
    interval_s: float,
    step: Callable[[float], Awaitable[object]],
    *,
    due: Callable[[], bool | Awaitable[bool]] | None = None,
) -> None:
    """The one poll loop (SSH hosts, SNMP devices, ICMP rounds and sweeps): ``step(slot)``
    at the target's ``first_slot``, then at each ``next_slot``, never two at once; a slot
    is skipped while ``due()`` (a function or a coroutine function: an SSH host looks at
    its port) says the target is backing off. A step that raises (a sink
    bug) is logged once until it works again, and the loop goes on."""
    loop = asyncio.get_running_loop()
    slot = first_slot(name, interval_s, loop.time())
    failing = False
    while True:
        await asyncio.sleep(max(0.0, slot - loop.time()))
        if due is None or await _answer(due()):
            try:
                await step(slot)
            except Exception:
                if not failing:
                    log.exception("%s: poll step failed", name)
                failing = True
            else:
                if failing:
                    log.info("%s: poll step works again", name)
                failing = False
        slot = next_slot(slot, interval_s, loop.time())


async def _answer(value: bool | Awaitable[bool]) -> bool:
    return await value if inspect.isawaitable(value) else value


async def cancel_all(tasks: Iterable[asyncio.Task[None]]) -> None:
    tasks = list(tasks)
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


class LoopPool(Generic[C, P]):
    """One loop per target, keyed by the target's name, that ``sync`` matches to a new list
    of targets (Prometheus' scrape pool sync): new targets start, removed ones stop (their
    connection closed), ``same_loop`` decides which changed ones restart, and every other
    loop and connection stays, only its view of the target replaced.

    A subclass sets what ``_new`` needs before calling ``__init__``.
    """

    task_prefix = "poll"

    def __init__(self, targets: Iterable[C]) -> None:
        # Name → poller, changed in place by ``sync``: the command runner keeps this very
        # mapping (``PollerConnections``), so it follows a reload without being told.
        self.by_name: dict[str, P] = {t.name: self._new(t) for t in targets}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._running = False

    # -- what a subclass provides ---------------------------------------------------------

    def _new(self, target: C) -> P:
        raise NotImplementedError

    def _target(self, poller: P) -> C:
        raise NotImplementedError

    def _retarget(self, poller: P, target: C) -> None:
        raise NotImplementedError

    def _same_loop(self, a: C, b: C) -> bool:
        raise NotImplementedError

    async def _loop(self, poller: P) -> None:
        raise NotImplementedError

    # -- the pool -------------------------------------------------------------------------

    @property
    def pollers(self) -> list[P]:
        return list(self.by_name.values())

    def loop_running(self, name: str) -> bool:
        task = self._tasks.get(name)
        return task is not None and not task.done()

    async def start(self) -> None:
        self._running = True
        for name, poller in self.by_name.items():
            self._start_loop(name, poller)

    async def _stop_all(self) -> None:
        self._running = False
        await cancel_all(self._tasks.values())
        self._tasks.clear()
        await asyncio.gather(*(p.close() for p in self.by_name.values()), return_exceptions=True)

    async def sync(self, targets: Iterable[C], *, restart_all: bool = False) -> Plan:
        wanted = {t.name: t for t in targets}
        current = {name: self._target(p) for name, p in self.by_name.items()}
        change = plan(current, wanted, self._same_loop, restart_all=restart_all)
        await asyncio.gather(*(self._stop_loop(n) for n in (*change.removed, *change.restarted)))
        for name in change.removed:
            del self.by_name[name]
        for name in change.updated:
            self._retarget(self.by_name[name], wanted[name])
        for name in (*change.restarted, *change.added):
            poller = self.by_name[name] = self._new(wanted[name])
            if self._running:
                self._start_loop(name, poller)
        # The inventory's order, in place (the command runner holds this dict).
        ordered = {name: self.by_name[name] for name in wanted if name in self.by_name}
        self.by_name.clear()
        self.by_name.update(ordered)
        return change

    def _start_loop(self, name: str, poller: P) -> None:
        task = asyncio.create_task(self._loop(poller), name=f"{self.task_prefix}:{name}")
        self._tasks[name] = task

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


class Scheduler(LoopPool[HostConfig, HostPoller]):
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
        self._on_result = on_result
        self.stats = PollStats()
        super().__init__(hosts)

    def poller(self, name: str) -> HostPoller | None:
        """The loop of host ``name`` (the command runner borrows its connection)."""
        return self.by_name.get(name)

    async def stop(self) -> None:
        await self._stop_all()

    async def reconcile(
        self,
        hosts: Iterable[HostConfig],
        *,
        interval_s: float,
        timeout_s: float,
        slow_every_s: float,
    ) -> Plan:
        """Make the loops match ``hosts`` (``LoopPool.sync``): removing a host closes its
        connection, and with it its commands, terminals and tunnels; a host keeps its loop
        and connection unless its address, ``local`` or SSH settings changed. A new cadence
        restarts every loop."""
        cadence = (interval_s, timeout_s, slow_every_s)
        restart_all = cadence != (self.interval_s, self.timeout_s, self.slow_every_s)
        self.interval_s, self.timeout_s, self.slow_every_s = cadence
        return await self.sync(hosts, restart_all=restart_all)

    def _new(self, host: HostConfig) -> HostPoller:
        return HostPoller(
            host,
            self._known_hosts,
            interval_s=self.interval_s,
            timeout_s=self.timeout_s,
            slow_every_s=self.slow_every_s,
        )

    def _target(self, poller: HostPoller) -> HostConfig:
        return poller.host

    def _retarget(self, poller: HostPoller, host: HostConfig) -> None:
        poller.host = host  # same address and SSH settings: only groups, tags or MAC changed

    def _same_loop(self, a: HostConfig, b: HostConfig) -> bool:
        return same_host_loop(a, b)

    async def _loop(self, poller: HostPoller) -> None:
        loop = asyncio.get_running_loop()

        async def step(slot: float) -> None:
            started = loop.time()
            self.stats.lateness_s.append(started - slot)
            result = await poller.poll()
            self.stats.latency_s.append(loop.time() - started)
            self.stats.polls += 1
            self._on_result(result)

        await every(poller.host.name, self.interval_s, step, due=poller.ready)
