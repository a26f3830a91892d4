"""Live writes through every back end with real collector snapshots from the simulated lab,
and what a database that refuses writes costs (nothing but a buffered backlog)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from mirror.model import HostState, PollStatus
from mirror.storage import Store, fixedpoint
from mirror.storage.query import fleet, series
from poller.host import PollResult
from poller.writer import BatchWriter
from tests.support import tsdb as tsdb_support
from tests.support.labsnaps import lab_polls
from tests.test_storage import empty_pg, pg_url  # noqa: F401 - fixture

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


@pytest.fixture(params=["sqlite", "postgresql", "timescaledb"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        store = Store.open(f"sqlite:///{tmp_path / 'm.db'}")
    elif request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
        empty_pg(url)
        store = Store.open(url)
    else:
        store = tsdb_support.open_store(request.getfixturevalue("tsdb"))
    try:
        store.upgrade()
        assert store.narrow is (request.param == "timescaledb")
        yield store
    finally:
        store.close()


def test_lab_snapshots_are_stored_and_read_back_on_every_back_end(backend: Store) -> None:
    polls = list(lab_polls(3, 8, T0))
    kinds = {type(v) for batch in polls for s in batch for v in s.metrics.values()}
    assert kinds == {int, float}  # bytes are integers, the rest floats: one batch mixes them
    for batch in polls:
        backend.write(batch, [PollStatus(s.host, HostState.UP, s.ts, None, 12.0) for s in batch])
    for snap in polls[-1]:
        names = backend.series_names(snap.host)
        assert set(snap.metrics) <= set(names)
        for name in ("mem.used_bytes", "cpu.busy_pct", "fs.used_bytes[/]", "load.1"):
            written = [
                (s.ts, float(s.metrics[name]))
                for batch in polls
                for s in batch
                if s.host == snap.host and name in s.metrics
            ]
            assert backend.series(snap.host, name, T0, T0 + 3600) == written, name
        row = backend.host_row(snap.host)
        assert row is not None and row.state is HostState.UP
        assert row.metrics == {
            k: (v if math.isfinite(v) else None) for k, v in snap.metrics.items()
        }
        assert row.info["hostname"]  # from the slow frame of poll 6


def _refuse_samples(store: Store, on: bool) -> None:
    """A trigger that makes the database refuse every raw sample (a full disk, a lost
    privilege: the write transaction fails after the ids are known)."""
    table = "points" if store.narrow else "samples"
    with store.engine.begin() as conn:
        if on:
            conn.execute(
                sa.text(
                    "CREATE OR REPLACE FUNCTION mirror_test_refuse() RETURNS trigger "
                    "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$"
                )
            )
            conn.execute(
                sa.text(
                    f"CREATE TRIGGER mirror_test_refuse BEFORE INSERT ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION mirror_test_refuse()"
                )
            )
        else:
            conn.execute(sa.text(f"DROP TRIGGER mirror_test_refuse ON {table}"))


def _sequences(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {
            name: conn.scalar(sa.text(f"SELECT last_value FROM {name}"))
            for name in ("hosts_id_seq", "series_id_seq", "layouts_id_seq")
        }


def test_a_refused_batch_retried_burns_no_ids_and_health_says_degraded(backend: Store) -> None:
    if backend.dialect != "postgresql":
        pytest.skip("sequences and triggers: PostgreSQL")
    polls = list(lab_polls(2, 3, T0))
    backend.write(polls[0])
    before = _sequences(backend)
    _refuse_samples(backend, True)
    writer = BatchWriter(backend, None, health=backend.health)
    for batch in polls[1:]:  # poll 1 brings new series (CPU percentages need two polls)
        for snap in batch:
            writer.submit(PollResult(snap, PollStatus(snap.host, HostState.UP, snap.ts)))

    async def retry(times: int) -> None:
        for _ in range(times):
            await writer.flush()

    asyncio.run(retry(20))
    assert writer.buffered == 4
    problems = backend.health.problems()
    assert problems and problems[0].startswith("storage is not writable: ")
    assert "refused by the test" in problems[0]
    # The new series were created once, committed, and are not created again per retry.
    after = _sequences(backend)
    with backend.engine.connect() as conn:
        series_rows = conn.scalar(sa.text("SELECT count(*) FROM series"))
    assert after["series_id_seq"] == series_rows
    assert after["hosts_id_seq"] == before["hosts_id_seq"] == 2
    assert after["layouts_id_seq"] - before["layouts_id_seq"] <= 2

    _refuse_samples(backend, False)
    asyncio.run(retry(1))
    assert writer.buffered == 0 and backend.health.problems() == []
    assert _sequences(backend) == after
    name = "cpu.busy_pct"
    assert [ts for ts, _ in backend.series("lab-01", name, T0, T0 + 60)] == [T0 + 5, T0 + 10]


def test_declared_precision_is_lossless_for_every_lab_series() -> None:
    """Every value the collectors report fits the precision ``fixedpoint`` declares for its
    series: stored as value × 10^d it reads back exactly."""
    declared = 0
    for batch in lab_polls(5, 4, T0):
        for snap in batch:
            for name, value in snap.metrics.items():
                places = fixedpoint.decimals(name)
                declared += places is not None
                assert fixedpoint.unscale(fixedpoint.scale(value, places), places) == value, (
                    name,
                    value,
                )
    assert declared > 100


def test_timescaledb_stores_declared_series_as_fixed_point(tsdb: tsdb_support.Tsdb) -> None:
    store = tsdb_support.open_store(tsdb)
    try:
        store.upgrade()
        polls = list(lab_polls(1, 3, T0))
        for batch in polls:
            store.write(batch)
        with store.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT s.name, s.decimals, p.value FROM points AS p "
                    "JOIN series AS s ON s.id = p.series_id WHERE p.ts_ms = :ts"
                ),
                {"ts": round(polls[-1][0].ts * 1000)},
            ).all()
        stored = {name: (places, value) for name, places, value in rows}
        assert stored["cpu.busy_pct"][0] == 2 and stored["mem.used_bytes"][0] == 0
        assert stored["load.1"][0] == 2
        for name, (places, value) in stored.items():
            written = polls[-1][0].metrics[name]
            if places is None:
                assert value == written, name
            else:
                assert value == round(written * 10**places) and value.is_integer(), name
        assert store.series("lab-01", "cpu.busy_pct", T0, T0 + 10) == [
            (b[0].ts, b[0].metrics["cpu.busy_pct"]) for b in polls if "cpu.busy_pct" in b[0].metrics
        ]
        # The aggregates average the stored integers; reads divide back.
        busy = [b[0].metrics["cpu.busy_pct"] for b in polls if "cpu.busy_pct" in b[0].metrics]
        (minute,) = fleet(store, "cpu.busy_pct", T0, T0 + 60)["lab-01"]
        assert minute == (T0, pytest.approx(sum(busy) / len(busy)))
        chart = series(store, "lab-01", "mem.used_bytes", T0, T0 + 6 * 3600)
        assert chart.tier == "1m"
        assert chart.points[0][1] == pytest.approx(
            sum(b[0].metrics["mem.used_bytes"] for b in polls) / 3
        )
    finally:
        store.close()
