"""The fleet overview from the database: one series' 1-minute averages for every host.

For the last hour that is ~60 ``rollup_1m`` rows a host (15,000 for 254 hosts) plus the raw
polls after the 1-minute watermark (up to ~2 minutes: the job runs every minute, 15 s late).
Decoding 15,000 rows in Python was most of the ~90 ms of CPU this took (README figures), so the
database does the picking: each row's ``avg`` is one float32 per series in layout order, so
the wanted value is the 4 bytes at ``4 × index``, where the index depends on the row's
layout. The query extracts those 4 bytes (``substr``, the offset from a ``CASE`` on the
layout id) and concatenates each host's rows into one (``group_concat`` / ``string_agg``):
Python reads 254 rows. The raw tail is codec-packed (zlib), which SQL cannot open, so
Python decodes it, through the driver without SQLAlchemy's per-row work.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Mapping, Sequence
from itertools import chain, groupby
from operator import itemgetter
from typing import TYPE_CHECKING

import sqlalchemy as sa

from mirror.errors import StorageError
from mirror.storage import codec
from mirror.storage.rollup import MINUTE, watermarks
from mirror.storage.schema import hosts
from mirror.storage.schema import series as series_table

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from mirror.storage.packed import PackedLayout

STEP_MS = MINUTE.step_ms
_TAIL_BATCH = 500  # raw rows fetched at a time

# (bucket start ms, samples n, average)
Bucket = tuple[int, int, float]


def series_index(layout_cols: Mapping[int, Sequence[int]], wanted: set[int]) -> dict[int, int]:
    """Layout id -> position of the wanted series in it, for layouts that hold one.

    A layout belongs to one host and ``wanted`` holds one series id per host, so a layout
    holds at most one of them."""
    found = {}
    for layout_id, cols in layout_cols.items():
        for i, series_id in enumerate(cols):
            if series_id in wanted:
                found[layout_id] = i
                break
    return found


def _ints(values: Iterable[int]) -> str:
    # Every literal spliced into the SQL below goes through int(): nothing else reaches it.
    return ",".join(str(int(v)) for v in values)


def offset_case(index: Mapping[int, int]) -> str:
    """SQL for the 1-based byte offset of the wanted float32 in ``avg``, by ``layout_id``.

    One ``WHEN layout_id IN (…)`` per distinct position, not one per layout: a fleet has
    few distinct positions, and both databases look an ``IN`` list up by hash or b-tree,
    where a ``WHEN`` per layout would be tried one by one for every row."""
    by_position: dict[int, list[int]] = {}
    for layout_id, i in index.items():
        by_position.setdefault(i, []).append(layout_id)
    whens = " ".join(
        f"WHEN layout_id IN ({_ints(sorted(ids))}) THEN {1 + 4 * int(i)}"
        for i, ids in sorted(by_position.items())
    )
    return f"CASE {whens} END"


def rollup_sql(
    dialect: str, host_ids: Sequence[int], index: Mapping[int, int], start_ms: int, end_ms: int
) -> str:
    """One row per host: its buckets' starts, sample counts (comma-separated text) and the
    wanted float32s (hex), ``start_ms <= ts_ms < end_ms``, in the same row order."""
    value = f"substr(avg, {offset_case(index)}, 4)"
    where = (
        f"WHERE host_id IN ({_ints(host_ids)}) AND ts_ms >= {int(start_ms)} "
        f"AND ts_ms < {int(end_ms)} AND layout_id IN ({_ints(sorted(index))}) GROUP BY host_id"
    )
    if dialect == "postgresql":
        order = "ORDER BY ts_ms"
        return (
            f"SELECT host_id, string_agg(ts_ms::text, ',' {order}), "
            f"string_agg(n::text, ',' {order}), "
            f"encode(string_agg({value}, ''::bytea {order}), 'hex') FROM rollup_1m {where}"
        )
    # SQLite before 3.44 has no ORDER BY in an aggregate; the three lists still follow one
    # row order, and decode_rollup puts it in time order when the scan did not.
    return (
        "SELECT host_id, group_concat(ts_ms), group_concat(n), "
        f"group_concat(hex({value}), '') FROM rollup_1m {where}"
    )


def decode_rollup(ts_text: str, n_text: str, hex_values: str) -> list[Bucket]:
    """One host's row of :func:`rollup_sql` as buckets, oldest first; NaN (the series was
    absent for the whole minute) left out."""
    starts = list(map(int, ts_text.split(",")))
    counts = list(map(int, n_text.split(",")))
    packed = bytes.fromhex(hex_values)
    if not len(starts) == len(counts) == len(packed) // 4 or len(packed) % 4:
        raise StorageError(
            f"rollup_1m rows are damaged: {len(starts)} buckets but {len(packed)} bytes "
            "of averages (an avg value shorter than its layout)"
        )
    values = struct.unpack(f"<{len(starts)}f", packed)
    rows = list(zip(starts, counts, values, strict=True))
    if starts != sorted(starts):
        rows.sort()
    if any(map(math.isnan, values)):
        return [(ts, n, v) for ts, n, v in rows if v == v]
    return rows


def minute_buckets(points: Iterable[tuple[int, float]]) -> list[Bucket]:
    """Time-ordered raw ``(ts ms, value)`` as 1-minute buckets ``(start, n, average)``.

    Summed in time order from the first value, as ``query._regroup`` does, so an average
    is the same float however the overview was read."""
    out: list[Bucket] = []
    start = n = 0
    total = 0.0
    for ts, value in points:
        b = ts - ts % STEP_MS
        if n and b == start:
            total += value
            n += 1
        else:
            if n:
                out.append((start, n, total / n))
            start, n, total = b, 1, value
    if n:
        out.append((start, n, total / n))
    return out


def read_fleet(
    layout: PackedLayout, conn: Connection, name: str, start_ms: int, end_ms: int
) -> tuple[dict[str, list[Bucket]], dict[str, int]]:
    """Each host's 1-minute buckets of series ``name`` in ``[start_ms, end_ms]``, by host
    name, and the newest sample they hold (the rolled-up part counts as reaching the
    watermark). Five queries at most, whatever the number of hosts."""
    ids = {
        host_id: (host_name, series_id)
        for host_name, host_id, series_id in conn.execute(
            sa.select(hosts.c.name, series_table.c.host_id, series_table.c.id)
            .join(hosts, hosts.c.id == series_table.c.host_id)
            .where(series_table.c.name == name)
        )
    }
    if not ids:
        return {}, {}
    mark = watermarks(conn).get(MINUTE.name)
    host_list = sorted(ids)
    layout_cols = layout.load_layouts(conn, host_list)
    index = series_index(layout_cols, {series_id for _, series_id in ids.values()})
    rolled_to = min(end_ms + 1, mark) if mark is not None else start_ms

    points: dict[int, list[Bucket]] = {}
    if start_ms < rolled_to and index:
        sql = rollup_sql(layout.dialect, host_list, index, start_ms, rolled_to)
        for host_id, ts_text, n_text, hex_values in conn.exec_driver_sql(sql).all():
            found = decode_rollup(ts_text, n_text, hex_values)
            if found:
                points[host_id] = found

    newest = {host_id: rolled_to - 1 for host_id in host_list}
    tail_from = max(start_ms, rolled_to)
    if tail_from <= end_ms:
        where = {layout_id: (i, len(layout_cols[layout_id])) for layout_id, i in index.items()}
        sql = (
            "SELECT host_id, ts_ms, layout_id, data FROM samples "
            f"WHERE host_id IN ({_ints(host_list)}) AND ts_ms >= {int(tail_from)} "
            f"AND ts_ms <= {int(end_ms)} ORDER BY host_id, ts_ms"
        )
        # In batches, not fetched as one list: ~7,000 rows held at once set off the garbage
        # collector's full passes (slow in a big process); row by row costs a driver call each.
        rows = chain.from_iterable(conn.exec_driver_sql(sql).partitions(_TAIL_BATCH))
        for host_id, host_rows in groupby(rows, itemgetter(0)):
            tail = []
            for _, ts, layout_id, data in host_rows:
                place = where.get(layout_id)
                if place is not None:
                    try:
                        v = codec.decode_one(bytes(data), place[1], place[0])
                    except ValueError as exc:
                        raise StorageError(
                            f"the poll of {ids[host_id][0]} at {ts} ms is damaged: {exc}"
                        ) from exc
                    if v == v:
                        tail.append((ts, v))
            newest[host_id] = ts  # rows come oldest first: the last one is the newest
            if tail:
                points.setdefault(host_id, []).extend(minute_buckets(tail))
    by_name = {ids[host_id][0]: pts for host_id, pts in points.items()}
    return by_name, {ids[host_id][0]: ts for host_id, ts in newest.items()}
