"""What the evaluator looks at: each target's latest sample, poll state and ping answer.

Fed by :mod:`mirror.alerts.events` from the live hub; holds no history but the few
points a trend rule needs (one every ``trend_step_s`` per watched series).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from mirror.model import split_series

TargetKind = Literal["host", "snmp"]
TREND_STEP_S = 300.0
TREND_POINTS = 288  # 24 h at one point per 5 minutes


@dataclass(slots=True)
class Target:
    name: str
    kind: TargetKind
    groups: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    address: str | None = None
    interval_s: float = 5.0
    metrics: dict[str, float] = field(default_factory=dict)
    sample_ts: float | None = None  # the newest sample with metrics
    seen_ts: float | None = None  # when the target was first configured (for no-data)
    state: str = "pending"
    state_since: float | None = None
    error: str | None = None
    ping_up: bool | None = None
    # metric → [(instance, series name)], rebuilt when the set of series changes
    by_metric: dict[str, list[tuple[str | None, str]]] = field(default_factory=dict)
    history: dict[str, deque[tuple[float, float]]] = field(default_factory=dict)
    was_up: set[str] = field(default_factory=set)  # series of up_metrics ever seen >= 1

    def series(self, metric: str) -> list[tuple[str | None, str]]:
        return self.by_metric.get(metric, [])

    @property
    def cores(self) -> int:
        return sum(1 for inst, _ in self.series("cpu.busy_pct") if inst is not None)


def _index(metrics: dict[str, float]) -> dict[str, list[tuple[str | None, str]]]:
    out: dict[str, list[tuple[str | None, str]]] = {}
    for name in metrics:
        metric, instance = split_series(name)
        out.setdefault(metric, []).append((instance, name))
    return out


class FleetView:
    """Targets by name; ``trend_metrics`` are the metrics whose history is kept."""

    def __init__(
        self, trend_metrics: frozenset[str] = frozenset(), up_metrics: frozenset[str] = frozenset()
    ) -> None:
        self.targets: dict[str, Target] = {}
        self.by_address: dict[str, list[str]] = {}
        self.trend_metrics = trend_metrics
        self.up_metrics = up_metrics

    def configure(self, targets: list[Target], now: float) -> None:
        """Adopt the inventory's targets, keeping what is known of those already here."""
        kept: dict[str, Target] = {}
        for new in targets:
            old = self.targets.get(new.name)
            if old is not None:
                old.kind, old.groups, old.tags = new.kind, new.groups, new.tags
                old.address, old.interval_s = new.address, new.interval_s
                kept[new.name] = old
            else:
                new.seen_ts = now
                kept[new.name] = new
        self.targets = kept
        self.by_address = {}
        for t in kept.values():
            if t.address is not None:
                self.by_address.setdefault(t.address, []).append(t.name)

    def observe_poll(
        self, name: str, ts: float, state: str, metrics: dict[str, float], error: str | None = None
    ) -> None:
        target = self.targets.get(name)
        if target is None:
            return
        self.observe_state(name, state, ts, error)
        if metrics:
            if metrics.keys() != target.metrics.keys():
                target.by_metric = _index(metrics)
            target.metrics = metrics
            target.sample_ts = ts
            for metric in self.up_metrics:
                for _, series in target.by_metric.get(metric, ()):
                    if metrics[series] >= 1:
                        target.was_up.add(series)
            for metric in self.trend_metrics:
                for _, series in target.by_metric.get(metric, ()):
                    points = target.history.get(series)
                    if points is None:
                        points = target.history[series] = deque(maxlen=TREND_POINTS)
                    if not points or ts - points[-1][0] >= TREND_STEP_S:
                        points.append((ts, metrics[series]))

    def observe_state(self, name: str, state: str, ts: float, error: str | None = None) -> None:
        target = self.targets.get(name)
        if target is None:
            return
        if state != target.state:
            target.state, target.state_since = state, ts
        target.error = error

    def observe_ping(self, address: str, up: bool) -> None:
        for name in self.by_address.get(address, ()):
            self.targets[name].ping_up = up
