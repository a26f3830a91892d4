"""Rollup tiers: the pure bucket math, the row encoding, and the incremental job.

A raw poll is a bucket of one (``n = 1``, avg = min = max = last = the value), so one
function, :func:`combine`, makes 1-minute buckets from polls and 1-hour buckets from
1-minute ones: avg weighted by ``n``, min of mins, max of maxes, last of the latest bucket
that has the series. NaN (a sensor that read nothing) is left out of avg/min/max/last; a
series with no finite value in a bucket is NaN there.

The job (:func:`roll_up`) reads only what lies between a tier's watermark and the last
complete bucket, so each run costs the new data, never a rescan. A write older than the
1-minute watermark (a batch that waited out a database outage) lowers the watermark in the
same transaction (see ``Store.write``), so the next run rebuilds those buckets; rebuilding
a 1-minute bucket lowers the 1-hour watermark the same way.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from mirror.storage import codec, timescale_layout
from mirror.storage.schema import hosts, rollup_1h, rollup_1m, rollup_state, samples

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from mirror.storage.packed import PackedLayout
    from mirror.storage.store import Store


@dataclass(frozen=True, slots=True)
class Tier:
    name: str  # "raw", "1m", "1h"
    step_ms: int  # bucket width; raw: 0
    table: sa.Table


RAW = Tier("raw", 0, samples)
MINUTE = Tier("1m", 60_000, rollup_1m)
HOUR = Tier("1h", 3_600_000, rollup_1h)
TIERS = (RAW, MINUTE, HOUR)
ROLLUPS = (MINUTE, HOUR)
FINER = {MINUTE.name: RAW, HOUR.name: MINUTE}
COARSER = {RAW.name: MINUTE, MINUTE.name: HOUR}

# A bucket is closed this long after its end: polls in flight (writer flush, slow hosts)
# still land in it. Later data is not lost either: it lowers the watermark.
DEFAULT_LAG_MS = 15_000
# One transaction rolls up at most this much raw time, so the write lock is held briefly.
CHUNK_MS = 10 * 60_000

_F32_MAX = 3.4028234663852886e38


@dataclass(frozen=True, slots=True)
class Bucket:
    """One host's aggregate over ``[ts_ms, ts_ms + step)``; lists are in ``ids`` order."""

    ts_ms: int
    n: int
    ids: tuple[int, ...]
    avg: Sequence[float]
    min: Sequence[float]
    max: Sequence[float]
    last: Sequence[float]


def poll_bucket(ts_ms: int, ids: tuple[int, ...], values: Sequence[float]) -> Bucket:
    return Bucket(ts_ms, 1, ids, values, values, values, values)


def bucket_start(ts_ms: int, step_ms: int) -> int:
    return ts_ms - ts_ms % step_ms


def combine(ts_ms: int, parts: Sequence[Bucket]) -> Bucket:
    """Aggregate ``parts`` (oldest first) of one host into one bucket starting at ``ts_ms``."""
    ids = parts[0].ids
    if any(p.ids != ids for p in parts):
        ids = tuple(sorted({i for p in parts for i in p.ids}))
    width = len(ids)
    sums = [0.0] * width
    weights = [0] * width
    lows = [math.inf] * width
    highs = [-math.inf] * width
    lasts = [math.nan] * width
    for part in parts:
        index = range(width) if part.ids == ids else [ids.index(i) for i in part.ids]
        for k, j in enumerate(index):
            a = part.avg[k]
            if a == a:  # not NaN
                sums[j] += a * part.n
                weights[j] += part.n
            lo, hi, la = part.min[k], part.max[k], part.last[k]
            if lo < lows[j]:
                lows[j] = lo
            if hi > highs[j]:
                highs[j] = hi
            if la == la:
                lasts[j] = la
    avg = [s / w if w else math.nan for s, w in zip(sums, weights, strict=True)]
    lows = [v if w else math.nan for v, w in zip(lows, weights, strict=True)]
    highs = [v if w else math.nan for v, w in zip(highs, weights, strict=True)]
    return Bucket(ts_ms, sum(p.n for p in parts), ids, avg, lows, highs, lasts)


def rebucket(parts: Iterable[Bucket], step_ms: int) -> Iterator[Bucket]:
    """Group one host's time-ordered buckets (or polls) into ``step_ms`` buckets."""
    group: list[Bucket] = []
    start = 0
    for part in parts:
        b = bucket_start(part.ts_ms, step_ms)
        if group and b != start:
            yield combine(start, group)
            group = []
        start = b
        group.append(part)
    if group:
        yield combine(start, group)


