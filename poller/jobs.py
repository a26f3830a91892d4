"""Periodic storage jobs inside `mirror serve`: rollups every minute, retention every hour
(metric tiers and stored command results), a backup every day (kept ``MIRROR_BACKUP_KEEP``),
and on TimescaleDB a look at its own jobs every minute (running the policies its scheduler
fails to run).

APScheduler 3 (``AsyncIOScheduler``) keeps the schedule; each job runs the synchronous
storage work in a worker thread so polling never waits on it. A job that fails (database
down) records a one-line reason in the store's health, logs the first failure and the
recovery once each, and is simply tried again at its next time: no traceback, no stall.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from mirror.errors import StorageError
from mirror.storage import Store, timescale, timescale_jobs
from mirror.storage.backup import daily
from mirror.storage.retention import Retention, apply_retention
from mirror.storage.rollup import DEFAULT_LAG_MS, roll_up

log = logging.getLogger(__name__)

ROLLUP_EVERY_S = 60.0
RETENTION_EVERY_S = 3600.0
BACKUP_EVERY_S = 86400.0
BACKUP_FIRST_AFTER_S = 600.0  # not at start-up: a crash loop must not fill the disk


async def run_job(
    store: Store, name: str, work: Callable[[int], Any], clock: Callable[[], float] = time.time
) -> Any:
    """Run ``work(now_ms)`` in a thread; failures become the job's state in ``store.health``."""
    status = store.health.job(name)
    try:
        result = await asyncio.to_thread(work, round(clock() * 1000))
    except StorageError as exc:
        if status.last_error is None:
            log.error("%s job failed, will retry: %s", name, exc)
        status.last_error = str(exc)
        return None
    if status.last_error is not None:
        log.info("%s job works again", name)
    status.last_error = None
    status.last_run_ts = clock()
    status.runs += 1
    return result


def retain(store: Store, now_ms: int, retention: Retention) -> dict[str, int]:
    """The hourly retention: the metric tiers, then stored command results (issue 6). The
    audit log is append-only and is not trimmed; its entries keep naming old runs."""
    from mirror.audit import AuditLog  # the control part is imported only where it is used
    from mirror.jobs.history import JobHistory

    deleted = apply_retention(store, now_ms, retention)
    before_s = (now_ms - round(retention.commands_s * 1000)) / 1000
    deleted["commands"] = AuditLog(store.engine).trim_results(before_s)
    deleted["job_runs"] = JobHistory(store.engine).trim(before_s)  # kept as long (issue 18)
    return deleted


def watch_timescale(store: Store, watch: timescale_jobs.Watch) -> None:
    """TimescaleDB's policy jobs: report them in the store's health, and run those its
    scheduler fails or never runs (``timescale_jobs.catch_up``)."""
    with store.read_connection("detecting TimescaleDB") as conn:
        installed = timescale.detect(conn).installed
    if installed is None:
        store.health.database_jobs = None
        return
    store.health.database_jobs = timescale_jobs.catch_up(store, watch).as_dict()


def start_jobs(
    store: Store,
    retention: Retention,
    *,
    rollup_every_s: float = ROLLUP_EVERY_S,
    retention_every_s: float = RETENTION_EVERY_S,
    clock: Callable[[], float] = time.time,
    backups: tuple[Path, int] | None = None,
) -> AsyncIOScheduler:
    """Start the scheduler on the running event loop; the caller shuts it down."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    first = datetime.now(UTC) + timedelta(seconds=1)
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    # Runs fall just after each 1-minute bucket closes (its end + the rollup lag), so the raw
    # tail that reads must decode after the watermark (fleet sparklines) stays under ~76 s.
    period = max(rollup_every_s, 1.0)
    boundary = first.timestamp() - first.timestamp() % period
    aligned = datetime.fromtimestamp(boundary + (DEFAULT_LAG_MS / 1000 + 1) % period, UTC)
    scheduler.add_job(
        run_job,
        "interval",
        seconds=rollup_every_s,
        args=[store, "rollup", lambda now_ms: roll_up(store, now_ms), clock],
        id="rollup",
        start_date=aligned,
        next_run_time=first,
        **common,
    )
    scheduler.add_job(
        run_job,
        "interval",
        seconds=retention_every_s,
        args=[store, "retention", lambda now_ms: retain(store, now_ms, retention), clock],
        id="retention",
        next_run_time=first + timedelta(seconds=5),
        **common,
    )
    watch = timescale_jobs.Watch()
    scheduler.add_job(
        run_job,
        "interval",
        seconds=rollup_every_s,
        args=[store, "timescale", lambda _: watch_timescale(store, watch), clock],
        id="timescale",
        next_run_time=first + timedelta(seconds=3),
        **common,
    )
    if backups is not None and backups[1] > 0:
        directory, keep = backups
        scheduler.add_job(
            run_job,
            "interval",
            seconds=BACKUP_EVERY_S,
            args=[store, "backup", lambda now_ms: daily(store, directory, keep, now_ms / 1000)],
            id="backup",
            next_run_time=first + timedelta(seconds=BACKUP_FIRST_AFTER_S),
            **common,
        )
    scheduler.start()
    return scheduler
