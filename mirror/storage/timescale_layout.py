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
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from mirror.storage.fixedpoint import scale, unscale

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from mirror.storage.layout import PollRow
    from mirror.storage.retention import Retention
    from mirror.storage.rollup import RollupReport, Tier
    from mirror.storage.store import Store

NOW_FUNC = "mirror_now_ms"
NOW_FUNC_SQL = (
    f"CREATE OR REPLACE FUNCTION {NOW_FUNC}() RETURNS bigint LANGUAGE sql STABLE AS "
    "$$ SELECT (extract(epoch FROM now()) * 1000)::bigint $$"
)
MIN_VERSION = (2, 13)  # by_range, hierarchical real-time aggregates, remove_* if_exists

RAW = "points"
VIEWS = {"1m": "points_1m", "1h": "points_1h"}
STEP_MS = {"1m": 60_000, "1h": 3_600_000}
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


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def chunk_ms(retention: Retention) -> dict[str, int]:
    """Chunk widths that follow ``MIRROR_COMPRESS_AFTER``: a raw chunk is compressed once
    its end is ``compress_after`` old, so it spans a quarter of that (15 min … 1 day) and
    the oldest uncompressed value is at most ~1.4 × ``compress_after`` old (chunk + delay +
    the policy's schedule, an eighth). The aggregates' chunks: 1 day and 30 days."""
    compress_after = round(retention.compress_after_s * 1000)
    return {
        RAW: _clamp(compress_after // 4, 15 * 60_000, 86400_000),
        VIEWS["1m"]: 86400_000,
        VIEWS["1h"]: 30 * 86400_000,
    }


@dataclass(frozen=True, slots=True)
class Policy:
    """One TimescaleDB policy job as it should be: added when missing, altered in place
    (its history kept) when its settings differ, left alone when they match."""

    kind: str  # compression, retention or continuous_aggregate (a refresh)
    relation: str  # hypertable or continuous aggregate
    config: tuple[tuple[str, int], ...]  # the job's config keys (ms) that we set
    schedule_s: int | None = None  # None: TimescaleDB's default

    @property
    def proc(self) -> str:
        refresh = self.kind == "continuous_aggregate"
        return f"policy_{'refresh_continuous_aggregate' if refresh else self.kind}"

    def add_sql(self) -> str:
        args = ", ".join(f"{k} => BIGINT '{v}'" for k, v in self.config)
        if self.schedule_s is not None:
            args += f", schedule_interval => INTERVAL '{self.schedule_s} seconds'"
        return f"SELECT add_{self.kind}_policy('{self.relation}', {args}, if_not_exists => TRUE)"

    def alter_sql(self, job_id: int) -> str:
        """``alter_job`` with this policy's settings merged into the job's config."""
        config = ", ".join(f"'{k}', {v}" for k, v in self.config)
        sql = (
            f"SELECT alter_job({job_id}, config => (SELECT config FROM "
            f"timescaledb_information.jobs WHERE job_id = {job_id}) || jsonb_build_object({config})"
        )
        if self.schedule_s is not None:
            sql += f", schedule_interval => INTERVAL '{self.schedule_s} seconds'"
        return sql + ")"


def policies(retention: Retention) -> list[Policy]:
    """Every policy of the layout, in the order they are set."""
    offsets = _offsets(retention)
    compress_after = round(retention.compress_after_s * 1000)
    chunks = chunk_ms(retention)
    # The compression policy looks at every chunk each run: an eighth of compress_after
    # (1 min … 1 h) keeps the delay small without running it all the time.
    out = [
        Policy(
            "compression",
            RAW,
            (("compress_after", compress_after),),
            _clamp(compress_after // 8, 60_000, 3600_000) // 1000,
        )
    ]
    for tier, view in VIEWS.items():
        start, end = offsets[tier]
        out.append(
            Policy(
                "continuous_aggregate",
                view,
                (("start_offset", start), ("end_offset", end)),
                end // 1000,
            )
        )
    # A compressed aggregate chunk must lie outside the refresh window (Timescale's rule):
    # compress a chunk once its end is past the window's start.
    for tier, view in VIEWS.items():
        after = offsets[tier][0] + STEP_MS[tier]
        out.append(
            Policy(
                "compression",
                view,
                (("compress_after", after),),
                _clamp(chunks[view] // 4, 3600_000, 86400_000) // 1000,
            )
        )
    for tier, table in (("raw", RAW), ("1m", VIEWS["1m"]), ("1h", VIEWS["1h"])):
        out.append(Policy("retention", table, (("drop_after", retention.keep_ms(tier)),), None))
    return out


def statements(retention: Retention) -> list[str]:
    """The SQL that creates the layout and its policies on a new database (idempotent;
    :func:`sync_policies` then keeps policies that already match)."""
    chunks = chunk_ms(retention)
    out = [
        "CREATE EXTENSION IF NOT EXISTS timescaledb",
        NOW_FUNC_SQL,
        f"CREATE TABLE IF NOT EXISTS {RAW} (ts_ms bigint NOT NULL, "
        "series_id integer NOT NULL, value double precision NOT NULL)",
        # Unique for ON CONFLICT (a repeated poll keeps its first value); it also serves
        # a chart's (series, time range) read on uncompressed chunks.
        f"CREATE UNIQUE INDEX IF NOT EXISTS ux_{RAW}_series_id_ts_ms ON {RAW} (series_id, ts_ms)",
        # Time-only scans (the real-time aggregates' tail, the fleet overview) on the
        # uncompressed chunks; a few pages per chunk.
        f"CREATE INDEX IF NOT EXISTS ix_{RAW}_ts_ms_brin ON {RAW} USING brin (ts_ms)",
        f"SELECT create_hypertable('{RAW}', by_range('ts_ms', {chunks[RAW]}), "
        "create_default_indexes => FALSE, if_not_exists => TRUE)",
        f"SELECT set_integer_now_func('{RAW}', '{NOW_FUNC}', replace_if_exists => TRUE)",
        f"ALTER TABLE {RAW} SET (timescaledb.compress, "
        f"timescaledb.compress_segmentby = '{COMPRESSION['segmentby']}', "
        f"timescaledb.compress_orderby = '{COMPRESSION['orderby']}')",
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
    for view in VIEWS.values():
        # The aggregates' own hypertables: a "now" for their compression policies (without
        # it every run fails: "integer_now function not set") and chunk widths of their own
        # (by default ten raw chunks: 60 h, which a policy would never compress).
        mat = _materialization(view)
        out.append(f"SELECT set_integer_now_func({mat}, '{NOW_FUNC}', replace_if_exists => TRUE)")
        out.append(f"ALTER MATERIALIZED VIEW {view} SET (timescaledb.compress = true)")
    out.append(_chunk_sql(chunks))
    out += [p.add_sql() for p in policies(retention)]
    return out


def _materialization(view: str) -> str:
    return (
        "(SELECT format('%I.%I', materialization_hypertable_schema, "
        "materialization_hypertable_name)::regclass FROM "
        f"timescaledb_information.continuous_aggregates WHERE view_name = '{view}')"
    )


def _chunk_sql(chunks: dict[str, int]) -> str:
    """Set chunk widths (new chunks only; existing ones keep theirs)."""
    parts = [f"set_chunk_time_interval('{RAW}', BIGINT '{chunks[RAW]}')"]
    parts += [
        f"set_chunk_time_interval({_materialization(v)}, BIGINT '{chunks[v]}')"
        for v in VIEWS.values()
    ]
    return "SELECT " + ", ".join(parts)


def sync_policies(conn: Connection, wanted_policies: list[Policy], issued: list[str]) -> list[str]:
    """``issued`` (statements ending with ``wanted_policies``' adds) with each policy
    statement replaced by what the database needs: nothing when the job exists with these
    settings, an ``alter_job`` when its settings differ, the add when it is missing. Jobs
    keep their ids and history. The extension must be installed."""
    wanted = {p.add_sql(): p for p in wanted_policies}
    jobs: dict[tuple[str, str], tuple[int, dict[str, Any], float]] = {}
    for job_id, proc, relation, config, schedule in conn.execute(
        sa.text(
            "SELECT job_id, proc_name, hypertable_name, config, "
            "extract(epoch FROM schedule_interval) FROM timescaledb_information.jobs "
            "WHERE proc_name LIKE 'policy_%' AND hypertable_name IS NOT NULL"
        )
    ):
        jobs[(proc, relation)] = (job_id, config or {}, float(schedule))
    out = []
    for sql in issued:
        policy = wanted.get(sql)
        if policy is None:
            out.append(sql)
            continue
        found = jobs.get((policy.proc, policy.relation))
        if found is None:
            out.append(sql)
            continue
        job_id, config, schedule = found
        same = all(int(config.get(k, -1)) == v for k, v in policy.config) and (
            policy.schedule_s is None or round(schedule) == policy.schedule_s
        )
        if not same:
            out.append(policy.alter_sql(job_id))
    return out


def in_use(conn: Connection) -> bool:
    """Whether this database stores samples in this layout."""
    if conn.dialect.name != "postgresql":
        return False
    return conn.scalar(sa.text(f"SELECT to_regclass('{VIEWS['1h']}') IS NOT NULL")) is True


# -- writing --------------------------------------------------------------------------------


def insert(
    conn: Connection,
    rows: Iterable[tuple[int, int, float]],
    places: dict[int, int | None] | None = None,
) -> None:
    """``(ts_ms, series_id, value)`` rows; a (series, ts) already stored keeps its value.
    ``places``: series id -> declared decimals; those values are stored fixed-point
    (:mod:`fixedpoint`), the others as they are.

    Binary COPY straight into the hypertable (in a savepoint): the fast way, and the usual
    case, as the store never sends a (host, ts) twice in a batch. A row already stored (a
    batch retried after a commit whose answer was lost) makes COPY fail on the unique
    index; the savepoint is rolled back and the rows go in with ON CONFLICT DO NOTHING."""
    places = places or {}
    # float(): collectors report byte counts as int; both paths take one type a column.
    kept = [(ts, sid, scale(float(v), places.get(sid))) for ts, sid, v in rows if not math.isnan(v)]
    if not kept:
        return
    if conn.dialect.driver == "psycopg":
        import psycopg

        try:
            with conn.begin_nested():
                _copy(conn, kept)
            return
        except psycopg.errors.UniqueViolation:
            pass
        except psycopg.Error as e:  # as SQLAlchemy reports the other statements' errors
            raise sa.exc.DBAPIError(f"COPY {RAW}", None, e) from e
    _insert_unnest(conn, kept)


def _copy(conn: Connection, rows: list[tuple[int, int, float]]) -> None:
    import psycopg

    driver = conn.connection.driver_connection
    if not isinstance(driver, psycopg.Connection):
        raise TypeError(f"COPY needs a psycopg connection, not {driver!r}")
    with (
        driver.cursor() as cur,
        cur.copy(f"COPY {RAW} (ts_ms, series_id, value) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(["int8", "int4", "float8"])
        for row in rows:
            copy.write_row(row)


def _insert_unnest(conn: Connection, kept: list[tuple[int, int, float]]) -> None:
    # Three array parameters a statement: no per-row round trip, no 65,535-parameter limit.
    # Statements stay under ~64 KB: PGlite's socket server (the tests' fallback TimescaleDB)
    # takes one TCP read as a whole message.
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


def read_raw(
    conn: Connection, series_id: int, start: int, end: int, places: int | None = None
) -> list[_Point]:
    rows = conn.execute(
        sa.text(
            f"SELECT ts_ms, value FROM {RAW} WHERE series_id = :s "
            "AND ts_ms >= :a AND ts_ms <= :b ORDER BY ts_ms"
        ),
        {"s": series_id, "a": start, "b": end},
    )
    return [(ts, 1, unscale(v, places)) for ts, v in rows]


def read_tier(
    conn: Connection,
    tier: str,
    series_id: int,
    stat: str,
    start: int,
    end: int,
    places: int | None = None,
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
    return [(ts, int(n), unscale(float(v), places)) for ts, n, v in rows]


def read_fleet(
    conn: Connection, name: str, start: int, end: int
) -> tuple[dict[str, list[_Point]], dict[str, int]]:
    """Every host's 1-minute averages of series ``name`` in ``[start, end]`` and the newest
    sample they hold, in one query (the real-time aggregate covers the unrolled tail)."""
    rows = conn.execute(
        sa.text(
            # Fixed-point series: the average of value × 10^d, divided back.
            "SELECT h.name, m.ts_ms, m.n, m.avg / power(10, coalesce(s.decimals, 0)), "
            "m.last_ts FROM series AS s "
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


# -- the layout interface (mirror.storage.layout) -------------------------------------------


class NarrowLayout:
    name = "narrow"
    tiers_are_whole = True  # real-time aggregates: no tail to merge at the recent edge

    def __init__(self) -> None:
        self._places: dict[int, int | None] = {}  # series id -> declared decimals (cached)

    def places(self, conn: Connection, series_ids: Iterable[int]) -> dict[int, int | None]:
        """Declared decimals of ``series_ids`` (read once each: they never change)."""
        missing = sorted(set(series_ids) - self._places.keys())
        if missing:
            found = conn.execute(
                sa.text("SELECT id, decimals FROM series WHERE id = ANY(:ids)"), {"ids": missing}
            )
            self._places.update({sid: d for sid, d in found})
        return self._places

    def prepare(
        self, begin: Callable[[], AbstractContextManager[Connection]], rows: Sequence[PollRow]
    ) -> dict[int, int | None]:
        known = self._places
        if any(sid not in known for row in rows for sid, _ in row.values):
            with begin() as conn:
                self.places(conn, {sid for row in rows for sid, _ in row.values})
        return known

    def insert(
        self, conn: Connection, rows: Sequence[PollRow], prepared: dict[int, int | None]
    ) -> None:
        insert(conn, ((row.ts_ms, sid, v) for row in rows for sid, v in row.values), prepared)

    def series_reader(
        self, conn: Connection, host_id: int, series_id: int, stat: str
    ) -> _SeriesReader:
        return _SeriesReader(conn, series_id, stat, self.places(conn, [series_id])[series_id])

    def fleet(
        self, conn: Connection, name: str, start: int, end: int
    ) -> tuple[dict[str, list[_Point]], dict[str, int]]:
        return read_fleet(conn, name, start, end)

    def roll_up_tier(self, store: Store, tier: Tier, until_ms: int) -> RollupReport:
        from mirror.storage.rollup import refresh_aggregate  # rollup imports this module

        return refresh_aggregate(store, tier, until_ms)


class _SeriesReader:
    def __init__(self, conn: Connection, series_id: int, stat: str, places: int | None) -> None:
        self._conn = conn
        self._series_id = series_id
        self._stat = stat
        self._places = places

    def read_raw(self, start: int, end: int) -> list[_Point]:
        return read_raw(self._conn, self._series_id, start, end, self._places)

    def read_tier(self, tier: Tier, start: int, end: int) -> list[_Point]:
        return read_tier(
            self._conn, tier.name, self._series_id, self._stat, start, end, self._places
        )
