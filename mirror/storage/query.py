"""The read side for charts: one function picks the tier and merges tiers at the edges.

:func:`series` answers "series S of host H from T1 to T2" with about 300–1500 points:

- the tier is the coarsest one that still gives at least ``min_points`` (raw for up to
  ~25 min at 5 s polls … 1-minute from 5 h, 1-hour from 12.5 days); when that tier
  would give more than ``max_points`` its points are grouped into wider buckets on read;
- the recent edge: a rollup tier is final only up to its watermark, so what lies after it
  comes from the finer tier (ultimately raw), grouped into the tier's buckets on the fly;
- the old edge: where a tier has no data left (retention), the coarser tier fills in.

:func:`fleet` gives every host's last-hour sparkline of one series in a fixed number of
queries (not one per host). Timestamps of rollup points are bucket starts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mirror.storage.rollup import (
    COARSER,
    FINER,
    HOUR,
    MINUTE,
    RAW,
    STATS,
    Tier,
    watermarks,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from mirror.storage.store import Store

_LAST_MS = 2**62  # "up to whatever is stored"
MIN_POINTS = 300
MAX_POINTS = 1500
RAW_STEP_S = 5.0  # the default poll interval: how many raw points a span holds
STAT_NAMES = ("avg", *STATS)

# (ts_ms, weight n, value)
_Point = tuple[int, int, float]


@dataclass(frozen=True, slots=True)
class SeriesResult:
    points: list[tuple[float, float]]  # (unix seconds, value), oldest first
    tier: str  # the tier chosen for the span: "raw", "1m" or "1h"
    step_s: float | None  # width of each point's bucket; None: raw polls at their own times
    sources: tuple[str, ...]  # tiers the points came from, oldest first


def pick_tier(span_s: float, *, min_points: int = MIN_POINTS) -> Tier:
    """The coarsest tier that gives at least ``min_points`` points over ``span_s``."""
    for tier in (HOUR, MINUTE):
        if span_s * 1000 / tier.step_ms >= min_points:
            return tier
    return RAW


def display_step_ms(span_ms: int, tier_step_ms: int, max_points: int = MAX_POINTS) -> int:
    """The smallest multiple of ``tier_step_ms`` that keeps ``span_ms`` within ``max_points``."""
    return tier_step_ms * max(1, math.ceil(span_ms / (tier_step_ms * max_points)))


def series(
    store: Store,
    host: str,
    name: str,
    start_ts: float,
    end_ts: float,
    *,
    stat: str = "avg",
    min_points: int = MIN_POINTS,
    max_points: int = MAX_POINTS,
    raw_step_s: float = RAW_STEP_S,
) -> SeriesResult:
    """Points of ``host``'s series ``name`` with ``start_ts <= ts <= end_ts``.

    ``stat`` picks what a rollup point carries (avg, min, max or last); a raw poll is all four.
    """
    if stat not in STAT_NAMES:
        raise ValueError(f"unknown statistic {stat!r}: use one of {', '.join(STAT_NAMES)}")
    start_ms, end_ms = round(start_ts * 1000), round(end_ts * 1000)
    span_ms = max(0, end_ms - start_ms)
    tier = pick_tier(span_ms / 1000, min_points=min_points)
    with store.read_connection("reading a series") as conn:
        found = store.series_id(conn, host, name)
        if found is None or end_ms < start_ms:
            return SeriesResult([], tier.name, _step_s(tier), ())
        reader = _Reader(store, conn, found[0], found[1], stat)
        points, sources = reader.with_history(tier, start_ms, end_ms)
    nominal = tier.step_ms or round(raw_step_s * 1000)
    step = display_step_ms(span_ms, nominal, max_points)
    if step > nominal or (tier is not RAW and len(sources) > 1):
        points = _regroup(points, max(step, tier.step_ms), stat)
        step_s: float | None = max(step, tier.step_ms) / 1000
    else:
        step_s = _step_s(tier)
    return SeriesResult([(ts / 1000, v) for ts, _, v in points], tier.name, step_s, sources)


def _step_s(tier: Tier) -> float | None:
    return tier.step_ms / 1000 if tier.step_ms else None


def _regroup(points: Iterable[_Point], step_ms: int, stat: str) -> list[_Point]:
    """Group time-ordered points into ``step_ms`` buckets, as the statistic says."""
    out: list[_Point] = []
    start = n = 0
    acc = 0.0
    for ts, weight, value in points:
        b = ts - ts % step_ms
        if out and b == start:
            if stat == "avg":
                acc += value * weight
                n += weight
                out[-1] = (b, n, acc / n)
            elif stat == "min":
                out[-1] = (b, n + weight, min(out[-1][2], value))
                n += weight
            elif stat == "max":
                out[-1] = (b, n + weight, max(out[-1][2], value))
                n += weight
            else:
                n += weight
                out[-1] = (b, n, value)
        else:
            start, n, acc = b, weight, value * weight
            out.append((b, weight, value))
    return out


class _Reader:
    """Reads one series of one host from any tier within one connection."""

    def __init__(self, store: Store, conn: Connection, host_id: int, series_id: int, stat: str):
        layout = store.layout
        self._source = layout.series_reader(conn, host_id, series_id, stat)
        self._stat = stat
        # A layout whose tiers are whole (TimescaleDB's real-time aggregates) has no
        # watermark to merge at.
        self._whole = layout.tiers_are_whole
        self._marks = {} if self._whole else watermarks(conn)

    def with_history(
        self, tier: Tier, start: int, end: int
    ) -> tuple[list[_Point], tuple[str, ...]]:
        points, sources = self.complete(tier, start, end)
        coarser = COARSER.get(tier.name)
        first = points[0][0] if points else end + 1
        if coarser is not None and first > start + (tier.step_ms or 0):
            older, older_sources = self.with_history(coarser, start, first - 1)
            older = [p for p in older if p[0] + coarser.step_ms <= first] if points else older
            if older:
                return older + points, _join(older_sources, sources)
        return points, sources

    def complete(self, tier: Tier, start: int, end: int) -> tuple[list[_Point], tuple[str, ...]]:
        """``tier``'s points in ``[start, end]``, its unrolled tail taken from finer tiers."""
        if tier is RAW:
            points = self._source.read_raw(start, end)
            return points, ("raw",) if points else ()
        if self._whole:
            points = self._source.read_tier(tier, start, end)
            return points, (tier.name,) if points else ()
        mark = self._marks.get(tier.name)
        points = []
        sources: tuple[str, ...] = ()
        if mark is not None and start < mark:
            points = self._source.read_tier(tier, start, min(end, mark - 1))
            sources = (tier.name,) if points else ()
        tail = max(start, mark) if mark is not None else start
        if end >= tail:
            finer, finer_sources = self.complete(FINER[tier.name], tail, end)
            if finer:
                points += _regroup(finer, tier.step_ms, self._stat)
                sources = _join(sources, finer_sources)
        return points, sources


