"""TimescaleDB: detection, the SQL issued, and the narrow layout end to end on a real one.

Real TimescaleDB runs in the suite's own PostgreSQL 15 cluster with the extension preloaded
(``tests/support/tsdb.py``; PGlite only where it is not installed, as the session header
says): hypertables, compression, continuous aggregates and policies are the extension's own
code. Tests that check data refresh (``roll_up``) and run jobs (``CALL run_job``) by hand;
``test_storage_jobs.py`` watches the server's own scheduler. The packed layout's statements
are checked by inspection and against a recording connection.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
import sqlalchemy as sa

from mirror.model import Snapshot
from mirror.storage import Store, info, timescale, timescale_layout
from mirror.storage.query import fleet, series
from mirror.storage.retention import Retention
from mirror.storage.rollup import roll_up
from tests.support import tsdb as tsdb_support
from tests.test_storage import empty_pg, pg_url  # noqa: F401 - fixture


def test_statements_follow_the_documented_api() -> None:
    sql = timescale.statements("2.17.2", Retention(raw_s=48 * 3600, compress_after_s=6 * 3600))
    text = "\n".join(sql)
    for table in ("samples", "rollup_1m", "rollup_1h"):
        assert re.search(
            rf"create_hypertable\('{table}', by_range\('ts_ms', \d+\), "
            r"create_default_indexes => FALSE, if_not_exists => TRUE, migrate_data => TRUE\)",
            text,
        )
        assert (
            f"set_integer_now_func('{table}', 'mirror_now_ms', replace_if_exists => TRUE)" in text
        )
    assert (
        "ALTER TABLE samples SET (timescaledb.compress, timescaledb.compress_segmentby = 'host_id',"
        " timescaledb.compress_orderby = 'ts_ms DESC')" in text
    )
    assert "add_compression_policy('samples', compress_after => BIGINT '21600000'" in text
    assert "add_retention_policy('samples', drop_after => BIGINT '172800000'" in text
    assert "add_retention_policy('rollup_1m', drop_after => BIGINT '2592000000'" in text
    assert "add_retention_policy('rollup_1h', drop_after => BIGINT '63072000000'" in text
    # Policies are set after compression is enabled, and the now() function before policies.
    assert text.index("mirror_now_ms() RETURNS bigint") < text.index("set_integer_now_func")
    assert text.index("timescaledb.compress,") < text.index("add_compression_policy")
    assert "continuous" not in text  # a packed blob cannot be aggregated in SQL


def test_older_timescale_gets_the_positional_create_hypertable() -> None:
    text = "\n".join(timescale.statements("2.11.0", Retention()))
    assert "create_hypertable('samples', 'ts_ms', chunk_time_interval => 21600000," in text
    assert "by_range" not in text


class _Recorder:
    """Stands in for a Connection on a server that has TimescaleDB available."""

    def __init__(self) -> None:
        self.dialect = sa.dialects.postgresql.dialect()
        self.executed: list[str] = []

    def scalar(self, stmt: Any, *args: Any) -> str | None:
        if "shared_preload_libraries" in str(stmt):
            return "pg_stat_statements, timescaledb"
        return "2.17.2" if "pg_available_extensions" in str(stmt) else None

    def execute(self, stmt: Any, *args: Any) -> list[Any]:
        if "FROM timescaledb_information.jobs" in str(stmt):
            return []  # no jobs yet: every policy is added
        self.executed.append(str(stmt))
        return []

    def begin_nested(self) -> Any:
        from contextlib import nullcontext

        return nullcontext()


def test_enable_issues_the_statements_when_timescale_is_available() -> None:
    conn = _Recorder()
    issued = timescale.enable(conn, Retention())  # type: ignore[arg-type]
    assert issued and conn.executed[0] == "CREATE EXTENSION IF NOT EXISTS timescaledb"
    assert conn.executed[1:] == issued


def test_plain_postgresql_is_detected_and_left_plain(pg_url: str) -> None:  # noqa: F811
    empty_pg(pg_url)
    with Store.open(pg_url) as store:
        assert store.upgrade() == []
        with store.engine.connect() as conn:
            found = timescale.detect(conn)
            assert found.installed is None
            assert timescale.retention_managed(conn) == set()
            brin = conn.scalar(
                sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_samples_ts_ms_brin'")
            )
    # Packaged on the server but not preloaded: a warning, plain PostgreSQL, no exit 1.
    assert found.available is None or not found.preloaded
    assert "USING brin" in brin


def test_the_preload_hint_says_what_to_change() -> None:
    assert "shared_preload_libraries = 'timescaledb'" in timescale.PRELOAD_HINT


@pytest.mark.parametrize("version", ["2.13.0", "2.28.1", "2.13.0-dev"])
def test_version_parsing(version: str) -> None:
    assert timescale._version(version) >= (2, 13)


# -- the narrow layout: statements ----------------------------------------------------------


def _offset(text: str, view: str, name: str) -> int:
    found = re.search(
        rf"add_continuous_aggregate_policy\('{view}', .*?{name} => BIGINT '(\d+)'", text
    )
    assert found, (view, name)
    return int(found.group(1))


def test_narrow_statements_follow_the_documented_api() -> None:
    retention = Retention(raw_s=48 * 3600, minute_s=30 * 86400, compress_after_s=6 * 3600)
    sql = timescale_layout.statements(retention)
    text = "\n".join(sql)
    assert "by_range('ts_ms', " in text
    assert "set_integer_now_func('points', 'mirror_now_ms'" in text
    assert (
        "timescaledb.compress_segmentby = 'series_id', timescaledb.compress_orderby = 'ts_ms'"
        in text
    )
    assert "add_compression_policy('points', compress_after => BIGINT '21600000'" in text
    # Each tier: a real-time continuous aggregate, a refresh policy and a retention policy.
    for tier, view, source in (("1m", "points_1m", "points"), ("1h", "points_1h", "points_1m")):
        create = next(s for s in sql if f"MATERIALIZED VIEW IF NOT EXISTS {view} " in s)
        assert "timescaledb.continuous, timescaledb.materialized_only = false" in create
        step = timescale_layout.STEP_MS[tier]
        assert f"time_bucket(BIGINT '{step}', ts_ms)" in create
        assert f"FROM {source} GROUP BY 1, 2 WITH NO DATA" in create
        start = _offset(text, view, "start_offset")
        assert _offset(text, view, "end_offset") == step
        # A refresh must never reach where the source's retention has dropped chunks.
        source_keep = retention.keep_ms("raw" if tier == "1m" else "1m")
        assert 2 * step <= start < source_keep
        assert (
            f"add_retention_policy('{view}', drop_after => BIGINT '{retention.keep_ms(tier)}'"
            in text
        )
    assert "add_retention_policy('points', drop_after => BIGINT '172800000'" in text
    # A compressed aggregate chunk lies outside the refresh window, as Timescale requires.
    found = re.search(
        r"add_compression_policy\('points_1m', compress_after => BIGINT '(\d+)'", text
    )
    assert found and int(found.group(1)) > _offset(text, "points_1m", "start_offset")
    # Order: extension, now function, table, hypertable, now func, then aggregates/policies.
    order = [
        "CREATE EXTENSION",
        "mirror_now_ms() RETURNS",
        "CREATE TABLE IF NOT EXISTS points",
        "create_hypertable('points'",
        "set_integer_now_func('points'",
        "MATERIALIZED VIEW IF NOT EXISTS points_1m",
        "MATERIALIZED VIEW IF NOT EXISTS points_1h",
        "add_continuous_aggregate_policy('points_1m'",
    ]
    assert [text.index(x) for x in order] == sorted(text.index(x) for x in order)
    # The 1-hour average is weighted by each minute's count, not an average of averages.
    assert "sum(avg * n) / sum(n) AS avg" in text


def test_sqlite_has_no_timescale(tmp_path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'm.db'}") as store:
        assert store.upgrade() == []
        assert store.narrow is False
        with store.engine.connect() as conn:
            assert timescale.detect(conn) == timescale.Detected(None, None)
            assert timescale_layout.in_use(conn) is False


def test_layout_choice_on_real_postgresql(pg_url: str) -> None:  # noqa: F811
    """A database that holds packed samples keeps them; an empty one may go narrow."""
    empty_pg(pg_url)
    with Store.open(pg_url) as store:
        store.upgrade()
        assert store.narrow is False
        with store.engine.connect() as conn:
            assert timescale.narrow_layout(conn, "2.23.0") is True
            assert timescale.narrow_layout(conn, "2.12.0") is False  # no by_range yet
        store.write([Snapshot("h", 1000.0, {"cpu": 1.0})])
        with store.engine.connect() as conn:
            assert timescale.narrow_layout(conn, "2.23.0") is False


# -- the narrow layout on a real TimescaleDB ------------------------------------------------

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z: an hour boundary


def _polls(host: str, start_ms: int, count: int, fn) -> list[Snapshot]:
    return [
        Snapshot(host, (start_ms + i * 5000) / 1000, {"cpu": fn(i), "gone": math.nan})
        for i in range(count)
    ]


def _scalar(store: Store, sql: str) -> Any:
    with store.engine.connect() as conn:
        return conn.scalar(sa.text(sql))


def test_narrow_layout_end_to_end(tsdb: tsdb_support.Tsdb) -> None:
    store = tsdb_support.open_store(tsdb)
    try:
        issued = store.upgrade(Retention())
        assert issued == timescale_layout.statements(Retention())
        assert store.narrow is True
        # Three hours of 5 s polls: h1's cpu is the poll index, h2's is constant.
        store.write(_polls("h1", T0, 3 * 720, float) + _polls("h2", T0, 3 * 720, lambda i: 7.0))
        store.write([Snapshot("h1", T0 / 1000, {"cpu": 999.0})])  # a repeat keeps the first
        assert _scalar(store, "SELECT count(*) FROM points") == 2 * 3 * 720  # NaN not stored

        reports = roll_up(store, T0 + 2 * 3600_000 + 20_000)  # 2 h in: both tiers refresh
        marks = {r.tier: r.watermark_ms for r in reports}
        assert marks == {"1m": T0 + 2 * 3600_000, "1h": T0 + 2 * 3600_000}

        # Raw: a 10-minute span, every poll as written.
        raw = series(store, "h1", "cpu", T0 / 1000, T0 / 1000 + 600)
        assert raw.tier == "raw" and raw.sources == ("raw",)
        assert raw.points == [(T0 / 1000 + 5 * i, float(i)) for i in range(121)]

        # 1m across the refresh watermark (2 h): materialized buckets, then the real-time
        # tail aggregated at query time, with no seam.
        minute = series(store, "h1", "cpu", T0 / 1000, T0 / 1000 + 5 * 3600)
        assert minute.tier == "1m" and minute.sources == ("1m",)
        assert len(minute.points) == 180
        for k, (ts, v) in enumerate(minute.points):
            assert ts == T0 / 1000 + 60 * k
            assert v == pytest.approx(12 * k + 5.5)  # mean of polls 12k … 12k+11
        peak = series(store, "h1", "cpu", T0 / 1000, T0 / 1000 + 5 * 3600, stat="max")
        assert [v for _, v in peak.points[:3]] == [11.0, 23.0, 35.0]
        last = series(store, "h1", "cpu", T0 / 1000, T0 / 1000 + 5 * 3600, stat="last")
        assert last.points[-1] == (T0 / 1000 + 179 * 60, float(3 * 720 - 1))

        # 1h (a span of 13 days): the hierarchical aggregate, weighted by n.
        hour = series(store, "h1", "cpu", T0 / 1000, T0 / 1000 + 13 * 86400)
        assert hour.tier == "1h"
        assert hour.points == [(T0 / 1000 + 3600 * h, 720 * h + 359.5) for h in range(3)]

        # A late poll inside a materialized bucket: the next refresh takes it in.
        store.write([Snapshot("h2", (T0 + 61_000) / 1000, {"cpu": 19.0})])
        roll_up(store, T0 + 2 * 3600_000 + 20_000)
        h2 = series(store, "h2", "cpu", T0 / 1000, T0 / 1000 + 5 * 3600)
        assert h2.points[1] == (T0 / 1000 + 60, pytest.approx((7.0 * 12 + 19.0) / 13))

        # The fleet overview: every host's 1-minute averages in one query.
        overview = fleet(store, "cpu", T0 / 1000 + 3 * 3600 - 3600, T0 / 1000 + 3 * 3600)
        assert sorted(overview) == ["h1", "h2"]
        assert len(overview["h1"]) == 60 and overview["h2"][0][1] == 7.0
        assert overview["h1"][-1] == (T0 / 1000 + 179 * 60, 12 * 179 + 5.5)

        # Compression: reads and a repeated poll work on compressed chunks.
        with store.engine.connect() as conn:
            conn.execute(sa.text("SELECT compress_chunk(c) FROM show_chunks('points') AS c"))
            conn.commit()
        store.write([Snapshot("h1", (T0 + 5000) / 1000, {"cpu": -1.0})])
        again = series(store, "h1", "cpu", T0 / 1000, T0 / 1000 + 600)
        assert again.points == raw.points

        lines = "\n".join(info.describe(store).lines())
        assert (
            re.search(r"backend   PostgreSQL 15\.\d+ with TimescaleDB 2\.\d+", lines)
            or not tsdb.real
        )
        assert "BRIN index on points.ts_ms" in lines
        assert f"layout narrow: hypertable points ({2 * 3 * 720 + 1:,} rows" in lines
        assert re.search(r" (\d+) chunks, \1 compressed, segmentby series_id", lines)
        assert "continuous aggregate points_1m (real-time" in lines
        assert "continuous aggregate points_1h (real-time" in lines
        assert "policies on points: compression, retention" in lines
        assert "policies on points_1m: compression, refresh, retention" in lines
        assert "policies on points_1h: compression, refresh, retention" in lines
    finally:
        store.close()


def test_retention_policy_drops_raw_and_the_minute_tier_takes_over(
    tsdb: tsdb_support.Tsdb,
) -> None:
    store = tsdb_support.open_store(tsdb)
    try:
        store.upgrade(Retention())
        store.write(_polls("h1", T0, 720, float))
        roll_up(store, T0 + 3600_000 + 20_000)
        before = series(store, "h1", "cpu", T0 / 1000, T0 / 1000 + 600)
        assert before.sources == ("raw",)
        # T0 is long past on this clock: the raw tier's retention job drops its chunk.
        job = _scalar(
            store,
            "SELECT job_id FROM timescaledb_information.jobs "
            "WHERE proc_name = 'policy_retention' AND hypertable_name = 'points'",
        )
        with store.autocommit_connection("running the retention job") as conn:
            conn.execute(sa.text(f"CALL run_job({int(job)})"))
        assert _scalar(store, "SELECT count(*) FROM points") == 0
        after = series(store, "h1", "cpu", T0 / 1000, T0 / 1000 + 600)
        assert after.sources == ("1m",)  # the old edge: the coarser tier fills in
        assert after.points == [(T0 / 1000 + 60 * k, 12 * k + 5.5) for k in range(11)]
        # Upgrading again changes nothing and keeps one policy of each kind per relation.
        store.upgrade(Retention())
        kinds = _scalar(
            store,
            "SELECT count(*) - count(DISTINCT (hypertable_name, proc_name)) "
            "FROM timescaledb_information.jobs WHERE hypertable_name IS NOT NULL",
        )
        assert kinds == 0
    finally:
        store.close()


def _jobs(store: Store) -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
    with store.engine.connect() as conn:
        return {
            (proc, table): (job_id, config)
            for job_id, proc, table, config in conn.execute(
                sa.text(
                    "SELECT job_id, proc_name, hypertable_name, config "
                    "FROM timescaledb_information.jobs WHERE hypertable_name IS NOT NULL"
                )
            )
        }


def test_jobs_change_only_when_their_settings_do(tsdb: tsdb_support.Tsdb) -> None:
    store = tsdb_support.open_store(tsdb)
    try:
        store.upgrade(Retention())
        before = _jobs(store)
        assert len(before) == 8  # compression and retention of 3 relations, 2 refreshes
        again = store.upgrade(Retention())
        assert not [s for s in again if "_policy(" in s or "alter_job" in s]
        assert _jobs(store) == before  # same ids, same settings: history kept
        # A new MIRROR_COMPRESS_AFTER: the raw compression job is altered in place.
        changed = store.upgrade(Retention(compress_after_s=2 * 3600))
        assert [s for s in changed if "alter_job" in s] == [
            s
            for s in changed
            if "alter_job(" + str(before[("policy_compression", "points")][0]) in s
        ]
        after = _jobs(store)
        assert after.keys() == before.keys()
        assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in before.items()}
        assert after[("policy_compression", "points")][1]["compress_after"] == 2 * 3600_000
        with store.engine.connect() as conn:
            width, schedule = conn.execute(
                sa.text(
                    "SELECT d.integer_interval, extract(epoch FROM j.schedule_interval) "
                    "FROM timescaledb_information.dimensions AS d "
                    "JOIN timescaledb_information.jobs AS j "
                    "ON j.hypertable_name = d.hypertable_name "
                    "WHERE d.hypertable_name = 'points' AND j.proc_name = 'policy_compression'"
                )
            ).one()
        assert (width, schedule) == (1800_000, 900)  # a quarter and an eighth of 2 h
    finally:
        store.close()


def test_every_policy_runs_on_a_real_server(tsdb: tsdb_support.Tsdb) -> None:
    """Each job, run as EGO runs it when the scheduler does not (CALL run_job), succeeds:
    the aggregates' compression policies have their own "now" (integer_now) function."""
    if not tsdb.real:
        pytest.skip(f"the policies' own runs: real server only, running on {tsdb.label}")
    store = tsdb_support.open_store(tsdb)
    try:
        store.upgrade(Retention())
        store.write(_polls("h1", T0, 720, float))
        for (proc, table), (job_id, _) in sorted(_jobs(store).items()):
            with store.autocommit_connection(f"running {proc} on {table}") as conn:
                conn.execute(sa.text(f"CALL run_job({job_id})"))
    finally:
        store.close()


