"""The TimescaleDB layout: one narrow row per value, continuous aggregates for the tiers.

When ``mirror db upgrade`` finds TimescaleDB (>= 2.13) and no packed samples yet, it
creates (see :func:`statements`, written against Timescale's documented API):

- ``points(ts_ms, series_id, value)``: the raw tier, a hypertable on integer milliseconds
  with native compression segmented by ``series_id`` and ordered by ``ts_ms``: a chart
  reads one series, which is one segment. Timescale's columnar compression does for these
  rows what the packed blob (``codec``) does on the other back ends, and unlike the blob
  SQL can aggregate them;
- ``points_1m``: a continuous aggregate of ``points`` (``time_bucket`` on integer ms; count,
  avg, min, max, ``last(value, ts_ms)`` and the newest ``ts_ms``);
- ``points_1h``: a hierarchical continuous aggregate over ``points_1m`` (avg weighted by n);
- a refresh policy per aggregate whose ``start_offset`` stays inside the finer tier's
  retention (a refresh over dropped raw chunks would empty those buckets), compression of
  ``points_1m`` after its refresh window, and a retention policy on all three.

The aggregates are real-time (``materialized_only = false``): the unmaterialized tail is
aggregated at query time, so the query layer reads one relation per tier and needs no merge
at the recent edge. ``rollup.roll_up`` refreshes the just-closed window itself (what the
refresh policy also does), which keeps ``rollup_state`` meaningful and tests deterministic.

A database that already holds packed samples keeps the packed layout (``timescale.py``
turns those tables into hypertables); converting years of history is left to an explicit
dump and reload. NaN values (a sensor that read nothing) are not stored in this layout.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from mirror.storage.retention import Retention

NOW_FUNC = "mirror_now_ms"
NOW_FUNC_SQL = (
    f"CREATE OR REPLACE FUNCTION {NOW_FUNC}() RETURNS bigint LANGUAGE sql STABLE AS "
    "$$ SELECT (extract(epoch FROM now()) * 1000)::bigint $$"
)
MIN_VERSION = (2, 13)  # by_range, hierarchical real-time aggregates, remove_* if_exists

RAW = "points"
VIEWS = {"1m": "points_1m", "1h": "points_1h"}
STEP_MS = {"1m": 60_000, "1h": 3_600_000}
RAW_CHUNK_MS = 6 * 3600_000
COMPRESSION = {"segmentby": "series_id", "orderby": "ts_ms"}
INSERT_ROWS = 1000

_Point = tuple[int, int, float]  # (ts_ms, weight n, value), as in query.py


def _offsets(retention: Retention) -> dict[str, tuple[int, int]]:
    """Per aggregate, the refresh window ``(start_offset, end_offset)`` in ms.

    The start stays at half the source's retention so that a refresh never reaches a
    region whose source chunks a retention policy has dropped."""
    raw, minute = retention.keep_ms("raw"), retention.keep_ms("1m")
    return {
        "1m": (max(raw // 2, 3 * STEP_MS["1m"]), STEP_MS["1m"]),
        "1h": (max(minute // 2, 3 * STEP_MS["1h"]), STEP_MS["1h"]),
    }


def statements(retention: Retention) -> list[str]:
    """The SQL that creates the layout and its policies (idempotent)."""
    offsets = _offsets(retention)
    compress_after = round(retention.compress_after_s * 1000)
    out = [
        "CREATE EXTENSION IF NOT EXISTS timescaledb",
        NOW_FUNC_SQL,
        f"CREATE TABLE IF NOT EXISTS {RAW} (ts_ms bigint NOT NULL, "
        "series_id integer NOT NULL, value double precision NOT NULL)",
        # Unique for ON CONFLICT (a repeated poll keeps its first value); it also serves
        # a chart's (series, time range) read on uncompressed chunks.
        f"CREATE UNIQUE INDEX IF NOT EXISTS ux_{RAW}_series_id_ts_ms ON {RAW} (series_id, ts_ms)",
        f"SELECT create_hypertable('{RAW}', by_range('ts_ms', {RAW_CHUNK_MS}), "
        "create_default_indexes => FALSE, if_not_exists => TRUE)",
        f"SELECT set_integer_now_func('{RAW}', '{NOW_FUNC}', replace_if_exists => TRUE)",
        f"ALTER TABLE {RAW} SET (timescaledb.compress, "
        f"timescaledb.compress_segmentby = '{COMPRESSION['segmentby']}', "
        f"timescaledb.compress_orderby = '{COMPRESSION['orderby']}')",
        *_replace("compression", RAW, f"compress_after => BIGINT '{compress_after}'"),
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {VIEWS['1m']} "
        "WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS "
        f"SELECT time_bucket(BIGINT '{STEP_MS['1m']}', ts_ms) AS ts_ms, series_id, "
        "count(*) AS n, avg(value) AS avg, min(value) AS min, max(value) AS max, "
        f"last(value, ts_ms) AS last, max(ts_ms) AS last_ts FROM {RAW} GROUP BY 1, 2 "
        "WITH NO DATA",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {VIEWS['1h']} "
        "WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS "
        f"SELECT time_bucket(BIGINT '{STEP_MS['1h']}', ts_ms) AS ts_ms, series_id, "
        "sum(n)::bigint AS n, sum(avg * n) / sum(n) AS avg, min(min) AS min, "
        f"max(max) AS max, last(last, last_ts) AS last, max(last_ts) AS last_ts "
        f"FROM {VIEWS['1m']} GROUP BY 1, 2 WITH NO DATA",
    ]
    for tier, view in VIEWS.items():
        start, end = offsets[tier]
        out.append(f"SELECT remove_continuous_aggregate_policy('{view}', if_exists => TRUE)")
        out.append(
            f"SELECT add_continuous_aggregate_policy('{view}', start_offset => BIGINT "
            f"'{start}', end_offset => BIGINT '{end}', schedule_interval => INTERVAL "
            f"'{end // 1000} seconds')"
        )
    # A compressed aggregate chunk must lie outside the refresh window (Timescale's rule).
    minute_start = offsets["1m"][0]
    out.append(f"ALTER MATERIALIZED VIEW {VIEWS['1m']} SET (timescaledb.compress = true)")
    out += _replace(
        "compression", VIEWS["1m"], f"compress_after => BIGINT '{minute_start + STEP_MS['1h']}'"
    )
    for tier, table in (("raw", RAW), ("1m", VIEWS["1m"]), ("1h", VIEWS["1h"])):
        out += _replace("retention", table, f"drop_after => BIGINT '{retention.keep_ms(tier)}'")
    return out


def _replace(kind: str, table: str, args: str) -> list[str]:
    """Remove then add: ``if_not_exists`` alone would keep an old setting."""
    return [
        f"SELECT remove_{kind}_policy('{table}', if_exists => TRUE)",
        f"SELECT add_{kind}_policy('{table}', {args}, if_not_exists => TRUE)",
    ]


def in_use(conn: Connection) -> bool:
    """Whether this database stores samples in this layout."""
    if conn.dialect.name != "postgresql":
        return False
    return conn.scalar(sa.text(f"SELECT to_regclass('{VIEWS['1h']}') IS NOT NULL")) is True


# -- writing --------------------------------------------------------------------------------


def insert(conn: Connection, rows: Iterable[tuple[int, int, float]]) -> None:
    """``(ts_ms, series_id, value)`` rows; a (series, ts) already stored keeps its value."""
    # float(): collectors report byte counts as int, and psycopg refuses a list of mixed
    # types ("cannot dump lists of mixed types").
    kept = [(ts, sid, float(v)) for ts, sid, v in rows if not math.isnan(v)]
    # Three array parameters a statement: no per-row round trip, no 65,535-parameter limit.
    # Statements stay under ~64 KB: PGlite's socket server (the tests' TimescaleDB) takes
    # one TCP read as a whole message.
    for i in range(0, len(kept), INSERT_ROWS):
        ts, sids, values = (list(col) for col in zip(*kept[i : i + INSERT_ROWS], strict=True))
        conn.execute(
            sa.text(
                f"INSERT INTO {RAW} (ts_ms, series_id, value) "
                "SELECT * FROM unnest(CAST(:ts AS bigint[]), CAST(:sid AS integer[]), "
                "CAST(:v AS double precision[])) ON CONFLICT (series_id, ts_ms) DO NOTHING"
            ),
            {"ts": ts, "sid": sids, "v": values},
        )


# -- reading --------------------------------------------------------------------------------


def read_raw(conn: Connection, series_id: int, start: int, end: int) -> list[_Point]:
    rows = conn.execute(
        sa.text(
            f"SELECT ts_ms, value FROM {RAW} WHERE series_id = :s "
            "AND ts_ms >= :a AND ts_ms <= :b ORDER BY ts_ms"
        ),
        {"s": series_id, "a": start, "b": end},
    )
    return [(ts, 1, v) for ts, v in rows]


def read_tier(
    conn: Connection, tier: str, series_id: int, stat: str, start: int, end: int
) -> list[_Point]:
    """One aggregate's buckets of a series; ``stat`` is avg, min, max or last."""
    if stat not in ("avg", "min", "max", "last"):
        raise ValueError(f"unknown statistic {stat!r}")
    rows = conn.execute(
        sa.text(
            f"SELECT ts_ms, n, {stat} FROM {VIEWS[tier]} WHERE series_id = :s "
            "AND ts_ms >= :a AND ts_ms <= :b ORDER BY ts_ms"
        ),
        {"s": series_id, "a": start, "b": end},
    )
    return [(ts, int(n), float(v)) for ts, n, v in rows]


