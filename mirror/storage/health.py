"""What storage reports about itself beyond "reachable": the writer's backlog and the jobs.

The poller's writer and the periodic jobs update one :class:`StorageHealth` (it lives on the
store), and the API reads it for ``/api/health`` — so the API learns about buffering without
importing the poller.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class JobStatus:
    last_run_ts: float | None = None  # unix seconds of the last successful run
    last_error: str | None = None  # the last failure's one-line reason; None once it succeeds
    runs: int = 0


@dataclass
class StorageHealth:
    buffered: int = 0  # poll results held in memory because the database refused them
    buffer_limit: int = 0
    dropped: int = 0  # results lost because the buffer was full (oldest first)
    failing_since: float | None = None  # unix seconds of the first refused batch
    last_error: str | None = None
    jobs: dict[str, JobStatus] = field(default_factory=dict)
    # TimescaleDB's background jobs as last seen (``timescale_jobs.JobsReport.as_dict``),
    # None where the database has none.
    database_jobs: dict[str, Any] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def job(self, name: str) -> JobStatus:
        with self._lock:
            return self.jobs.setdefault(name, JobStatus())

    def problems(self) -> list[str]:
        """Why storage is degraded (empty: it is not), one line each."""
        out = []
        if self.failing_since is not None:
            out.append(f"storage is not writable: {self.last_error}")
        with self._lock:
            failing = [
                f"job {n}: {j.last_error}" for n, j in sorted(self.jobs.items()) if j.last_error
            ]
        out += failing
        if self.database_jobs:
            out += self.database_jobs.get("problems", [])
        return out

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            jobs = {
                name: {"last_run_ts": j.last_run_ts, "last_error": j.last_error, "runs": j.runs}
                for name, j in sorted(self.jobs.items())
            }
        return {
            "writable": self.failing_since is None,
            "buffered": self.buffered,
            "buffer_limit": self.buffer_limit,
            "dropped": self.dropped,
            "failing_since": self.failing_since,
            "last_error": self.last_error,
            "jobs": jobs,
            "database_jobs": self.database_jobs,
        }
