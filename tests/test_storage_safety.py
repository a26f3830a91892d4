"""A crash mid-write loses at most the batch in flight; a database that goes away is waited out.

``kill -9`` hits a real writer process on SQLite; the outage is a real PostgreSQL server of the
test's own, stopped and started again while EGO's writer keeps submitting poll results.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from mirror.model import HostState, PollStatus, Snapshot
from mirror.storage import Store
from mirror.storage.query import series
from mirror.storage.retention import Retention
from mirror.storage.rollup import roll_up
from mirror.storage.schema import samples
from poller.host import PollResult
from poller.jobs import run_job, start_jobs
from poller.writer import BatchWriter
from tests.support.pgserver import PgServer, start_pg

ROOT = Path(__file__).resolve().parents[1]
T0 = 1_767_225_600.0
BATCH = 200

WRITER = textwrap.dedent(
    f"""
    import sys
    from mirror.model import Snapshot
    from mirror.storage import Store
    store = Store.open(sys.argv[1])
    store.upgrade()
    names = [f"cpu.busy_pct[{{i}}]" for i in range(40)]
    for b in range(100000):
        store.write([
            Snapshot(f"h{{h:03}}", {T0} + (b * {BATCH} // 20 + 0) * 5 + h * 0.001,
                     {{n: (b + h + i) / 7 for i, n in enumerate(names)}})
            for h in range({BATCH})
        ])
        print(b + 1, flush=True)
    """
)


def count(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(samples))


def test_kill_9_mid_write_loses_at_most_the_batch_in_flight(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, url], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    committed = 0
    try:
        assert proc.stdout is not None
        while committed < 15:
            line = proc.stdout.readline()
            assert line, "writer died early"
            committed = int(line)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    with Store.open(url) as store:
        store.upgrade()
        with store.engine.connect() as conn:
            assert conn.scalar(sa.text("PRAGMA integrity_check")) == "ok"
        rows = count(store)
        assert rows % BATCH == 0, "a batch was written in part"
        assert committed * BATCH <= rows <= (committed + 1) * BATCH
        # The next start continues: more writes, and rollups over what survived.
        store.write([Snapshot("h000", T0 + 10**6, {"cpu.busy_pct[0]": 1.0})])
        assert count(store) == rows + 1
        roll_up(store, round((T0 + 10**6) * 1000))
        assert series(store, "h000", "cpu.busy_pct[0]", T0, T0 + 86400).points


@pytest.fixture
def own_pg() -> Iterator[PgServer]:
    try:
        server = start_pg()
    except (OSError, RuntimeError, subprocess.CalledProcessError) as e:
        pytest.fail(f"cannot start a PostgreSQL server for this test: {e}")
    yield server
    server.destroy()


def result(host: str, ts: float) -> PollResult:
    return PollResult(
        Snapshot(host, ts, {"x": ts - T0}), PollStatus(host, HostState.UP, ts, None, 1.0)
    )


async def test_postgresql_restart_is_buffered_reported_and_written_after(own_pg: PgServer) -> None:
    store = Store.open(own_pg.url)
    try:
        store.upgrade()
        writer = BatchWriter(store, None, max_buffered=50, max_batch=7, health=store.health)
        for i in range(10):
            writer.submit(result("a", T0 + i * 5))
        await writer.flush()
        assert count(store) == 10 and writer.buffered == 0

        own_pg.stop()
        for i in range(10, 30):
            writer.submit(result("a", T0 + i * 5))
        await writer.flush()
        health = store.health.as_dict()
        assert health["buffered"] == 20 and not health["writable"]
        assert f"127.0.0.1:{own_pg.port}" in health["last_error"]
        assert "\n" not in health["last_error"]
        for i in range(30, 70):  # 60 results for 50 places: the 10 oldest go, and are counted
            writer.submit(result("a", T0 + i * 5))
        assert store.health.as_dict()["dropped"] == 10

        own_pg.start()
        await writer.flush()
        health = store.health.as_dict()
        assert health["buffered"] == 0 and health["writable"] and health["last_error"] is None
        assert count(store) == 10 + 50
        got = [v for _, v in store.series("a", "x", T0, T0 + 3600)]
        assert got == [i * 5.0 for i in (*range(10), *range(20, 70))]
    finally:
        store.close()


async def test_jobs_run_on_the_scheduler_and_failures_are_states(tmp_path: Path) -> None:
    import asyncio

    store = Store.open(f"sqlite:///{tmp_path / 'jobs.db'}")
    try:
        broken = await run_job(store, "rollup", lambda now_ms: roll_up(store, now_ms))
        assert broken is None
        assert "mirror db upgrade" in store.health.job("rollup").last_error
        store.upgrade()
        store.write([Snapshot("h", T0 + i * 5, {"x": float(i)}) for i in range(30)])
        scheduler = start_jobs(store, Retention(), rollup_every_s=0.2, clock=lambda: T0 + 3600)
        try:
            deadline = time.monotonic() + 10
            while store.health.job("rollup").last_error and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
        finally:
            scheduler.shutdown(wait=False)
        job = store.health.job("rollup")
        assert job.last_error is None and job.runs >= 1 and job.last_run_ts == T0 + 3600
        assert series(store, "h", "x", T0, T0 + 86400).sources == ("1m",)
    finally:
        store.close()


async def test_rollup_runs_just_after_each_minute_closes(tmp_path: Path) -> None:
    """Each run after the first falls at :16 (bucket end + 15 s lag + 1 s): the raw tail the
    fleet sparklines decode after the watermark stays under ~76 s."""
    with Store.open(f"sqlite:///{tmp_path / 'jobs.db'}") as store:
        store.upgrade()
        scheduler = start_jobs(store, Retention())
        try:
            trigger = scheduler.get_job("rollup").trigger
            now = datetime.now(UTC)
            fires = [trigger.get_next_fire_time(None, now)]
            fires.append(trigger.get_next_fire_time(fires[0], fires[0]))
        finally:
            scheduler.shutdown(wait=False)
    assert [f.second for f in fires] == [16, 16]
    assert fires[1] - fires[0] == timedelta(minutes=1)
