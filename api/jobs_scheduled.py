"""Scheduled jobs (issue 18): the jobs with their next run and last result per target, the
history of runs, a run's per-target results and live output, run now, pause, resume.

Anyone logged in sees the jobs and the runs' states; a run's output, following it live and
every change need the ``operator`` or ``admin`` role (a token: the ``operate`` scope), as
for commands. A run started here is audited as ``job:NAME`` under the user's name (the
job's owner is in the entry); pause and resume as ``job.pause`` / ``job.resume``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import anyio
from litestar import Controller, Request, WebSocket, get, post
from litestar.di import NamedDependency
from litestar.handlers import websocket_stream
from litestar.params import FromPath, FromQuery
from litestar.status_codes import HTTP_202_ACCEPTED

from api.access import LiveAccess
from api.control import Unavailable, _until_ended, identity_of, record, require_operate
from api.errors import BadRequest, NotFound
from mirror.auth import Identity
from mirror.errors import ConfigError
from mirror.jobs.control import JobControl

RESULT_FIELDS = ("state", "exit_status", "exit_signal", "duration_ms", "ts_ms", "error", "run_id")


def _serving(control: JobControl | None) -> JobControl:
    if control is None:
        raise Unavailable("scheduled jobs need the poller's connections: run `mirror serve`")
    return control


def _listing(control: JobControl) -> list[dict[str, Any]]:
    """Each job, its last run and each target's last result (no output): from a thread."""
    found = []
    for job in control.jobs():
        runs = control.history.runs(job["name"], 1)
        last = control.history.last_results(job["name"])
        job["last_run"] = runs[0].as_dict() if runs else None
        job["last_results"] = {
            host: {k: r.get(k) for k in RESULT_FIELDS} for host, r in last.items()
        }
        found.append(job)
    return found


class ScheduledJobsController(Controller):
    path = "/api"
    tags = ["jobs"]  # noqa: RUF012 - Litestar reads this class attribute as is

    @get("/jobs")
    async def list_jobs(
        self, scheduled_jobs: NamedDependency[JobControl | None]
    ) -> list[dict[str, Any]]:
        """Every job of the inventory: schedule, next run, paused, the run going, the last
        run and each target's last result."""
        control = _serving(scheduled_jobs)
        return await anyio.to_thread.run_sync(_listing, control)

    @get("/job-runs")
    async def list_runs(
        self,
        scheduled_jobs: NamedDependency[JobControl | None],
        job: FromQuery[str | None] = None,
        limit: FromQuery[int] = 50,
    ) -> list[dict[str, Any]]:
        """Runs, newest first: who or what started each, when it was due, began and ended,
        its state and note (missed runs and how late a run was are said here)."""
        control = _serving(scheduled_jobs)
        rows = await anyio.to_thread.run_sync(
            lambda: control.history.runs(job, max(1, min(limit, 500)))
        )
        return [r.as_dict() for r in rows]

    @get("/job-runs/{run_id:str}", guards=[require_operate])
    async def get_run(
        self, run_id: FromPath[str], scheduled_jobs: NamedDependency[JobControl | None]
    ) -> dict[str, Any]:
        """One run with each target's attempts: exit status, duration, capped output."""
        control = _serving(scheduled_jobs)

        def read() -> dict[str, Any] | None:
            row = control.history.run(run_id)
            if row is None:
                return None
            return row.as_dict() | {"results": control.history.results(run_id)}

        found = await anyio.to_thread.run_sync(read)
        if found is None:
            raise NotFound(f"no job run {run_id!r}")
        return found

    @post("/jobs/{name:str}/run", status_code=HTTP_202_ACCEPTED, guards=[require_operate])
    async def run_now(
        self,
        request: Request[Identity, Any, Any],
        name: FromPath[str],
        scheduled_jobs: NamedDependency[JobControl | None],
    ) -> dict[str, Any]:
        """Run the job now (audited as ``job:NAME`` under your name); follow it at
        ``/api/job-runs/{run_id}/stream``."""
        control = _serving(scheduled_jobs)
        try:
            run_id = control.run_now(name, request.user.name, request.user.via)
        except ConfigError as exc:
            raise NotFound(str(exc)) from None
        return {"run_id": run_id, "job": name}

    @post("/jobs/{name:str}/pause", status_code=200, guards=[require_operate])
    async def pause(
        self,
        request: Request[Identity, Any, Any],
        name: FromPath[str],
        scheduled_jobs: NamedDependency[JobControl | None],
    ) -> dict[str, Any]:
        """No scheduled runs until resumed (kept across restarts)."""
        return await _switch(request, name, _serving(scheduled_jobs), pause=True)

    @post("/jobs/{name:str}/resume", status_code=200, guards=[require_operate])
    async def resume(
        self,
        request: Request[Identity, Any, Any],
        name: FromPath[str],
        scheduled_jobs: NamedDependency[JobControl | None],
    ) -> dict[str, Any]:
        """Scheduled again from the schedule's next time (runs due meanwhile are not made
        up)."""
        return await _switch(request, name, _serving(scheduled_jobs), pause=False)

    @post("/job-runs/{run_id:str}/cancel", status_code=200, guards=[require_operate])
    async def cancel(
        self,
        request: Request[Identity, Any, Any],
        run_id: FromPath[str],
        scheduled_jobs: NamedDependency[JobControl | None],
    ) -> dict[str, Any]:
        control = _serving(scheduled_jobs)
        if not control.cancel(run_id, f"cancelled by {request.user.name}"):
            raise NotFound(f"no job run {run_id!r} going")
        await record(request, "job.cancel", None, {"run_id": run_id}, "requested")
        return {"run_id": run_id, "cancelled": True}


async def _switch(
    request: Request[Identity, Any, Any], name: str, control: JobControl, *, pause: bool
) -> dict[str, Any]:
    action = "job.pause" if pause else "job.resume"
    try:
        (control.pause if pause else control.resume)(name)
    except ConfigError as exc:
        known = {j["name"] for j in control.jobs()}
        raise (BadRequest if name in known else NotFound)(str(exc)) from None
    await record(request, action, name, None, "done")
    job = next(j for j in control.jobs() if j["name"] == name)
    return {"name": name, "paused": job["paused"], "next_run": job["next_run"]}


@websocket_stream("/api/job-runs/{run_id:str}/stream", guards=[require_operate])
async def job_run_stream(
    socket: WebSocket[Identity, Any, Any],
    run_id: FromPath[str],
    scheduled_jobs: NamedDependency[JobControl | None],
    access: NamedDependency[LiveAccess],
) -> AsyncGenerator[dict[str, Any], None]:
    """A run's output as it comes (``output``), each target's result as it ends
    (``result``), then ``done``; ``ended`` when the watcher's access ends first."""
    feed = scheduled_jobs.feed(run_id) if scheduled_jobs is not None else None
    if feed is None:
        yield {"type": "error", "error": f"no job run {run_id!r} kept in memory"}
        return
    ended, why = asyncio.Event(), []

    def stop(reason: str) -> None:
        why.append(reason)
        ended.set()

    held = access.hold(identity_of(socket), "job run stream", stop)
    try:
        async for message in _until_ended(feed.follow(), ended):
            yield message
        if why:
            yield {"type": "ended", "reason": why[0]}
    finally:
        access.release(held)
