"""Rollup tiers, retention and the chart query layer, on real SQLite and real PostgreSQL."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from mirror.model import Snapshot
from mirror.storage import Store
from mirror.storage.query import display_step_ms, fleet, pick_tier, series
from mirror.storage.retention import Retention, apply_retention, cutoffs
from mirror.storage.rollup import (
    Bucket,
    combine,
    decode_bucket,
    encode_avg,
    encode_stats,
    poll_bucket,
    rebucket,
    roll_up,
    watermarks,
)
from mirror.storage.schema import rollup_1h, rollup_1m, samples
from tests.test_storage import db_url, pg_url  # noqa: F401 - fixtures

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z in ms: an hour boundary
NAN = math.nan


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:  # noqa: F811 - db_url is the imported fixture
    with Store.open(db_url) as s:
        s.upgrade()
        yield s


def rows(store: Store, table: sa.Table) -> int:
    with store.engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(table))


def polls(host: str, start_ms: int, count: int, step_ms: int = 5000, **series_fns):
    return [
        Snapshot(host, (start_ms + i * step_ms) / 1000, {k: f(i) for k, f in series_fns.items()})
        for i in range(count)
    ]


# -- pure bucket math --------------------------------------------------------------------


def test_combine_weights_avg_by_count_and_keeps_min_max_last() -> None:
    a = Bucket(0, 2, (1, 2), [10.0, 1.0], [8.0, 1.0], [12.0, 1.0], [12.0, 1.0])
    b = Bucket(60, 6, (1, 2), [20.0, NAN], [15.0, NAN], [30.0, NAN], [16.0, NAN])
    c = combine(0, [a, b])
    assert c.n == 8 and c.ids == (1, 2)
    assert c.avg == [pytest.approx((10 * 2 + 20 * 6) / 8), 1.0]
    assert (c.min, c.max) == ([8.0, 1.0], [30.0, 1.0])
    assert c.last == [16.0, 1.0]  # the NaN of the later bucket does not hide the last value


def test_combine_takes_the_union_of_layouts() -> None:
    c = combine(0, [poll_bucket(0, (1,), [1.0]), poll_bucket(5, (2,), [4.0])])
    assert c.ids == (1, 2) and c.avg == [1.0, 4.0] and c.n == 2
    lonely = combine(0, [poll_bucket(0, (3,), [NAN])])
    assert math.isnan(lonely.avg[0]) and math.isnan(lonely.min[0]) and math.isnan(lonely.last[0])


def test_rebucket_splits_exactly_at_bucket_boundaries() -> None:
    parts = [poll_bucket(ts, (1,), [v]) for ts, v in ((0, 1.0), (59_999, 3.0), (60_000, 10.0))]
    out = list(rebucket(parts, 60_000))
    assert [(b.ts_ms, b.n, list(b.avg)) for b in out] == [(0, 2, [2.0]), (60_000, 1, [10.0])]


def test_bucket_encoding_round_trips() -> None:
    b = Bucket(0, 12, (1, 2, 3), [10.3, NAN, 1e300], [1.5, NAN, -2.0], [45.125, NAN, 3.0],
               [2.0, NAN, 1.0])  # fmt: skip
    back = decode_bucket(0, 12, (1, 2, 3), encode_avg(b.avg), encode_stats(b))
    assert back.avg[0] == 10.3 and math.isnan(back.avg[1]) and back.avg[2] == math.inf
    assert back.min[0] == 1.5 and back.max[0] == 45.125 and back.last == b.last[:1] + back.last[1:]


def test_pick_tier_gives_300_to_1500_points_for_common_ranges() -> None:
    assert pick_tier(3600).name == "raw"  # 720 polls at 5 s
    assert pick_tier(86400).name == "1m"  # 1440 minutes
    assert pick_tier(30 * 86400).name == "1h"  # 720 hours
    assert pick_tier(7 * 86400).name == "1m"
    assert display_step_ms(7 * 86400_000, 60_000) == 7 * 60_000  # 1440 points
    assert display_step_ms(86400_000, 60_000) == 60_000


# -- the rollup job ------------------------------------------------------------------------


def test_rollups_match_a_direct_computation_and_are_incremental(store: Store) -> None:
    # 3 hours of 5 s polls for two hosts; "a" counts up, "b" is constant.
    n = 3 * 720
    for h in ("h1", "h2"):
        store.write(polls(h, T0, n, a=float, b=lambda i: 7.0))
    first = roll_up(store, T0 + n * 5000 + 60_000)
    assert [(r.tier, r.buckets) for r in first] == [("1m", 2 * 180), ("1h", 2 * 3)]
    assert rows(store, rollup_1m) == 360 and rows(store, rollup_1h) == 6

    # Minute k holds polls 12k..12k+11: avg 12k+5.5, min 12k, max and last 12k+11.
    minute = series(store, "h1", "a", T0 / 1000, (T0 + 86400_000) / 1000)
    assert minute.tier == "1m" and minute.sources == ("1m",)
    assert minute.points[:2] == [(T0 / 1000, 5.5), (T0 / 1000 + 60, 17.5)]
    for stat, first_value in (("min", 0.0), ("max", 11.0), ("last", 11.0)):
        got = series(store, "h1", "a", T0 / 1000, (T0 + 86400_000) / 1000, stat=stat)
        assert got.points[0] == (T0 / 1000, first_value)
    hourly = series(store, "h1", "a", T0 / 1000, (T0 + 40 * 86400_000) / 1000)
    assert hourly.tier == "1h"
    assert hourly.points == [(T0 / 1000 + 3600 * k, 720 * k + 359.5) for k in range(3)]
    assert series(store, "h2", "b", T0 / 1000, T0 / 1000 + 30 * 86400).points[0][1] == 7.0

    # Nothing new: nothing rewritten. New polls: only their buckets are written.
    again = roll_up(store, T0 + n * 5000 + 60_000)
    assert [r.buckets for r in again] == [0, 0]
    store.write(polls("h1", T0 + n * 5000, 24, a=float))
    more = roll_up(store, T0 + n * 5000 + 3 * 60_000)
    assert more[0].buckets == 2


def test_a_late_batch_reopens_its_buckets(store: Store) -> None:
    store.write(polls("h", T0, 720, x=lambda i: 1.0))
    roll_up(store, T0 + 3600_000 + 60_000)
    with store.engine.connect() as conn:
        assert watermarks(conn)["1m"] == T0 + 3600_000
    # A poll that waited out an outage lands in minute 10, already rolled up.
    store.write([Snapshot("h", (T0 + 600_000 + 2500) / 1000, {"x": 25.0})])
    with store.engine.connect() as conn:
        assert watermarks(conn)["1m"] == T0 + 600_000
    roll_up(store, T0 + 3600_000 + 60_000)
    got = series(store, "h", "x", T0 / 1000, T0 / 1000 + 86400)
    assert got.points[10] == (T0 / 1000 + 600, pytest.approx((12 + 25) / 13))
    assert got.points[9][1] == 1.0
    hour = series(store, "h", "x", T0 / 1000, T0 / 1000 + 40 * 86400)
    assert hour.points[0][1] == pytest.approx((720 + 25) / 721)


def test_recent_edge_comes_from_raw_before_any_rollup(store: Store) -> None:
    store.write(polls("h", T0, 720 * 2, x=float))
    got = series(store, "h", "x", T0 / 1000, T0 / 1000 + 86400)  # 1m tier, nothing rolled up
    assert got.tier == "1m" and got.sources == ("raw",)
    assert got.points[0] == (T0 / 1000, 5.5) and len(got.points) == 120
    roll_up(store, T0 + 3600_000 + 15_000)  # first hour rolled up only
    got = series(store, "h", "x", T0 / 1000, T0 / 1000 + 86400)
    assert got.sources == ("1m", "raw") and len(got.points) == 120
    assert got.points[59][1] == 59 * 12 + 5.5 and got.points[60][1] == 60 * 12 + 5.5


def test_retention_deletes_old_ranges_only_once_rolled_up(store: Store) -> None:
    store.write(polls("h", T0, 720 * 3, x=float))  # 3 hours
    keep = Retention(raw_s=3600, minute_s=2 * 3600, hour_s=86400)
    now = T0 + 3 * 3600_000
    assert apply_retention(store, now, keep) == {"1h": 0}  # nothing rolled up: raw stays
    assert rows(store, samples) == 2160
    roll_up(store, now + 15_000)
    deleted = apply_retention(store, now, keep)
    assert deleted["raw"] == 1440 and rows(store, samples) == 720
    # 1m keeps 2 h, but the hour bucket T0+2h is not closed: the cut stops at the 1h watermark.
    assert deleted["1m"] == 60 and rows(store, rollup_1m) == 120
    # Old 30-minute ranges are still answered, from the coarser tiers that keep them.
    old = series(store, "h", "x", (T0 + 3600_000) / 1000, (T0 + 5400_000) / 1000)
    assert old.tier == "raw" and old.sources == ("1m",)
    assert old.points[0] == ((T0 + 3600_000) / 1000, 720 + 5.5) and len(old.points) == 31
    older = series(store, "h", "x", T0 / 1000, (T0 + 1800_000) / 1000)
    assert older.sources == ("1h",) and older.points == [(T0 / 1000, 359.5)]


def test_cutoffs_stop_at_the_coarser_watermark() -> None:
    keep = Retention(raw_s=60, minute_s=60, hour_s=60)
    cuts = cutoffs(T0 + 10 * 3600_000, keep, {"1m": T0 + 90_500, "1h": None})
    assert cuts == {"raw": T0 + 60_000, "1h": T0 + 10 * 3600_000 - 60_000}


def test_fleet_overview_is_a_fixed_number_of_queries(store: Store) -> None:
    def statements_for(hosts: int) -> tuple[int, dict]:
        for h in range(hosts):
            store.write(polls(f"f{hosts}-{h:02}", T0, 720, cpu=lambda i, h=h: float(h)))
        seen: list[str] = []

        def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
            seen.append(statement)

        sa.event.listen(store.engine, "before_cursor_execute", count)
        try:
            lines = fleet(store, "cpu", T0 / 1000, T0 / 1000 + 3600)
        finally:
            sa.event.remove(store.engine, "before_cursor_execute", count)
        return len(seen), lines

    few, _ = statements_for(2)
    roll_up(store, T0 + 3000_000)  # half of the hour rolled up, the rest from raw
    many, lines = statements_for(20)
    assert many <= few + 1, (few, many)
    assert len(lines) == 22
    assert len(lines["f20-07"]) == 60 and {v for _, v in lines["f20-07"]} == {7.0}
