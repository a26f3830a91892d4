"""What the API is handed to show and drive scheduled jobs (``poller.job_scheduler.
JobScheduler`` in ``mirror serve``); the API never imports the poller."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from mirror.jobs.feed import RunFeed
from mirror.jobs.history import JobHistory


@runtime_checkable  # Litestar checks dependency values against their declared types
class JobControl(Protocol):
    history: JobHistory

    def jobs(self) -> list[dict[str, Any]]: ...

    def run_now(self, name: str, who: str, via: str) -> str: ...

    def pause(self, name: str) -> None: ...

    def resume(self, name: str) -> None: ...

    def cancel(self, run_id: str, reason: str) -> bool: ...

    def feed(self, run_id: str) -> RunFeed | None: ...
