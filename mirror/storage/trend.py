"""Linear trend of one series: least squares over its points, and when it reaches a limit.

Pure functions. ``fit`` centres time on the mean before multiplying, so a fit over a
year of unix-second timestamps loses no precision; on exactly linear points it returns the
line exactly (up to float rounding).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class Trend:
    slope_per_s: float
    mean_ts: float
    mean_value: float
    r2: float | None  # None when every value is the same (nothing to explain)
    n: int

    def at(self, ts: float) -> float:
        return self.mean_value + self.slope_per_s * (ts - self.mean_ts)

    @property
    def slope_per_day(self) -> float:
        return self.slope_per_s * DAY_S


def fit(points: Sequence[tuple[float, float]]) -> Trend | None:
    """The least-squares line through finite ``(ts, value)`` points; None under two times."""
    pts = [(t, v) for t, v in points if math.isfinite(t) and math.isfinite(v)]
    if len({t for t, _ in pts}) < 2:
        return None
    n = len(pts)
    mt = math.fsum(t for t, _ in pts) / n
    mv = math.fsum(v for _, v in pts) / n
    sxx = math.fsum((t - mt) ** 2 for t, _ in pts)
    sxy = math.fsum((t - mt) * (v - mv) for t, v in pts)
    syy = math.fsum((v - mv) ** 2 for _, v in pts)
    slope = sxy / sxx
    r2 = None if syy == 0 else max(0.0, min(1.0, (sxy * sxy) / (sxx * syy)))
    return Trend(slope, mt, mv, r2, n)


def reaches(trend: Trend, limit: float, after_ts: float) -> float | None:
    """When (unix seconds, at or after ``after_ts``) the line crosses ``limit``; None if never
    (flat, heading away, or it crossed before ``after_ts``)."""
    if trend.slope_per_s == 0:
        return None
    crossing = trend.mean_ts + (limit - trend.mean_value) / trend.slope_per_s
    return crossing if crossing >= after_ts else None
