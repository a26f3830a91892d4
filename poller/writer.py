"""Batch poll results into the store, then publish them on the live stream.

Writes run in a worker thread (the store is synchronous SQLAlchemy) so a slow disk
or database never delays a poll. When the database refuses a batch, results stay
buffered (up to a bound, oldest dropped first) and are retried on the next flush.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any, Protocol

from mirror.errors import StorageError
from mirror.live import LiveHub
from mirror.model import PollStatus, Snapshot
from poller.host import PollResult

log = logging.getLogger(__name__)


class Sink(Protocol):
    def write(self, snapshots: list[Snapshot], statuses: list[PollStatus]) -> None: ...


def live_event(result: PollResult) -> dict[str, Any]:
    status, snap = result.status, result.snapshot
    return {
        "type": "host",
        "host": status.host,
        "state": str(status.state),
        "error": status.error,
        "ts": status.ts,
        "duration_ms": status.duration_ms,
        "metrics": snap.metrics if snap else {},
        "info": snap.info if snap and snap.info else None,
    }


class BatchWriter:
    def __init__(
        self,
        store: Sink,
        hub: LiveHub | None = None,
        *,
        flush_interval_s: float = 0.25,
        max_buffered: int = 100_000,
    ) -> None:
        self._store = store
        self._hub = hub
        self._flush_interval_s = flush_interval_s
        self._pending: deque[PollResult] = deque(maxlen=max_buffered)
        self._failing = False
        self.written = 0
        self.dropped = 0

    @property
    def buffered(self) -> int:
        return len(self._pending)

    def submit(self, result: PollResult) -> None:
        if len(self._pending) == self._pending.maxlen:
            self.dropped += 1
        self._pending.append(result)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._flush_interval_s)
            await self.flush()

    async def flush(self) -> None:
        if not self._pending:
            return
        batch = list(self._pending)
        snapshots = [r.snapshot for r in batch if r.snapshot is not None]
        statuses = [r.status for r in batch]
        try:
            await asyncio.to_thread(self._store.write, snapshots, statuses)
        except StorageError as exc:
            if not self._failing:
                log.error("storage refused a batch, keeping results in memory: %s", exc)
                self._failing = True
            return
        if self._failing:
            log.info("storage is writable again; %d buffered results written", len(batch))
            self._failing = False
        for _ in batch:
            self._pending.popleft()
        self.written += len(batch)
        if self._hub is not None:
            for result in batch:
                self._hub.publish(live_event(result))
