"""The runs of scheduled jobs: who or what started each, when it was due, began and ended,
and how it went; each target's result (exit status, duration, capped output) is a row of
``command_results`` under the run's id, as for any command run, and is trimmed with them.

A scheduled run is claimed by (job, scheduled time) before anything runs: the unique key
makes a second claim of the same slot fail, so a restart between starting a run and
APScheduler recording its next time cannot run it twice. A run still ``running`` when
EGO starts was cut short by a stop: ``interrupted`` says so.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from mirror.audit import command_results
from mirror.errors import StorageError
from mirror.storage.schema import metadata

job_runs = sa.Table(
    "job_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.String(32), nullable=False, unique=True),
    sa.Column("job", sa.String(128), nullable=False, index=True),
    sa.Column("trigger", sa.String(16), nullable=False),  # schedule | manual
    sa.Column("requested_by", sa.String(128), nullable=False),
    sa.Column("via", sa.String(16), nullable=False),
    sa.Column("scheduled_ms", sa.BigInteger),  # the slot it was due in (None: by hand)
    sa.Column("started_ms", sa.BigInteger),
    sa.Column("ended_ms", sa.BigInteger),
    # running | ok | failed | stopped | missed | interrupted
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("hosts", sa.Text, nullable=False),  # comma-separated, in run order
    sa.Column("note", sa.Text),  # "3 runs missed while EGO was down; run once", …
    sa.UniqueConstraint("job", "scheduled_ms"),
)

# APScheduler's SQLAlchemyJobStore table (its own layout), created by the migration so the
# whole schema is Alembic's; the store finds it there.
SCHEDULE_TABLE = "job_schedule"

FINAL_STATES = ("ok", "failed", "stopped", "missed", "interrupted")


@dataclass(frozen=True, slots=True)
class RunRow:
    run_id: str
    job: str
    trigger: str
    requested_by: str
    via: str
    scheduled: float | None
    started: float | None
    ended: float | None
    state: str
    hosts: tuple[str, ...]
    note: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "job": self.job,
            "trigger": self.trigger,
            "requested_by": self.requested_by,
            "via": self.via,
            "scheduled": self.scheduled,
            "started": self.started,
            "ended": self.ended,
            "duration_s": None
            if self.started is None or self.ended is None
            else round(self.ended - self.started, 3),
            "state": self.state,
            "hosts": list(self.hosts),
            "note": self.note,
        }


def _seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000


def _row(row: Any) -> RunRow:
    return RunRow(
        row.run_id,
        row.job,
        row.trigger,
        row.requested_by,
        row.via,
        _seconds(row.scheduled_ms),
        _seconds(row.started_ms),
        _seconds(row.ended_ms),
        row.state,
        tuple(h for h in row.hosts.split(",") if h),
        row.note,
    )


class JobHistory:
    """Synchronous (SQLAlchemy Core, like the audit log): called from a worker thread."""

    def __init__(self, engine: Engine, clock: Callable[[], float] | None = None) -> None:
        import time

        self._engine = engine
        self._clock = clock or time.time

    def claim(
        self,
        run_id: str,
        job: str,
        *,
        trigger: str,
        requested_by: str,
        via: str,
        hosts: tuple[str, ...],
        scheduled: float | None = None,
        state: str = "running",
        note: str | None = None,
    ) -> bool:
        """Record a run before it starts; False when its slot was already claimed."""
        now_ms = round(self._clock() * 1000)
        row = {
            "run_id": run_id,
            "job": job,
            "trigger": trigger,
            "requested_by": requested_by[:128],
            "via": via,
            "scheduled_ms": None if scheduled is None else round(scheduled * 1000),
            "started_ms": now_ms if state == "running" else None,
            "ended_ms": None if state == "running" else now_ms,
            "state": state,
            "hosts": ",".join(hosts),
            "note": note,
        }
        try:
            with self._errors(), self._engine.begin() as conn:
                conn.execute(sa.insert(job_runs).values(**row))
        except StorageError as exc:
            if isinstance(exc.__cause__, sa.exc.IntegrityError):
                return False
            raise
        return True

    def finish(self, run_id: str, state: str, note: str | None = None) -> None:
        values: dict[str, Any] = {"state": state, "ended_ms": round(self._clock() * 1000)}
        if note is not None:
            values["note"] = note
        with self._errors(), self._engine.begin() as conn:
            conn.execute(sa.update(job_runs).where(job_runs.c.run_id == run_id).values(**values))

    def interrupt_running(self) -> list[RunRow]:
        """Runs left ``running`` by a stopped EGO become ``interrupted`` (at start-up)."""
        running = job_runs.c.state == "running"
        with self._errors(), self._engine.begin() as conn:
            rows = [_row(r) for r in conn.execute(sa.select(job_runs).where(running))]
            conn.execute(
                sa.update(job_runs)
                .where(running)
                .values(
                    state="interrupted",
                    ended_ms=round(self._clock() * 1000),
                    note="EGO stopped while this run was going",
                )
            )
        return rows

    def runs(self, job: str | None = None, limit: int = 50) -> list[RunRow]:
        """Newest first."""
        query = sa.select(job_runs).order_by(job_runs.c.id.desc()).limit(max(1, limit))
        if job is not None:
            query = query.where(job_runs.c.job == job)
        with self._errors(), self._engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def run(self, run_id: str) -> RunRow | None:
        query = sa.select(job_runs).where(job_runs.c.run_id == run_id)
        with self._errors(), self._engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _row(row)

    def ran(self, job: str, scheduled: float) -> bool:
        """A run (or a recorded miss) exists for this slot."""
        query = sa.select(job_runs.c.id).where(
            job_runs.c.job == job, job_runs.c.scheduled_ms == round(scheduled * 1000)
        )
        with self._errors(), self._engine.connect() as conn:
            return conn.execute(query).first() is not None

    def results(self, run_id: str) -> list[dict[str, Any]]:
        """Each target's attempts, in the order they ended (the last is the result)."""
        query = (
            sa.select(command_results)
            .where(command_results.c.run_id == run_id)
            .order_by(command_results.c.id)
        )
        with self._errors(), self._engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def last_results(self, job: str, runs: int = 20) -> dict[str, dict[str, Any]]:
        """Each target's latest result among the job's last ``runs`` runs."""
        latest: dict[str, dict[str, Any]] = {}
        for row in reversed(self.runs(job, runs)):
            for result in self.results(row.run_id):
                latest[result["host"]] = result | {"run_id": row.run_id}
        return latest

    def trim(self, before: float) -> int:
        """Delete ended runs older than ``before`` (the results go with command results)."""
        cut = sa.and_(
            job_runs.c.ended_ms < round(before * 1000), job_runs.c.state.in_(FINAL_STATES)
        )
        with self._errors(), self._engine.begin() as conn:
            return max(conn.execute(sa.delete(job_runs).where(cut)).rowcount or 0, 0)

    def _errors(self) -> contextlib.AbstractContextManager[None]:
        return _db_errors(self._engine)


@contextlib.contextmanager
def _db_errors(engine: Engine) -> Iterator[None]:
    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        hint = " (run `mirror db upgrade`)" if "no such table" in reason else ""
        url = engine.url.render_as_string(hide_password=True)
        raise StorageError(f"job history {url}: {reason}{hint}") from exc
