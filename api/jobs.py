"""Command runs started through the API: kept in memory while they run and a while after.

Each run streams its output to any number of WebSocket subscribers; one that joins late
gets what was kept so far first (up to ``KEEP_EVENT_CHARS`` per run), then the rest live.
The results (capped output, exit status, duration) and the audit entries go to the
database when the run ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator
from dataclasses import asdict, dataclass, field
from typing import Any

import anyio

from mirror.audit import AuditLog
from mirror.control.model import (
    CancelToken,
    CommandRequest,
    CommandRunner,
    HostResult,
    OutputEvent,
)
from mirror.control.targets import summary

log = logging.getLogger(__name__)

KEEP_JOBS = 100
KEEP_EVENT_CHARS = 2_000_000
SUBSCRIBER_QUEUE = 10_000


@dataclass
class Job:
    id: str
    request: CommandRequest
    actor: str
    via: str
    action: str
    started: float
    cancel: CancelToken = field(default_factory=CancelToken)
    events: list[dict[str, Any]] = field(default_factory=list)
    kept_chars: int = 0
    dropped_events: int = 0
    results: list[HostResult] | None = None
    subscribers: set[asyncio.Queue[dict[str, Any] | None]] = field(default_factory=set)
    task: asyncio.Task[None] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "command": self.request.command,
            "hosts": list(self.request.hosts),
            "actor": self.actor,
            "action": self.action,
            "started": self.started,
            "done": self.results is not None,
            "cancelled": self.cancel.cancelled,
            "results": [_result(r) for r in self.results] if self.results is not None else None,
        }


def _result(result: HostResult) -> dict[str, Any]:
    data = asdict(result)
    data["state"] = str(result.state)
    return data


class JobBoard:
    def __init__(self, runner: CommandRunner, audit: AuditLog) -> None:
        self._runner = runner
        self._audit = audit
        self._jobs: OrderedDict[str, Job] = OrderedDict()

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    async def start(
        self,
        request: CommandRequest,
        actor: str,
        via: str,
        action: str,
        detail: dict[str, Any],
    ) -> Job:
        job = Job(secrets.token_hex(8), request, actor, via, action, time.time())
        # Recorded before anything runs: no audit entry, no command.
        await anyio.to_thread.run_sync(
            self._audit.record,
            actor,
            via,
            action,
            ",".join(request.hosts),
            {**detail, "run_id": job.id, "sudo": request.sudo, "timeout_s": request.timeout_s},
            "started",
        )
        self._jobs[job.id] = job
        while len(self._jobs) > KEEP_JOBS:
            old_id, old = next(iter(self._jobs.items()))
            if old.results is None:
                break  # never forget a run still going
            del self._jobs[old_id]
        job.task = asyncio.create_task(self._run(job), name=f"job:{job.id}")
        return job

    async def _run(self, job: Job) -> None:
        def on_output(event: OutputEvent) -> None:
            message: dict[str, Any] = {"type": "output", "host": event.host, "stream": event.stream}
            message |= {"text": event.text, "ts": event.ts}
            if job.kept_chars < KEEP_EVENT_CHARS:
                job.events.append(message)
                job.kept_chars += len(event.text)
            else:
                job.dropped_events += 1
            self._publish(job, message)

        try:
            job.results = await self._runner.run(job.request, on_output, job.cancel)
        except Exception as exc:  # the runner never raises; if it did, say so per host
            log.exception("job %s failed", job.id)
            from mirror.control.model import ResultState

            job.results = [
                HostResult(h, ResultState.ERROR, error=f"{type(exc).__name__}: {exc}")
                for h in job.request.hosts
            ]
        self._publish(job, {"type": "done", **job.as_dict()})
        for queue in job.subscribers:
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)
        try:
            await anyio.to_thread.run_sync(
                self._audit.save_results, job.id, job.actor, job.request.command, job.results
            )
            await anyio.to_thread.run_sync(
                self._audit.record,
                job.actor,
                job.via,
                f"{job.action}.done",
                ",".join(job.request.hosts),
                {"run_id": job.id},
                summary(str(r.state) for r in job.results),
            )
        except Exception:
            log.exception("job %s: results not stored", job.id)

    @staticmethod
    def _publish(job: Job, message: dict[str, Any]) -> None:
        for queue in job.subscribers:
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(message)

    async def stream(self, job: Job) -> AsyncGenerator[dict[str, Any], None]:
        """What was kept, then live output, then one ``done`` message."""
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(SUBSCRIBER_QUEUE)
        backlog = list(job.events)
        finished = job.results is not None
        if not finished:
            job.subscribers.add(queue)
        try:
            for message in backlog:
                yield message
            if finished:
                yield {"type": "done", **job.as_dict()}
                return
            while True:
                following = await queue.get()
                if following is None:
                    return
                yield following
        finally:
            job.subscribers.discard(queue)

    async def close(self) -> None:
        for job in self._jobs.values():
            if job.task is not None and not job.task.done():
                job.cancel.cancel("EGO is stopping")
        tasks = [j.task for j in self._jobs.values() if j.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=10)