# -- row encoding ---------------------------------------------------------------------------


def _f32(v: float) -> float:
    if v != v or -_F32_MAX <= v <= _F32_MAX:
        return v
    return math.copysign(math.inf, v)


def encode_avg(avg: Sequence[float]) -> bytes:
    return struct.pack(f"<{len(avg)}f", *map(_f32, avg))


def avg_at(blob: bytes, index: int) -> float:
    """Series ``index``'s average to float32's 7 significant digits (10.3, not 10.30000019)."""
    v = struct.unpack_from("<f", blob, 4 * index)[0]
    return float(f"{v:.7g}") if math.isfinite(v) else v


def _to_f32(v: float) -> float:
    return struct.unpack("<f", struct.pack("<f", _f32(v)))[0]


def encode_stats(b: Bucket) -> bytes:
    """min, max and last at float32 precision (7 significant digits, like avg): a ratio then
    packs in 4 bytes instead of 8; small integers and short decimals stay exact."""
    return codec.encode([_stat_value(v) for v in (*b.min, *b.max, *b.last)])


def _stat_value(v: float) -> float:
    if not math.isfinite(v) or (abs(v) < 2**24 and v == int(v)):
        return v
    short = round(v, 3)  # a short decimal (load 0.52, 45.125 °C) packs smaller than float32
    return short if short == v else _to_f32(v)


STATS = ("min", "max", "last")


def stat_at(blob: bytes, width: int, stat: str, index: int) -> float:
    return codec.decode_one(blob, 3 * width, STATS.index(stat) * width + index)


def decode_bucket(ts_ms: int, n: int, ids: tuple[int, ...], avg: bytes, stats: bytes) -> Bucket:
    width = len(ids)
    values = codec.decode(stats, 3 * width)
    averages = [avg_at(avg, i) for i in range(width)]
    return Bucket(
        ts_ms, n, ids, averages, values[:width], values[width : 2 * width], values[2 * width :]
    )


# -- the job --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RollupReport:
    tier: str
    buckets: int  # rows written (new or rebuilt)
    watermark_ms: int | None


def watermarks(conn: Connection, *, lock: bool = False) -> dict[str, int | None]:
    """Each tier's watermark; ``lock`` holds the rows (PostgreSQL) so that a concurrent write
    that must lower a watermark waits for this transaction and then lowers it."""
    query = sa.select(rollup_state.c.tier, rollup_state.c.watermark_ms)
    if lock:
        query = query.with_for_update()
    return {tier: mark for tier, mark in conn.execute(query)}


def lower_watermark(conn: Connection, tier: str, ts_ms: int) -> None:
    """Make the bucket holding ``ts_ms`` (and later ones) be rebuilt by the next run."""
    step = MINUTE.step_ms if tier == MINUTE.name else HOUR.step_ms
    b = bucket_start(ts_ms, step)
    conn.execute(
        rollup_state.update()
        .where(rollup_state.c.tier == tier, rollup_state.c.watermark_ms > b)
        .values(watermark_ms=b)
    )


def roll_up(store: Store, now_ms: int, *, lag_ms: int = DEFAULT_LAG_MS) -> list[RollupReport]:
    """Bring both tiers up to the last complete bucket before ``now_ms - lag_ms``."""
    # The layout's way: EGO's own job (packed), or refreshing TimescaleDB's aggregates.
    return [store.layout.roll_up_tier(store, tier, now_ms - lag_ms) for tier in ROLLUPS]


def roll_tier(store: Store, layout: PackedLayout, tier: Tier, until_ms: int) -> RollupReport:
    """The packed layout's rollup of one tier (see the module's docstring)."""
    finer = FINER[tier.name]
    written = 0
    while True:
        with store.write_transaction("rolling up") as conn:
            marks = watermarks(conn, lock=True)
            start = marks.get(tier.name)
            if start is None:
                start = _first_bucket(conn, finer, tier)
                if start is None:
                    return RollupReport(tier.name, written, None)
            # A tier is final only up to the finer tier's own watermark.
            limit = until_ms if finer is RAW else (marks.get(finer.name) or start)
            end = min(bucket_start(limit, tier.step_ms), start + max(CHUNK_MS, tier.step_ms))
            if end <= start:
                return RollupReport(tier.name, written, start)
            rows = list(_aggregate(store, layout, conn, finer, tier, start, end))
            if rows:
                _upsert(store, layout, conn, tier, rows)
                coarser = COARSER.get(tier.name)
                if coarser is not None:
                    lower_watermark(conn, coarser.name, start)
            conn.execute(
                rollup_state.update()
                .where(rollup_state.c.tier == tier.name)
                .values(watermark_ms=end)
            )
            written += len(rows)


