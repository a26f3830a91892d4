"""Anomaly detection: one streaming detector per series, and the "sustained" rule test.

The interface the rest of MIRROR STAGE uses (pure: no I/O, no clock):

``Detector()``
    One per stored series. ``score = detector.update(value)`` learns the value and
    returns its anomaly score in [0, 1], computed from the past only. Memory is constant
    (about 3 kB per live detector, 2238 bytes saved; ``bench/anomaly.py cost``).
    ``detector.to_bytes()`` and ``Detector.from_bytes(data)`` keep it across EGO
    restarts (``StateError`` on bytes that are not a state of this version: start a
    fresh detector then).

``ANOMALY_THRESHOLD``
    A score at or above it makes the value an anomalous point. One constant for every
    series, the one the NAB figures in the README are measured at (no per-series tuning).

``AnomalyRate(window)``
    The share of anomalous points among a series' (or a node's) last ``window`` values:
    ``rate.add(score)`` then ``rate.value``. ``rate.sustained(min_rate)`` is the condition
    of an ``anomaly`` alert rule: it alerts on sustained anomaly, not on single points.
    Its state is one integer (``rate.to_int()`` / ``AnomalyRate.from_int``).

``score_values(values)``
    Scores a whole list with a fresh detector (the CLI and the benchmark use it).

For example, an ``anomaly`` rule "anomalous in at least half of the last 5 minutes"::

    detector, rate = Detector(), AnomalyRate(window=60)  # 60 values at one per 5 s
    for value in series:
        rate.add(detector.update(value))
        if rate.sustained(0.5):
            ...  # fire
"""

from __future__ import annotations

from collections.abc import Iterable

from mirror.anomaly.detector import DEFAULT_TUNING, Detector, StateError, Tuning
from mirror.anomaly.rate import AnomalyRate

ANOMALY_THRESHOLD: float = DEFAULT_TUNING.threshold

__all__ = [
    "ANOMALY_THRESHOLD",
    "AnomalyRate",
    "Detector",
    "StateError",
    "Tuning",
    "score_values",
]


def score_values(values: Iterable[float], tuning: Tuning = DEFAULT_TUNING) -> list[float]:
    """One score per value, each from the values before it and itself only."""
    detector = Detector(tuning)
    return [detector.update(v) for v in values]
