"""TimescaleDB's own jobs on a real server: failing or idle policies are seen, reported and
run by EGO itself (``timescale_jobs``), and the worker settings are checked."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from mirror.model import Snapshot
from mirror.storage import Store, info, timescale_jobs
from mirror.storage.retention import Retention
from poller.jobs import watch_timescale
from tests.support import tsdb as tsdb_support

HOUR_MS = 3600_000


def _recent_polls(hours_ago: float, count: int) -> list[Snapshot]:
    """Polls from ``hours_ago`` on, 5 s apart (relative to now: the policies measure age
    against the server's clock)."""
    start = time.time() - hours_ago * 3600
    return [
        Snapshot("h1", start + 5 * i, {"cpu": float(i), "mem": 10**9 + i}) for i in range(count)
    ]


def _compressed(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.scalar(
            sa.text(
                "SELECT count(*) FROM timescaledb_information.chunks "
                "WHERE hypertable_name = 'points' AND is_compressed"
            )
        )


def test_idle_scheduler_is_reported_and_ego_runs_the_policies(tsdb: tsdb_support.Tsdb) -> None:
    """The suite's cluster runs no background workers (max_background_workers = 0): the
    policies never run, as on a server whose scheduler is out of workers."""
    if not tsdb.real:
        pytest.skip(f"worker settings and job statistics: real server only ({tsdb.label})")
    store = tsdb_support.open_store(tsdb)
    try:
        store.upgrade(Retention())
        store.write(_recent_polls(10, 720))  # 10 h old: older than compress_after (6 h)
        watch = timescale_jobs.Watch()
        with store.engine.connect() as conn:
            first = timescale_jobs.report(conn, first_seen=watch.first_seen)
            assert not [p for p in first.problems if "has never run" in p]  # not yet
            later = time.time() + 2 * timescale_jobs.NEVER_RAN_GRACE_S
            found = timescale_jobs.report(conn, now=later, first_seen=watch.first_seen)
        assert len(found.jobs) == 8
        never = [p for p in found.problems if "has never run" in p]
        assert len(never) == 8
        workers = [p for p in found.problems if p.startswith("timescaledb.max_background_")]
        assert workers == [
            "timescaledb.max_background_workers = 0 is fewer than the 8 jobs + launcher and "
            "scheduler: set it to at least 10"
        ]
        assert _compressed(store) == 0

        caught = timescale_jobs.catch_up(store, watch, now=later)
        last = watch.last
        assert sorted(last) == [j.job_id for j in found.jobs]  # every one ran, none failed
        assert not [p for p in caught.problems if "fails when EGO runs it" in p]
        assert all(p.endswith("(EGO runs it itself)") for p in caught.problems if "job " in p)
        assert _compressed(store) >= 1  # the compression policy did its work
        # Within a schedule interval nothing runs again.
        again = dict(last)
        timescale_jobs.catch_up(store, watch, now=later + 30)
        assert last == again

        lines = "\n".join(info.describe(store).lines())
        assert "jobs: 8 policies, 0 runs, 0 failed" in lines
        assert "timescaledb.max_background_workers 0" in lines
        assert "PROBLEM timescaledb.max_background_workers = 0" in lines
    finally:
        store.close()


def test_scheduler_failures_are_seen_and_caught_up(
    tsdb_scheduled: tsdb_support.Tsdb,
) -> None:
    """On a cluster where TimescaleDB's scheduler runs. On this machine's build every
    scheduled run fails (``cannot drop portal ""``); a build where they succeed shows no
    failure lines, and EGO has nothing to do."""
    store = tsdb_support.open_store(tsdb_scheduled)
    try:
        store.upgrade(Retention())
        store.write(_recent_polls(10, 720))
        # New jobs start at once; wait (bounded) until the scheduler has tried each.
        deadline = time.monotonic() + 60
        while True:
            with store.engine.connect() as conn:
                found = timescale_jobs.report(conn)
            if all(j.total_runs for j in found.jobs) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert found.jobs and all(j.total_runs for j in found.jobs), found.jobs
        failed = [j for j in found.jobs if j.last_status == "Failed"]
        failing_lines = [p for p in found.problems if "fails in TimescaleDB's scheduler" in p]
        assert len(failing_lines) == len(failed)
        for job, line in zip(failed, failing_lines, strict=True):
            assert line.startswith(f"{job.name} fails in TimescaleDB's scheduler: ")
            assert job.last_error and job.last_error in line
        assert not [p for p in found.problems if "max_" in p]  # 40 processes, 24 workers

        watch_timescale(store, watch := timescale_jobs.Watch())
        reported = store.health.database_jobs
        assert reported is not None and len(reported["jobs"]) == 8
        # What the watcher read: the failed ones (at least those seen above) were run by EGO.
        failed_now = {j["id"] for j in reported["jobs"] if j["last_status"] == "Failed"}
        assert {j.job_id for j in failed} <= failed_now
        assert sorted(watch.last) == sorted(failed_now)
        problems = store.health.problems()
        assert len(problems) == len(failed_now)
        assert all(
            "fails in TimescaleDB's scheduler" in p and p.endswith(" (EGO runs it itself)")
            for p in problems
        )
        if failed:
            assert _compressed(store) >= 1
    finally:
        store.close()
