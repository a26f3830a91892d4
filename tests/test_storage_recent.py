"""The in-memory last hour behind the fleet overview, against the database's own answer."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from mirror.model import Snapshot
from mirror.storage import Store
from mirror.storage.query import fleet, recent_fleet
from mirror.storage.recent import RecentWindow
from mirror.storage.rollup import roll_up
from tests.test_storage import db_url, pg_url  # noqa: F401 - fixtures

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z in ms
HOSTS = [f"r{h:02}" for h in range(6)]


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:  # noqa: F811 - db_url is the imported fixture
    with Store.open(db_url) as s:
        s.upgrade()
        yield s


def value(h: int, k: int) -> float:
    return float((h * 7 + k * 13) % 97) + 0.25


def write_polls(store: Store, first: int, count: int) -> None:
    """Polls ``first … first + count - 1`` (5 s apart) of every host, one batch per poll;
    each host's polls sit at their own offset in the 5 s, as the scheduler places them."""
    for k in range(first, first + count):
        store.write(
            [
                Snapshot(name, (T0 + k * 5000 + h * 700) / 1000, {"cpu": value(h, k), "m": 1.0})
                for h, name in enumerate(HOSTS)
            ]
        )


def queries(store: Store) -> list[str]:
    seen: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", count)
    return seen


def assert_same(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for host in want:
        assert [ts for ts, _ in got[host]] == [ts for ts, _ in want[host]], host
        # The database's rolled-up minutes hold float32 averages.
        assert [v for _, v in got[host]] == [pytest.approx(v, rel=1e-6) for _, v in want[host]]


def test_window_answers_as_the_database_does_without_a_query(store: Store) -> None:
    write_polls(store, 0, 600)  # 50 minutes
    roll_up(store, T0 + 40 * 60_000)  # 1-minute rows for the first ~40, raw after
    now = (T0 + 50 * 60_000) / 1000
    first = recent_fleet(store, "cpu", now - 3600, now)  # reads the database: the seed
    assert_same(first, fleet(store, "cpu", now - 3600, now))
    assert store.recent.tracked == ["cpu"]

    # 15 more minutes, one poll at a time: the bucket in progress at the seed keeps
    # filling, and the oldest minutes leave the hour.
    write_polls(store, 600, 180)
    roll_up(store, T0 + 62 * 60_000)
    now = (T0 + 65 * 60_000) / 1000
    seen = queries(store)
    got = recent_fleet(store, "cpu", now - 3600, now)
    assert seen == [], "the window answers without the database"
    want = fleet(store, "cpu", now - 3600, now)
    assert_same(got, want)
    assert len(got["r03"]) == 60


def test_a_range_before_the_window_is_read_from_the_database(store: Store) -> None:
    write_polls(store, 0, 240)
    now = (T0 + 20 * 60_000) / 1000
    recent_fleet(store, "cpu", now - 600, now)  # keeps the last 10 minutes only
    seen = queries(store)
    older = recent_fleet(store, "cpu", now - 1200, now)
    assert seen, "20 minutes back is before what the window holds"
    assert_same(older, fleet(store, "cpu", now - 1200, now))
    assert len(older["r00"]) == 20


def test_a_first_range_that_ends_early_still_keeps_what_came_after(store: Store) -> None:
    write_polls(store, 0, 240)  # 20 minutes
    start = T0 / 1000
    early = recent_fleet(store, "cpu", start, start + 300)
    assert [len(early[h]) for h in HOSTS] == [6] * len(HOSTS)  # minutes 0…5
    seen = queries(store)
    later = recent_fleet(store, "cpu", start, start + 1200)
    assert seen == []
    assert_same(later, fleet(store, "cpu", start, start + 1200))


def test_a_write_while_the_window_is_seeded_is_counted_once(store: Store) -> None:
    write_polls(store, 0, 100)
    now = (T0 + 9 * 60_000) / 1000
    writer = threading.Thread(target=write_polls, args=(store, 100, 20))

    def write_meanwhile(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if "FROM samples" in statement and not writer.is_alive():
            writer.start()  # while the seed reads the raw rows: the write must wait
            writer.join(0.3)
            assert writer.is_alive(), "the write went through during the seed"

    sa.event.listen(store.engine, "before_cursor_execute", write_meanwhile)
    try:
        lines = recent_fleet(store, "cpu", now - 3600, now)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", write_meanwhile)
    writer.join(10)
    assert len(lines["r01"]) == 9  # the seed saw none of the waiting write
    now = (T0 + 11 * 60_000) / 1000
    assert_same(recent_fleet(store, "cpu", now - 3600, now), fleet(store, "cpu", now - 3600, now))


def test_repeated_and_missing_values_are_not_averaged() -> None:
    window = RecentWindow()
    window.seed("cpu", T0, {}, {})
    window.observe([Snapshot("a", T0 / 1000, {"cpu": 10.0})])
    window.observe([Snapshot("a", T0 / 1000, {"cpu": 99.0})])  # the same poll again: kept once
    window.observe([Snapshot("a", (T0 + 5000) / 1000, {"cpu": math.nan})])
    window.observe([Snapshot("a", (T0 + 10_000) / 1000, {"other": 1.0})])
    window.observe([Snapshot("a", (T0 + 15_000) / 1000, {"cpu": 20.0})])
    assert window.read("cpu", T0, T0 + 60_000) == {"a": [(T0 / 1000, 15.0)]}
    assert window.read("mem", T0, T0 + 60_000) is None  # not kept


def test_old_minutes_leave_and_few_series_are_kept() -> None:
    window = RecentWindow(max_series=2, keep_ms=10 * 60_000)
    for name in ("a", "b", "c"):
        window.seed(name, T0, {}, {})
    assert window.tracked == ["b", "c"]  # the least recently used went
    for minute in range(30):
        window.observe([Snapshot("h", (T0 + minute * 60_000) / 1000, {"b": float(minute)})])
    end = T0 + 30 * 60_000
    assert window.read("b", end - 15 * 60_000, end) is None  # before what it holds
    kept = window.read("b", end - 10 * 60_000, end)
    assert kept is not None and [v for _, v in kept["h"]] == [float(m) for m in range(20, 30)]