def read_fleet(
    conn: Connection, name: str, start: int, end: int
) -> tuple[dict[str, list[_Point]], dict[str, int]]:
    """Every host's 1-minute averages of series ``name`` in ``[start, end]`` and the newest
    sample they hold, in one query (the real-time aggregate covers the unrolled tail)."""
    rows = conn.execute(
        sa.text(
            "SELECT h.name, m.ts_ms, m.n, m.avg, m.last_ts FROM series AS s "
            "JOIN hosts AS h ON h.id = s.host_id "
            f"JOIN {VIEWS['1m']} AS m ON m.series_id = s.id "
            "WHERE s.name = :name AND m.ts_ms >= :a AND m.ts_ms <= :b "
            "ORDER BY h.name, m.ts_ms"
        ),
        {"name": name, "a": start - start % STEP_MS["1m"], "b": end},
    )
    points: dict[str, list[_Point]] = {}
    newest: dict[str, int] = {}
    for host, ts, n, avg, last_ts in rows:
        points.setdefault(host, []).append((ts, int(n), float(avg)))
        newest[host] = last_ts
    return points, newest


# -- the rollup job's part ------------------------------------------------------------------


def refresh(conn: Connection, tier: str, start: int | None, end: int) -> int | None:
    """Materialise ``tier``'s buckets in ``[start, end)`` (what its policy would do next);
    the start used (None: from the beginning), or ``end`` when there was nothing to do.

    A first refresh (``start`` None) covers everything: nothing is materialised yet, so
    nothing can be lost. A later one never reaches further back than the policy's own
    window, where the source's chunks may be gone and a refresh would empty the buckets.

    ``conn`` must be in autocommit: CALL refresh_continuous_aggregate cannot run inside a
    transaction block."""
    view = VIEWS[tier]
    window = conn.scalar(
        sa.text(
            "SELECT (config->>'start_offset')::bigint FROM timescaledb_information.jobs "
            "WHERE proc_name = 'policy_refresh_continuous_aggregate' AND hypertable_name = :v"
        ),
        {"v": view},
    )
    step = STEP_MS[tier]
    if start is not None:
        if window is not None:
            start = max(start, end - window)
        start -= start % step
        if end - start < step:
            return end
    conn.execute(
        sa.text(
            f"CALL refresh_continuous_aggregate('{view}', CAST(:a AS bigint), CAST(:b AS bigint))"
        ),
        {"a": start, "b": end},
    )
    return start


