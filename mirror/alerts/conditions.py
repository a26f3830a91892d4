"""What each rule kind checks on one target: pure functions from a ``Target`` to findings.

A finding is one instance's value and whether it breaches (starts an alert) and holds
(keeps one going: the hysteresis of ``recover:``). New kinds plug in by implementing
:class:`Condition`; the anomaly kind asks an :class:`AnomalySource` (the detector of
mirror/anomaly/, through ``mirror.alerts.anomalies``) for the sustained anomaly rate of a series.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from mirror.alerts.config import RuleEntry, SeriesPattern, parse_expr, parse_pattern
from mirror.alerts.view import Target
from mirror.storage.trend import fit, reaches

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
TREND_MIN_SPAN_S = 3600.0  # a trend over less than an hour of points says little


@dataclass(frozen=True, slots=True)
class Finding:
    instance: str | None
    value: float | None
    breach: bool
    hold: bool


class Condition(Protocol):
    def check(self, target: Target, now: float) -> list[Finding]: ...


class AnomalySource(Protocol):
    """The streaming detector's view: share of anomalous points of a series lately."""

    def anomaly_rate(self, target: str, series: str, window_s: float) -> float | None: ...


@dataclass(frozen=True, slots=True)
class ThresholdCondition:
    series: SeriesPattern
    op: Callable[[float, float], bool]
    limit: float
    recover: float | None
    per_core: bool
    was_up: bool = False

    def check(self, target: Target, now: float) -> list[Finding]:
        out = []
        divisor = 1.0
        if self.per_core:
            divisor = float(target.cores)
            if divisor <= 0:
                return []
        for instance, name in target.series(self.series.metric):
            if not self.series.matches_instance(instance):
                continue
            if self.was_up and name not in target.was_up:
                continue
            value = target.metrics[name] / divisor
            if value != value:
                continue
            breach = self.op(value, self.limit)
            hold = breach if self.recover is None else self.op(value, self.recover)
            out.append(Finding(instance, value, breach, hold or breach))
        return out


@dataclass(frozen=True, slots=True)
class StateCondition:
    states: frozenset[str]
    ping: str  # up, down, any

    def check(self, target: Target, now: float) -> list[Finding]:
        hit = target.state in self.states
        if hit and self.ping == "up":
            hit = target.ping_up is True
        elif hit and self.ping == "down":
            hit = target.ping_up is not True  # no ICMP answer known: not told apart
        return [Finding(None, None, hit, hit)]


# A failing poll has no data by definition; the state rules speak for it.
_FAILING = frozenset({"unreachable", "timeout", "auth-failed", "hostkey-changed", "error"})


@dataclass(frozen=True, slots=True)
class AbsentCondition:
    """No sample for ``polls`` intervals while no poll failure explains it (a stalled loop,
    a host that answers but sends nothing, a target that was never polled)."""

    polls: int

    def check(self, target: Target, now: float) -> list[Finding]:
        if target.state in _FAILING:
            return []
        last = target.sample_ts if target.sample_ts is not None else target.seen_ts
        if last is None:
            return []
        silent_s = now - last
        hit = silent_s > self.polls * target.interval_s
        return [Finding(None, round(silent_s, 1), hit, hit)]


@dataclass(frozen=True, slots=True)
class TrendCondition:
    series: SeriesPattern
    limit: float
    within_s: float

    def check(self, target: Target, now: float) -> list[Finding]:
        out = []
        for instance, name in target.series(self.series.metric):
            if not self.series.matches_instance(instance):
                continue
            points = target.history.get(name)
            if not points or points[-1][0] - points[0][0] < TREND_MIN_SPAN_S:
                continue
            line = fit(points)
            when = reaches(line, self.limit, now) if line is not None else None
            hit = when is not None and when - now <= self.within_s
            eta_s = None if when is None else round(when - now)
            out.append(Finding(instance, eta_s, hit, hit))
        return out


@dataclass(frozen=True, slots=True)
class AnomalyCondition:
    series: SeriesPattern
    rate: float
    window_s: float
    source: AnomalySource | None

    def check(self, target: Target, now: float) -> list[Finding]:
        if self.source is None:
            return []
        out = []
        for instance, name in target.series(self.series.metric):
            if not self.series.matches_instance(instance):
                continue
            rate = self.source.anomaly_rate(target.name, name, self.window_s)
            if rate is not None:
                out.append(Finding(instance, rate, rate >= self.rate, rate >= self.rate / 2))
        return out


def compile_condition(rule: RuleEntry, anomaly: AnomalySource | None = None) -> Condition:
    if rule.expr is not None:
        t = parse_expr(rule.expr)
        return ThresholdCondition(
            t.series, _OPS[t.op], t.value, rule.recover, rule.per_core, rule.was_up
        )
    if rule.state is not None:
        return StateCondition(frozenset(rule.state), rule.ping)
    if rule.absent_polls is not None:
        return AbsentCondition(rule.absent_polls)
    if rule.trend is not None:
        assert rule.within is not None
        return TrendCondition(parse_pattern(rule.trend), rule.reaches, rule.within)
    if rule.anomaly is not None:
        window = max(rule.for_s, 300.0)
        return AnomalyCondition(parse_pattern(rule.anomaly), rule.anomaly_rate, window, anomaly)
    raise ValueError(f"rule {rule.name} has no kind")