def refresh_aggregate(store: Store, tier: Tier, until_ms: int) -> RollupReport:
    """TimescaleDB's narrow layout: refresh the continuous aggregate from its watermark to
    the last complete bucket (its refresh policy does the same; this makes it final now)."""
    with store.read_connection("reading watermarks") as conn:
        marks = watermarks(conn)
    start = marks.get(tier.name)
    limit = until_ms if tier is MINUTE else marks.get(MINUTE.name)
    end = bucket_start(limit, tier.step_ms) if limit is not None else None
    if end is None or (start is not None and end <= start):
        return RollupReport(tier.name, 0, start)
    with store.autocommit_connection("rolling up") as conn:
        used = timescale_layout.refresh(conn, tier.name, start, end)
    with store.write_transaction("rolling up") as conn:
        # A write meanwhile that lowered the watermark wins: the next run covers it.
        same = (
            rollup_state.c.watermark_ms.is_(None)
            if start is None
            else rollup_state.c.watermark_ms == start
        )
        conn.execute(
            rollup_state.update()
            .where(rollup_state.c.tier == tier.name, same)
            .values(watermark_ms=end)
        )
        coarser = COARSER.get(tier.name)
        if coarser is not None and used is not None and used < end:
            lower_watermark(conn, coarser.name, used)
    # Timescale does not say how many rows a refresh wrote: report the window's width.
    return RollupReport(tier.name, (end - used) // tier.step_ms if used is not None else 0, end)


def _first_bucket(conn: Connection, source: Tier, tier: Tier) -> int | None:
    """The bucket of the oldest row in ``source`` (per host: min over the primary key)."""
    t = source.table
    oldest = None
    for host_id in conn.scalars(sa.select(hosts.c.id)):
        ts = conn.scalar(sa.select(sa.func.min(t.c.ts_ms)).where(t.c.host_id == host_id))
        if ts is not None and (oldest is None or ts < oldest):
            oldest = ts
    return bucket_start(oldest, tier.step_ms) if oldest is not None else None


def _aggregate(
    store: Store,
    layout: PackedLayout,
    conn: Connection,
    source: Tier,
    tier: Tier,
    start: int,
    end: int,
) -> Iterator[tuple[int, Bucket]]:
    """``(host_id, bucket)`` for every host with ``source`` rows in ``[start, end)``."""
    t = source.table
    host_ids = store.host_ids(conn)
    if not host_ids:
        return
    cols = [t.c.host_id, t.c.ts_ms, t.c.layout_id]
    cols += [t.c.data] if source is RAW else [t.c.n, t.c.avg, t.c.stats]
    result = conn.execute(
        sa.select(*cols)
        .where(
            t.c.host_id.in_(sa.bindparam("hosts", expanding=True)),
            t.c.ts_ms >= start,
            t.c.ts_ms < end,
        )
        .order_by(t.c.host_id, t.c.ts_ms),
        {"hosts": host_ids},
    )
    current: int | None = None
    parts: list[Bucket] = []
    for row in result:
        if row.host_id != current:
            if parts and current is not None:
                yield from ((current, b) for b in rebucket(parts, tier.step_ms))
            current, parts = row.host_id, []
        ids = layout.layout_columns(conn, row.layout_id)
        if source is RAW:
            parts.append(poll_bucket(row.ts_ms, ids, codec.decode(bytes(row.data), len(ids))))
        else:
            parts.append(decode_bucket(row.ts_ms, row.n, ids, bytes(row.avg), bytes(row.stats)))
    if parts and current is not None:
        yield from ((current, b) for b in rebucket(parts, tier.step_ms))


def _upsert(
    store: Store,
    layout: PackedLayout,
    conn: Connection,
    tier: Tier,
    rows: list[tuple[int, Bucket]],
) -> None:
    layout_ids = layout.layout_ids(conn, {(host_id, b.ids) for host_id, b in rows})
    params = [
        {
            "host_id": host_id,
            "ts_ms": b.ts_ms,
            "layout_id": layout_ids[(host_id, b.ids)],
            "n": b.n,
            "avg": encode_avg(b.avg),
            "stats": encode_stats(b),
        }
        for host_id, b in rows
    ]
    stmt = store.insert(tier.table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["host_id", "ts_ms"],
        set_={c: stmt.excluded[c] for c in ("layout_id", "n", "avg", "stats")},
    )
    conn.execute(stmt, params)