# -- `mirror db info` -----------------------------------------------------------------------


def features(conn: Connection, rows: int) -> list[str]:
    """What `mirror db info` lists for this layout: aggregates, compression, sizes; ``rows``
    in the raw hypertable as `mirror db info` counts them."""
    chunks, compressed = conn.execute(
        sa.text(
            "SELECT count(*), count(*) FILTER (WHERE is_compressed) "
            "FROM timescaledb_information.chunks WHERE hypertable_name = :t"
        ),
        {"t": RAW},
    ).one()
    before, after = conn.execute(
        sa.text(
            "SELECT sum(before_compression_total_bytes), sum(after_compression_total_bytes) "
            f"FROM hypertable_compression_stats('{RAW}')"
        )
    ).one()
    size = conn.scalar(sa.text(f"SELECT hypertable_size('{RAW}')")) or 0
    line = (
        f"layout narrow: hypertable {RAW} ({rows:,} rows, {size:,} bytes, {chunks} chunks, "
        f"{compressed} compressed, segmentby {COMPRESSION['segmentby']}"
    )
    if before:
        line += f", {int(before):,} -> {int(after):,} bytes"
    out = [line + ")"]
    for view, real_time, schema, mat in conn.execute(
        sa.text(
            "SELECT view_name, NOT materialized_only, materialization_hypertable_schema, "
            "materialization_hypertable_name FROM timescaledb_information.continuous_aggregates "
            "ORDER BY view_name"
        )
    ):
        size = conn.scalar(
            sa.text(
                "SELECT hypertable_size(to_regclass(format('%I.%I', "
                "CAST(:s AS text), CAST(:m AS text))))"
            ),
            {"s": schema, "m": mat},
        )
        kind = "real-time" if real_time else "materialized only"
        out.append(f"continuous aggregate {view} ({kind}, {size or 0:,} bytes)")
    policies: dict[str, list[str]] = {}
    for table, proc in conn.execute(
        sa.text(
            "SELECT hypertable_name, proc_name FROM timescaledb_information.jobs "
            "WHERE proc_name LIKE 'policy_%' AND hypertable_name IS NOT NULL ORDER BY 1, 2"
        )
    ):
        kind = proc.removeprefix("policy_").replace("_continuous_aggregate", "")
        policies.setdefault(table, []).append(kind)
    out += [f"policies on {table}: {', '.join(kinds)}" for table, kinds in policies.items()]
    return out