def test_packed_database_meeting_timescale_keeps_its_layout_and_its_jobs(
    tsdb: tsdb_support.Tsdb,
) -> None:
    """Packed samples already there when TimescaleDB appears: hypertables of the packed
    tables, and upgrades that leave their policies alone unless a setting changes."""
    from alembic import command
    from alembic.config import Config

    from mirror.storage.store import MIGRATIONS_DIR

    store = tsdb_support.open_store(tsdb)
    try:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with store.engine.begin() as conn:  # the schema as plain PostgreSQL had it
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
        store.write(_polls("h1", T0, 12, float))
        assert store.narrow is False
        store.upgrade(Retention())
        assert store.narrow is False
        with store.engine.connect() as conn:
            assert sorted(timescale.hypertables(conn)) == ["rollup_1h", "rollup_1m", "samples"]
        before = _jobs(store)
        assert (
            sorted(proc for proc, _ in before) == ["policy_compression"] + ["policy_retention"] * 3
        )
        again = store.upgrade(Retention())
        assert not [s for s in again if "_policy(" in s or "alter_job" in s]
        assert _jobs(store) == before
        store.upgrade(Retention(raw_s=24 * 3600))
        after = _jobs(store)
        assert after[("policy_retention", "samples")] == (
            before[("policy_retention", "samples")][0],
            {**before[("policy_retention", "samples")][1], "drop_after": 24 * 3600_000},
        )
        assert series(store, "h1", "cpu", T0 / 1000, T0 / 1000 + 60).points[:2] == [
            (T0 / 1000, 0.0),
            (T0 / 1000 + 5, 1.0),
        ]
    finally:
        store.close()
