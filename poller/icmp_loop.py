"""EGO's ICMP loops: every known host pinged each poll interval, each subnet swept on its own.

Results go to the same sink as host polls (the ``BatchWriter``), each address under its own
storage key ``ping/ADDRESS`` (see ``mirror.model.ping_key``), with ``info`` carrying what the
API shows about it: first/last seen, MAC, reverse DNS, the inventory host at that address.
An address that answered once and then stops is written as down, so an outage is data.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from logging import DEBUG
from typing import Any

from collectors.neighbours import Neighbour, read_neighbours
from mirror.inventory import Inventory, Subnet
from mirror.model import HostState, PollStatus, Snapshot, ping_address, ping_key
from poller.discovery import Resolver, reverse_name, reverse_names
from poller.health import PollResult, TargetHealth
from poller.icmp import IcmpAccess, PingResult, detect_icmp, ping_many, ping_metrics, sweep
from poller.scheduler import cancel_all, every
from poller.wol import WakeService

log = logging.getLogger(__name__)


class IcmpMonitor:
    def __init__(
        self,
        inventory: Inventory,
        submit: Callable[[PollResult], None],
        *,
        access: IcmpAccess,
        neighbours: Callable[[], Mapping[str, Neighbour]] = read_neighbours,
        resolver: Resolver | None = reverse_name,
        seen: Mapping[str, tuple[float, float]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.access = access
        self._set_interval(inventory.poll.interval_s)
        self.known = inventory.known_addresses()
        self.subnets = [s for s in inventory.subnets if s.sweeps]
        self._submit = submit
        self._neighbours = neighbours
        self._resolver = resolver
        self._clock = clock
        self._seen: dict[str, tuple[float, float]] = dict(seen or {})
        self._names: dict[str, str | None] = {}
        self._health: dict[str, TargetHealth] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._tasks_started = False  # a reload starts loops only in a running monitor

    async def start(self) -> None:
        if not self.access.usable:
            log.warning("%s", self.access.message)
            return
        log.info("%s", self.access.message)
        self._tasks_started = True
        self._tasks.append(asyncio.create_task(self._ping_loop(), name="icmp:hosts"))
        for subnet in self.subnets:
            task = asyncio.create_task(self._sweep_loop(subnet), name=f"icmp:{subnet.name}")
            self._tasks.append(task)

    async def retarget(self, inventory: Inventory) -> None:
        """After a reload: the host round pings the new addresses from its next round on;
        sweep loops start and stop by diff (a subnet whose settings changed restarts)."""
        self.known = inventory.known_addresses()
        subnets = [s for s in inventory.subnets if s.sweeps]
        if inventory.poll.interval_s != self.interval_s:
            self._set_interval(inventory.poll.interval_s)
            await self._restart("icmp:hosts", self._ping_loop)
        gone = [s for s in self.subnets if s not in subnets]
        new = [s for s in subnets if s not in self.subnets]
        self.subnets = subnets
        for subnet in gone:
            await self._restart(f"icmp:{subnet.name}", None)
        for subnet in new:
            await self._restart(f"icmp:{subnet.name}", functools.partial(self._sweep_loop, subnet))

    def _set_interval(self, interval_s: float) -> None:
        self.interval_s = interval_s
        # Three echoes give jitter; they must fit well inside the interval.
        self.count = 3 if interval_s >= 3 else 1
        self.timeout_s = min(1.0, interval_s / 3)

    async def _restart(self, name: str, loop: Callable[[], Any] | None) -> None:
        """Stop the task called ``name``; start ``loop`` under that name (ICMP usable only)."""
        stopping = [t for t in self._tasks if t.get_name() == name]
        self._tasks = [t for t in self._tasks if t not in stopping]
        await cancel_all(stopping)
        if loop is not None and self.access.usable and self._tasks_started:
            self._tasks.append(asyncio.create_task(loop(), name=name))

    async def stop(self) -> None:
        self._tasks_started = False
        await cancel_all(self._tasks)
        self._tasks.clear()

    async def ping_hosts_once(self) -> list[PollResult]:
        """Ping every inventory address once (``count`` echoes each) and submit the results."""
        started = time.perf_counter()
        results = await ping_many(
            self.known,
            privileged=self.access.privileged,
            count=self.count,
            timeout_s=self.timeout_s,
        )
        duration_ms = (time.perf_counter() - started) * 1000
        neighbours = self._neighbours()
        out = [self._record(r, neighbours.get(r.address), duration_ms) for r in results]
        self._emit(out)
        return out

    async def sweep_once(self, subnet: Subnet) -> list[PollResult]:
        """Sweep one subnet; submit addresses not in the inventory that answer or answered."""
        result = await sweep(subnet.cidr, privileged=self.access.privileged)
        duration_ms = result.duration_s * 1000
        fresh = [
            r
            for r in result.results
            if r.address not in self.known and (r.up or r.address in self._seen)
        ]
        await self._resolve([r.address for r in fresh if r.up])
        neighbours = self._neighbours()
        out = [self._record(r, neighbours.get(r.address), duration_ms) for r in fresh]
        self._emit(out)
        return out

    def _record(
        self, result: PingResult, neighbour: Neighbour | None, duration_ms: float
    ) -> PollResult:
        now = self._clock()
        first, last = self._seen.get(result.address, (now, 0.0))
        if result.up:
            last = now
            self._seen[result.address] = (first, last)
        info: dict[str, Any] = {
            "address": result.address,
            "host": self.known.get(result.address),
            "first_seen": first if last else None,
            "last_seen": last or None,
            "mac": neighbour.mac if neighbour else None,
            "name": self._names.get(result.address),
        }
        error = None
        if not result.up:
            error = result.error or (
                f"no echo reply to {result.sent} ping(s) within {self.timeout_s:g} s"
            )
        key = ping_key(result.address)
        snapshot = Snapshot(host=key, ts=now, metrics=ping_metrics(result), info=info)
        state = HostState.UP if result.up else HostState.UNREACHABLE
        status = PollStatus(host=key, state=state, ts=now, error=error, duration_ms=duration_ms)
        return PollResult(snapshot, status, self._health_of(key).observe(state, error, now))

    def _health_of(self, key: str) -> TargetHealth:
        health = self._health.get(key)
        if health is None:
            # Addresses come and go on a LAN: their changes are events, logged at DEBUG only.
            health = TargetHealth(key, "ping", self.interval_s, level=DEBUG)
            self._health[key] = health
        return health

    async def _resolve(self, addresses: list[str]) -> None:
        todo = [a for a in addresses if a not in self._names]
        if not todo or self._resolver is None:
            return
        self._names.update(await reverse_names(todo, self._resolver))

    def _emit(self, results: list[PollResult]) -> None:
        for result in results:
            try:
                self._submit(result)
            except Exception:  # a sink bug must not kill the loop
                log.exception("ICMP result handler failed")

    async def _ping_loop(self) -> None:
        await self._every(self.interval_s, "icmp:hosts", self.ping_hosts_once)

    async def _sweep_loop(self, subnet: Subnet) -> None:
        async def once() -> None:
            await self.sweep_once(subnet)

        await self._every(subnet.sweep_interval_s, f"icmp:{subnet.name}", once)

    async def _every(self, interval_s: float, name: str, job: Callable[[], Any]) -> None:
        async def step(_slot: float) -> None:
            await job()

        await every(name, interval_s, step)


def seen_from_rows(rows: list[Any]) -> dict[str, tuple[float, float]]:
    """First/last seen of each address from stored ``ping/`` rows (``Store.host_rows()``)."""
    seen = {}
    for row in rows:
        address = ping_address(row.name)
        info = row.info or {}
        first, last = info.get("first_seen"), info.get("last_seen")
        if address is not None and isinstance(first, float | int) and isinstance(last, float | int):
            seen[address] = (float(first), float(last))
    return seen


@dataclass
class NetworkWatch:
    """The ICMP loops and Wake-on-LAN of one running EGO (``ego.runtime`` wires these)."""

    monitor: IcmpMonitor
    wake: WakeService

    @classmethod
    def build(
        cls,
        inventory: Inventory,
        submit: Callable[[PollResult], None],
        publish: Callable[[dict[str, Any]], None],
        stored_rows: list[Any],
    ) -> NetworkWatch:
        access = detect_icmp()
        seen = seen_from_rows(stored_rows)
        monitor = IcmpMonitor(inventory, submit, access=access, seen=seen)
        return cls(monitor, WakeService(inventory, access, publish=publish))

    async def start(self) -> None:
        await self.monitor.start()

    async def retarget(self, inventory: Inventory) -> None:
        """After an inventory reload: new addresses to ping, subnets to sweep, hosts to wake."""
        await self.monitor.retarget(inventory)
        self.wake.retarget(inventory)

    async def stop(self) -> None:
        await self.monitor.stop()
        await self.wake.close()