def _join(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    return a + tuple(s for s in b if not a or s != a[-1])


# -- fleet overview -------------------------------------------------------------------------


def fleet(
    store: Store, name: str, start_ts: float, end_ts: float
) -> dict[str, list[tuple[float, float]]]:
    """Each host's series ``name`` as 1-minute averages in ``[start, end]``, by host name.

    A fixed number of queries whatever the number of hosts: the series ids, the watermark,
    the layouts, one row per host with its 1-minute averages (the database picks the value
    out of each row), and the raw rows after the watermark (see :mod:`sparklines`).
    """
    start_ms, end_ms = round(start_ts * 1000), round(end_ts * 1000)
    with store.read_connection("reading the fleet overview") as conn:
        points, _ = _fleet_points(store, conn, name, start_ms, end_ms)
    return {host: [(ts / 1000, v) for ts, _, v in pts] for host, pts in points.items()}


def recent_fleet(
    store: Store, name: str, start_ts: float, end_ts: float
) -> dict[str, list[tuple[float, float]]]:
    """:func:`fleet` for the last hour, from the store's in-memory window (see
    :mod:`mirror.storage.recent`): the database is read the first time ``name`` is asked
    for (from ``start_ts`` on), or when ``start_ts`` lies before what the window holds."""
    start_ms, end_ms = round(start_ts * 1000), round(end_ts * 1000)
    found = store.recent.read(name, start_ms, end_ms)
    if found is None and name not in store.recent.tracked:
        with store.writes_paused():
            if name not in store.recent.tracked:
                with store.read_connection("reading the fleet overview") as conn:
                    points, newest = _fleet_points(store, conn, name, start_ms, _LAST_MS)
                store.recent.seed(name, start_ms, points, newest)
            found = store.recent.read(name, start_ms, end_ms)
    return found if found is not None else fleet(store, name, start_ts, end_ts)


def _fleet_points(
    store: Store, conn: Connection, name: str, start_ms: int, end_ms: int
) -> tuple[dict[str, list[_Point]], dict[str, int]]:
    """Each host's 1-minute buckets ``(start ms, n, avg)``, and the newest sample they hold
    (the rolled-up part counts as reaching the watermark): see :mod:`sparklines`."""
    return store.layout.fleet(conn, name, start_ms, end_ms)
