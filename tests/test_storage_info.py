"""`mirror db info`'s row counts: exact on SQLite (from the dbstat walk), the planner's
estimate for big PostgreSQL tables, marked "≈"."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from mirror.model import Snapshot
from mirror.storage import Store
from mirror.storage.info import TABLES, describe
from mirror.storage.rollup import roll_up
from tests.test_storage import db_url, pg_url  # noqa: F401 - fixtures

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z in ms


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:  # noqa: F811 - db_url is the imported fixture
    with Store.open(db_url) as s:
        s.upgrade()
        # Enough rows that samples, series and rollup_1m have interior b-tree pages.
        for k in range(400):
            s.write(
                [
                    Snapshot(f"h{h}", (T0 + k * 5000) / 1000, {"cpu": k * 0.5, "mem": float(h)})
                    for h in range(6)
                ]
            )
        s.write([Snapshot("wide", T0 / 1000, {f"if{i}.rx": float(i) for i in range(600)})])
        roll_up(s, T0 + 40 * 60_000)
        yield s


def counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {t: conn.scalar(sa.text(f'SELECT count(*) FROM "{t}"')) for t in TABLES}


def test_small_tables_are_counted_exactly(store: Store) -> None:
    info = describe(store)
    assert {t.name: t.rows for t in info.tables} == counts(store)
    assert not any(t.estimated for t in info.tables)
    assert not any("≈" in line for line in info.lines())
    assert next(t for t in info.tables if t.name == "samples").rows == 400 * 6 + 1


def test_big_postgresql_tables_show_the_planners_estimate(store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("SQLite's counts come from the dbstat walk, exact at any size")
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # ANALYZE alone: within VACUUM ANALYZE the row estimate is VACUUM's, which skips
        # pages another backend has pinned and extrapolates over them.
        conn.execute(sa.text("ANALYZE"))
    exact = counts(store)
    info = describe(store, exact_below=500)
    by_name = {t.name: t for t in info.tables}
    assert by_name["samples"].estimated and by_name["series"].estimated
    assert by_name["samples"].rows == pytest.approx(exact["samples"], rel=0.05)
    assert not by_name["hosts"].estimated and by_name["hosts"].rows == exact["hosts"]
    lines = info.lines()
    samples_line = next(line for line in lines if line.startswith("samples "))
    assert f"≈{by_name['samples'].rows:,}" in samples_line
    assert lines[-1].startswith("≈ the planner's estimate")
