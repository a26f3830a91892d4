"""The ``anomaly`` rule kind with the real streaming detector (mirror.anomaly)."""

from __future__ import annotations

import math

from mirror.alerts.anomalies import DetectorSource, followed_metrics
from mirror.alerts.conditions import AnomalyCondition
from mirror.alerts.config import RuleEntry, parse_pattern
from mirror.alerts.view import Target

STEP_S = 5.0


def feed(source: DetectorSource, values: list[float], t0: float = 0.0) -> float:
    ts = t0
    for i, value in enumerate(values):
        ts = t0 + i * STEP_S
        source.observe("nas", ts, {"cpu.busy_pct": value, "mem.used_pct": 40.0})
    return ts


def daily_shape(n: int, base: float = 20.0) -> list[float]:
    return [base + 5 * math.sin(i / 30) + (i * 7919 % 13) / 13 for i in range(n)]


def test_a_sustained_shift_raises_the_rate_and_a_steady_series_does_not() -> None:
    source = DetectorSource(lambda: {"cpu.busy_pct"})
    end = feed(source, daily_shape(720))  # an hour of normal
    assert source.followed == 1  # mem.used_pct is not followed: no rule names it
    steady = source.anomaly_rate("nas", "cpu.busy_pct", 600)
    assert steady is not None and steady < 0.1
    # CPU pinned at a level never seen, with its own jitter, for ten minutes.
    pinned = [97.0 + (i % 5) * 0.5 for i in range(120)]
    feed(source, pinned, end + STEP_S)
    shifted = source.anomaly_rate("nas", "cpu.busy_pct", 600)
    assert shifted is not None and shifted > steady


def test_no_answer_until_the_window_is_covered() -> None:
    source = DetectorSource(lambda: {"cpu.busy_pct"})
    feed(source, daily_shape(60))  # five minutes
    assert source.anomaly_rate("nas", "cpu.busy_pct", 3600) is None
    assert source.anomaly_rate("nas", "cpu.busy_pct", 240) is not None
    assert source.anomaly_rate("other", "cpu.busy_pct", 240) is None
    source.forget({"someone-else"})
    assert source.followed == 0


def test_rules_name_what_is_followed_and_the_condition_asks_the_source() -> None:
    rules = [
        RuleEntry(name="cpu-odd", anomaly="cpu.busy_pct", anomaly_rate=0.3),
        RuleEntry(name="fs", expr="fs.used_pct[*] > 90"),
    ]
    assert followed_metrics(rules) == {"cpu.busy_pct"}

    source = DetectorSource(lambda: followed_metrics(rules))
    end = feed(source, daily_shape(720))
    feed(source, [97.0 + (i % 5) * 0.5 for i in range(120)], end + STEP_S)
    target = Target("nas", "host", by_metric={"cpu.busy_pct": [(None, "cpu.busy_pct")]})
    rate = source.anomaly_rate("nas", "cpu.busy_pct", 600)
    assert rate is not None
    condition = AnomalyCondition(parse_pattern("cpu.busy_pct"), rate, 600, source)
    (finding,) = condition.check(target, 0.0)
    assert finding.breach  # at the rule's rate: it fires
    calm = AnomalyCondition(parse_pattern("cpu.busy_pct"), 1.0, 600, source)
    assert not calm.check(target, 0.0)[0].breach or rate == 1.0
