"""The alert engine EGO runs: follows the live hub, evaluates every ``evaluate_every_s``,
stores transitions, and hands notifiable alerts to a sink (the ``notify`` package).

Rule evaluation never waits on a channel: the sink's ``update`` only queues (notify's
dispatcher sends in its own task). Storage runs in a worker thread; when the database
refuses, the transitions are kept and written on the next evaluation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from mirror.alerts.conditions import AnomalySource
from mirror.alerts.defaults import effective_rules
from mirror.alerts.evaluate import (
    AlertKey,
    CompiledRule,
    Transition,
    compile_rules,
    evaluate,
    trend_metrics,
    up_metrics,
)
from mirror.alerts.events import apply_events
from mirror.alerts.history import AlertHistory
from mirror.alerts.lifecycle import AlertState
from mirror.alerts.silences import Silence, silenced_by
from mirror.alerts.view import FleetView, Target
from mirror.errors import StorageError
from mirror.inventory.current import CurrentInventory
from mirror.inventory.models import Inventory
from mirror.live import LiveHub

log = logging.getLogger(__name__)
HOUR_S = 3600.0


@dataclass(frozen=True, slots=True)
class Notice:
    """An alert worth telling someone about (firing, or resolved after it was told)."""

    id: int | None
    transition: Transition
    status: str  # firing, resolved


class AlertSink(Protocol):
    def update(self, firing: list[Notice], resolved: list[Notice], now: float) -> None: ...


def targets_of(inventory: Inventory) -> list[Target]:
    interval = inventory.poll.interval_s
    out = [
        Target(h.name, "host", tuple(h.groups), tuple(h.tags), h.address, interval)
        for h in inventory.hosts
    ]
    out += [
        Target(d.name, "snmp", tuple(d.groups), tuple(d.tags), d.address, d.interval_s)
        for d in inventory.snmp
    ]
    return out


class AlertEngine:
    def __init__(
        self,
        current: CurrentInventory,
        history: AlertHistory | None,
        sink: AlertSink | None = None,
        *,
        clock: Callable[[], float] = time.time,
        anomaly: AnomalySource | None = None,
    ) -> None:
        self.current = current
        self.history = history
        self.sink = sink
        self.clock = clock
        self.anomaly = anomaly  # mirror.alerts.anomalies.DetectorSource in EGO
        self.view = FleetView()
        self.alerts: dict[AlertKey, AlertState] = {}
        self.ids: dict[AlertKey, int] = {}
        self.last: dict[AlertKey, Transition] = {}  # each active alert's latest transition
        self.notified: set[AlertKey] = set()  # fired and told (so a resolve is told too)
        self.silences: list[Silence] = []
        self.acked: set[AlertKey] = set()  # acknowledged: no repeats, resolve still told
        self.rules: list[CompiledRule] = []
        self._seen: Inventory | None = None
        self._unstored: list[Transition] = []
        self.dropped: list[AlertKey] = []
        self._trimmed_at = 0.0
        self.eval_s_total = 0.0
        self.evaluations = 0

    def configure(self) -> None:
        """(Re)compile the rules and targets when the inventory object changed (a reload)."""
        inventory = self.current.get()
        if inventory is self._seen:
            return
        self._seen = inventory
        rules = effective_rules(inventory.alerts)
        self.rules = compile_rules(rules, self.anomaly)
        self.view.trend_metrics = trend_metrics(rules)
        self.view.up_metrics = up_metrics(rules)
        self.view.configure(targets_of(inventory), self.clock())

    def restore(self) -> None:
        """Active alerts as stored before a restart (firing ones are not re-announced)."""
        if self.history is None:
            return
        self.alerts, self.acked = self.history.load_active()
        self.notified = {k for k, a in self.alerts.items() if a.status == "firing"}
        self.silences = self.history.silences()

    def step(self, now: float | None = None, only: set[str] | None = None) -> list[Transition]:
        """One evaluation (pure part + bookkeeping); storage is left to :meth:`store`.
        ``only``: just the targets a batch of polls updated."""
        self.configure()
        now = self.clock() if now is None else now
        started = time.perf_counter()
        result = evaluate(self.rules, self.view, self.alerts, now, self.silences, only)
        self.dropped = [
            k for k, a in self.alerts.items() if k not in result.alerts and a.status == "pending"
        ]
        self.alerts = result.alerts
        for t in result.transitions:
            if t.to == "resolved":
                self.last.pop(t.key, None)
            else:
                self.last[t.key] = t
        self.eval_s_total += time.perf_counter() - started
        self.evaluations += 1
        return result.transitions

    def store(self, transitions: list[Transition], dropped: list[AlertKey] | None = None) -> None:
        """Write transitions (and any left from a refused write); worker thread.
        ``dropped``: pending alerts whose breach ended before they fired (deleted)."""
        if self.history is None:
            return
        pending = self._unstored + transitions
        try:
            self.ids.update(self.history.record(pending))
            self._unstored = []
            self.history.forget_pending(dropped or [])
        except StorageError as e:
            log.error("alert history not written (kept for the next try): %s", e)
            self._unstored = pending[-10_000:]

    def notify(self, transitions: list[Transition], now: float) -> None:
        if self.sink is None:
            return
        resolved = []
        for t in transitions:
            if t.to == "resolved":
                self.acked.discard(t.key)
            if t.to == "resolved" and t.key in self.notified:
                self.notified.discard(t.key)
                resolved.append(Notice(self.ids.get(t.key), t, "resolved"))
        firing = []
        stateful = {r.name for r in self.rules if r.rule.state is not None}
        down = {k[1] for k, a in self.alerts.items() if a.status == "firing" and k[0] in stateful}
        for key, t in self.last.items():
            state = self.alerts.get(key)
            if state is None or state.status != "firing":
                continue
            if key[0] not in stateful and key[1] in down:
                continue  # inhibited: the host itself is down
            if key in self.acked:
                continue
            if silenced_by(self.silences, t.labels, t.groups, t.tags, now) is not None:
                continue
            t = replace(t, state=state, to=state.status)
            self.notified.add(key)
            firing.append(Notice(self.ids.get(key), t, "firing"))
        self.sink.update(firing, resolved, now)

    async def tick(self, only: set[str] | None = None) -> list[Transition]:
        now = self.clock()
        transitions = self.step(now, only)
        if transitions or self._unstored or self.dropped:
            await asyncio.to_thread(self.store, transitions, self.dropped)
        self.notify(transitions, now)
        if only is None and now - self._trimmed_at > HOUR_S and self.history is not None:
            self._trimmed_at = now
            keep_s = self.current.get().alerts.history_days * 86400
            try:
                await asyncio.to_thread(self.history.trim, now - keep_s)
                self.silences = await asyncio.to_thread(self.history.silences)
            except StorageError as e:
                log.error("alert history not trimmed: %s", e)
        return transitions

    async def run(self, hub: LiveHub) -> None:
        """Follow ``hub`` and evaluate until cancelled: the targets of each batch of polls
        as it arrives, and every target every ``evaluate_every_s`` (``for:`` windows that
        end between polls, no-data)."""
        self.configure()
        if self.history is not None:
            await asyncio.to_thread(self.restore)
        touched: set[str] = set()
        wake = asyncio.Event()

        async def feed() -> None:
            async for batch in hub.subscribe_batches():
                apply_events(self.view, batch)
                touched.update(str(e["host"]) for e in batch if isinstance(e, dict) and "host" in e)
                wake.set()

        loop = asyncio.get_running_loop()
        feeder = asyncio.create_task(feed(), name="alerts-feed")
        next_full = loop.time() + self.current.get().alerts.evaluate_every_s
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), max(0.0, next_full - loop.time()))
                wake.clear()
                only: set[str] | None = None
                if loop.time() >= next_full:
                    next_full = loop.time() + self.current.get().alerts.evaluate_every_s
                else:
                    only = set(touched)
                touched.clear()
                try:
                    await self.tick(only)
                except Exception:  # one bad evaluation must not end alerting
                    log.exception("alert evaluation failed")
        finally:
            feeder.cancel()
            await asyncio.gather(feeder, return_exceptions=True)

    def reload_silences(self) -> None:
        if self.history is not None:
            self.silences = self.history.silences()

    def counts(self) -> dict[str, int]:
        """Active alerts by status and severity (the UI's badge)."""
        out = {"firing": 0, "pending": 0, "critical": 0, "warning": 0, "info": 0}
        for key, state in self.alerts.items():
            out[state.status] = out.get(state.status, 0) + 1
            t = self.last.get(key)
            if t is not None and state.status == "firing":
                out[t.severity] = out.get(t.severity, 0) + 1
        return out
