"""The last hour of a few series for every host, in memory: the fleet overview's sparklines.

Read from the database (:mod:`mirror.storage.sparklines`), the overview (a series' 1-minute
averages over the last hour for every host) costs ~35–45 ms of CPU for 254 hosts, most of it
the ~15,000 rollup rows the database walks and the raw polls after the rollup watermark that
Python must inflate; from memory it is ~2 ms and no query (bench/storage.py, README figures).
It only ever asks for the last hour of a handful of series (the fleet columns), and EGO has
one writer. So :class:`RecentWindow` keeps, for each series asked for (at most
``max_series``, least recently read dropped first), every host's 1-minute buckets of the
last hour, fed by :meth:`Store.write` after each commit. A series is read from the
database once, the first time it is asked for, while writes wait (the store's write lock),
so no sample is missed or counted twice; from then on an overview runs no query.

Samples reach a host's line in time order (one poll in flight per host; a backlog is
written oldest first), so a sample not newer than the line's newest is a repeat and skipped.
Averages are of float64 values here and float32 in the rollup rows the seed reads: the two
agree to about 7 digits.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from mirror.model import Snapshot
from mirror.storage.rollup import MINUTE

STEP_MS = MINUTE.step_ms
# Buckets older than this before a line's newest sample are dropped: a last-hour read
# (start = now - 1 h) is always covered, with the bucket in progress and some slack.
KEEP_MS = 65 * 60_000
MAX_SERIES = 8  # ~2.6 MB each for 254 hosts; the fleet table uses two

# (bucket start ms, samples n, average)
Bucket = tuple[int, int, float]


@dataclass(slots=True)
class _Line:
    """One host's buckets of one series: [start ms, n, sum], oldest first."""

    buckets: deque[list[float]] = field(default_factory=deque)
    newest_ms: int = -1  # the newest sample counted


@dataclass(slots=True)
class _Series:
    covered_ms: int  # every sample at or after this is in the lines
    lines: dict[str, _Line] = field(default_factory=dict)


class RecentWindow:
    """Thread-safe; :meth:`observe` is called with the store's write lock held."""

    def __init__(self, max_series: int = MAX_SERIES, keep_ms: int = KEEP_MS) -> None:
        self._lock = threading.Lock()
        self._max_series = max_series
        self._keep_ms = keep_ms
        self._series: OrderedDict[str, _Series] = OrderedDict()

    @property
    def tracked(self) -> list[str]:
        with self._lock:
            return list(self._series)

    def seed(
        self,
        name: str,
        since_ms: int,
        buckets: Mapping[str, list[Bucket]],
        newest_ms: Mapping[str, int],
    ) -> None:
        """Start keeping ``name`` from the database's answer for ``[since_ms, now]``.

        ``buckets``: each host's 1-minute buckets, oldest first; ``newest_ms``: each host's
        newest sample already counted in them. Call it while no write can commit.
        """
        series = _Series(covered_ms=since_ms)
        for host, points in buckets.items():
            line = _Line(deque([b, n, avg * n] for b, n, avg in points))
            line.newest_ms = newest_ms.get(host, -1)
            series.lines[host] = line
        for host, newest in newest_ms.items():
            series.lines.setdefault(host, _Line(newest_ms=newest))
        with self._lock:
            self._series[name] = series
            self._series.move_to_end(name)
            while len(self._series) > self._max_series:
                self._series.popitem(last=False)

    def observe(self, snapshots: Iterable[Snapshot]) -> None:
        """Count committed snapshots into the series kept."""
        with self._lock:
            if not self._series:
                return
            for snap in snapshots:
                if not snap.metrics:
                    continue
                ts_ms = round(snap.ts * 1000)
                for name, series in self._series.items():
                    value = snap.metrics.get(name)
                    if value is None or value != value:  # absent or NaN: not in an average
                        continue
                    line = series.lines.get(snap.host)
                    if line is None:
                        line = series.lines[snap.host] = _Line()
                    if ts_ms <= line.newest_ms:
                        continue
                    line.newest_ms = ts_ms
                    start = ts_ms - ts_ms % STEP_MS
                    buckets = line.buckets
                    if buckets and buckets[-1][0] == start:
                        buckets[-1][1] += 1
                        buckets[-1][2] += value
                    else:
                        buckets.append([start, 1, float(value)])
                        cutoff = ts_ms - self._keep_ms
                        while buckets and buckets[0][0] < cutoff:
                            buckets.popleft()
                        series.covered_ms = max(series.covered_ms, cutoff)

    def read(
        self, name: str, start_ms: int, end_ms: int
    ) -> dict[str, list[tuple[float, float]]] | None:
        """Each host's ``(bucket start s, average)`` with ``start_ms <= start <= end_ms``;
        None when ``name`` is not kept or not back to ``start_ms``."""
        with self._lock:
            series = self._series.get(name)
            if series is None or start_ms < series.covered_ms:
                return None
            self._series.move_to_end(name)
            out: dict[str, list[tuple[float, float]]] = {}
            for host, line in series.lines.items():
                buckets = line.buckets
                if not buckets:
                    continue
                if buckets[0][0] >= start_ms and buckets[-1][0] <= end_ms:  # the usual case
                    points = [(b / 1000, total / n) for b, n, total in buckets]
                else:
                    points = [
                        (b / 1000, total / n) for b, n, total in buckets if start_ms <= b <= end_ms
                    ]
                if points:
                    out[host] = points
            return out
