"""Watching TimescaleDB's background jobs, and running them when its scheduler does not.

The narrow layout relies on TimescaleDB's policies (compression, refresh, retention). Their
scheduler can be broken (this machine's build: every job ends with ``cannot drop portal ""
while it is being set up``), misconfigured, or out of background workers; then nothing is
compressed, refreshed or dropped and nothing says so. :func:`report` reads
``timescaledb_information.job_stats`` / ``job_errors`` and the worker settings and says what
is wrong, one line each (``mirror db info``, ``/api/health``, the UI). :func:`catch_up`
runs each of EGO's policy jobs that is failing or has never run, once per its schedule
interval, from an ordinary session (``CALL run_job(id)``), which works where the scheduler's
runs fail; the rollup job calls it every minute.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from mirror.errors import StorageError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from mirror.storage.store import Store

log = logging.getLogger(__name__)

# A job due longer ago than this without a run is "never run" (the scheduler is idle).
NEVER_RAN_GRACE_S = 300.0
# Besides the jobs: the launcher, one scheduler per database, and PostgreSQL's parallel
# query workers share max_worker_processes.
LAUNCHER_AND_SCHEDULER = 2
# max_worker_processes beyond those two pools (timescaledb-tune's rule: logical replication
# and other extensions' workers).
OTHER_WORKERS = 3


@dataclass(frozen=True, slots=True)
class Job:
    job_id: int
    proc: str
    relation: str | None
    schedule_s: float
    scheduled: bool
    total_runs: int
    total_failures: int
    last_status: str | None  # "Success" or "Failed"; None: never ran
    next_start: float | None  # unix s; None: not planned (-infinity: "as soon as possible")
    last_error: str | None

    @property
    def name(self) -> str:
        return f"job {self.job_id} ({self.proc}{' on ' + self.relation if self.relation else ''})"


@dataclass(frozen=True, slots=True)
class JobsReport:
    jobs: list[Job] = field(default_factory=list)
    settings: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    caught_up: dict[int, float] = field(default_factory=dict)  # job id -> unix s EGO ran it

    def as_dict(self) -> dict[str, Any]:
        return {
            "jobs": [
                {
                    "id": j.job_id,
                    "proc": j.proc,
                    "relation": j.relation,
                    "runs": j.total_runs,
                    "failures": j.total_failures,
                    "last_status": j.last_status,
                    "last_error": j.last_error,
                    "run_by_ego_ts": self.caught_up.get(j.job_id),
                }
                for j in self.jobs
            ],
            "settings": self.settings,
            "problems": self.problems,
        }


def _setting(conn: Connection, name: str) -> int | None:
    value = conn.scalar(sa.text("SELECT current_setting(:n, true)"), {"n": name})
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def report(
    conn: Connection, now: float | None = None, first_seen: dict[int, float] | None = None
) -> JobsReport:
    """The policy jobs of this database, the worker settings, and what is wrong.

    ``first_seen`` (job id -> unix s, updated): when a job was first seen unplanned and
    unrun; it counts as never run once that is ``NEVER_RAN_GRACE_S`` ago."""
    now = time.time() if now is None else now
    rows = conn.execute(
        sa.text(
            "SELECT j.job_id, j.proc_name, j.hypertable_name, "
            "extract(epoch FROM j.schedule_interval), j.scheduled, s.total_runs, "
            "s.total_failures, s.last_run_status, "
            "CASE WHEN isfinite(s.next_start) THEN extract(epoch FROM s.next_start) END, "
            "(SELECT e.err_message FROM timescaledb_information.job_errors AS e "
            " WHERE e.job_id = j.job_id ORDER BY e.finish_time DESC NULLS LAST LIMIT 1) "
            "FROM timescaledb_information.jobs AS j "
            "LEFT JOIN timescaledb_information.job_stats AS s ON s.job_id = j.job_id "
            "WHERE j.proc_name LIKE 'policy_%' AND j.hypertable_name IS NOT NULL "
            "ORDER BY j.job_id"
        )
    )
    jobs = [
        Job(
            r[0],
            r[1],
            r[2],
            float(r[3] or 0),
            bool(r[4]),
            int(r[5] or 0),
            int(r[6] or 0),
            r[7],
            float(r[8]) if r[8] is not None else None,
            r[9],
        )
        for r in rows
    ]
    settings = {
        name: value
        for name in (
            "max_worker_processes",
            "timescaledb.max_background_workers",
            "max_parallel_workers",
        )
        if (value := _setting(conn, name)) is not None
    }
    seen = {} if first_seen is None else first_seen
    for j in jobs:
        seen.setdefault(j.job_id, now)
    problems = [p for j in jobs if (p := _job_problem(j, now, seen[j.job_id]))]
    problems += worker_problems(settings, len(jobs))
    return JobsReport(jobs, settings, problems)


def _job_problem(job: Job, now: float, first_seen: float) -> str | None:
    if job.last_status == "Failed":
        return (
            f"{job.name} fails in TimescaleDB's scheduler: {job.last_error or 'no message'} "
            f"({job.total_failures} of {job.total_runs} runs)"
        )
    due = job.next_start if job.next_start is not None else first_seen
    if job.scheduled and job.total_runs == 0 and due < now - NEVER_RAN_GRACE_S:
        return f"{job.name} has never run: TimescaleDB's scheduler is not running it"
    return None


def worker_problems(settings: dict[str, int], jobs: int) -> list[str]:
    """What to set when the server has too few background workers for the jobs."""
    out = []
    background = settings.get("timescaledb.max_background_workers")
    processes = settings.get("max_worker_processes")
    parallel = settings.get("max_parallel_workers", 8)
    need_background = jobs + LAUNCHER_AND_SCHEDULER
    if background is not None and background < need_background:
        out.append(
            f"timescaledb.max_background_workers = {background} is fewer than the "
            f"{jobs} jobs + launcher and scheduler: set it to at least {need_background}"
        )
        background = need_background
    if background is not None and processes is not None:
        need = background + parallel + OTHER_WORKERS
        if processes < need:
            out.append(
                f"max_worker_processes = {processes} cannot start the jobs: set it to at least "
                f"{need} (timescaledb.max_background_workers {background} + "
                f"max_parallel_workers {parallel} + {OTHER_WORKERS}) and restart PostgreSQL"
            )
    return out


@dataclass
class Watch:
    """What the watcher remembers between runs."""

    last: dict[int, float] = field(default_factory=dict)  # job id -> when EGO last ran it
    first_seen: dict[int, float] = field(default_factory=dict)  # see report()


def catch_up(store: Store, watch: Watch, now: float | None = None) -> JobsReport:
    """Run (``CALL run_job``) each policy job the scheduler fails or never runs, at most
    once per its schedule interval. A job that fails here too is reported; the others'
    runs go on."""
    now = time.time() if now is None else now
    last = watch.last
    with store.read_connection("reading TimescaleDB's jobs") as conn:
        found = report(conn, now, watch.first_seen)
    stuck = [j for j in found.jobs if _job_problem(j, now, watch.first_seen[j.job_id]) is not None]
    problems = list(found.problems)
    for job in stuck:
        if now - last.get(job.job_id, float("-inf")) < max(job.schedule_s, 60.0):
            continue
        try:
            with store.autocommit_connection(f"running {job.name}") as conn:
                conn.execute(sa.text(f"CALL run_job({job.job_id})"))
        except StorageError as e:  # one job's failure is a line in the report
            reason = str(e)
            problems.append(f"{job.name} fails when EGO runs it too: {reason}")
            log.warning("%s fails when EGO runs it too: %s", job.name, reason)
            continue
        last[job.job_id] = now
    ran = {j.job_id: j.name for j in stuck if j.job_id in last}
    problems = [
        p + (" (EGO runs it itself)" if any(p.startswith(n + " ") for n in ran.values()) else "")
        for p in problems
    ]
    return JobsReport(found.jobs, found.settings, problems, dict(last))
