"""Batch poll results into the store, then publish them on the live stream.

Each stored result is published as its typed event (``mirror.events``: ``HostPoll`` or
``PingPoll``); a result that changed its target's state also carries a ``StateChange``,
published when it is submitted, before the store has it (a database that is down must not
hold back the news that a host went down).

Writes run in a worker thread (the store is synchronous SQLAlchemy) so a slow disk
or database never delays a poll. When the database refuses a batch, results stay
buffered (up to a bound, oldest dropped first) and are retried on the next flush;
the backlog is reported in the store's ``StorageHealth`` (``/api/health``); while it lasts the
flushes back off (0.25 s doubling up to ``RETRY_MAX_S``). A backlog is
written back in slices of ``max_batch`` so a long outage does not become one huge transaction.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Protocol

from mirror.errors import StorageError
from mirror.events import poll_event
from mirror.live import LiveHub
from mirror.model import PollStatus, Snapshot
from mirror.storage.health import StorageHealth
from poller.health import PollResult

log = logging.getLogger(__name__)

RETRY_MAX_S = 10.0  # the longest wait between two tries while storage refuses writes


class Sink(Protocol):
    def write(self, snapshots: list[Snapshot], statuses: list[PollStatus]) -> None: ...


class BatchWriter:
    def __init__(
        self,
        store: Sink,
        hub: LiveHub | None = None,
        *,
        flush_interval_s: float = 0.25,
        max_buffered: int = 100_000,
        max_batch: int = 5_000,
        health: StorageHealth | None = None,
    ) -> None:
        self._store = store
        self._hub = hub
        self._flush_interval_s = flush_interval_s
        self._pending: deque[PollResult] = deque(maxlen=max_buffered)
        self._failing = False
        self._max_batch = max_batch
        self._health = health
        if health is not None:
            health.buffer_limit = max_buffered
        self.written = 0
        self.dropped = 0

    @property
    def buffered(self) -> int:
        return len(self._pending)

    def submit(self, result: PollResult) -> None:
        if result.change is not None and self._hub is not None:
            # Now, not after the store commits: a database that is down must not hold back
            # the news that a host went down (alerts subscribe to these).
            self._hub.publish(result.change)
        if len(self._pending) == self._pending.maxlen:
            self.dropped += 1
        self._pending.append(result)
        if self._health is not None:
            self._health.buffered = len(self._pending)
            self._health.dropped = self.dropped

    async def run(self) -> None:
        delay = self._flush_interval_s
        while True:
            await asyncio.sleep(delay)
            await self.flush()
            # While the database refuses batches, retry less and less often (up to
            # RETRY_MAX_S): each try costs it a transaction, and the buffer holds the results.
            delay = (
                min(delay * 2, max(RETRY_MAX_S, self._flush_interval_s))
                if self._failing
                else self._flush_interval_s
            )

    async def flush(self) -> None:
        while self._pending:
            if not await self._flush_slice():
                return

    async def _flush_slice(self) -> bool:
        batch = [self._pending[i] for i in range(min(len(self._pending), self._max_batch))]
        snapshots = [r.snapshot for r in batch if r.snapshot is not None]
        statuses = [r.status for r in batch]
        dropped_before = self.dropped
        try:
            stored = await asyncio.to_thread(self._write, snapshots, statuses)
        except StorageError as exc:
            if not self._failing:
                log.error("storage refused a batch, keeping results in memory: %s", exc)
                self._failing = True
                if self._health is not None:
                    self._health.failing_since = time.time()
            if self._health is not None:
                self._health.last_error = str(exc)
            return False
        if self._failing:
            log.info("storage is writable again; writing %d buffered results", len(self._pending))
            self._failing = False
        # Results the full buffer pushed out meanwhile were this batch's oldest (already written).
        for _ in range(max(0, len(batch) - (self.dropped - dropped_before))):
            self._pending.popleft()
        self.written += len(batch)
        if self._health is not None:
            self._health.buffered = len(self._pending)
            self._health.failing_since = None
            self._health.last_error = None
        if self._hub is not None:
            for result in batch:
                # ``stored``: the commit time, for the UI's store-to-paint figure (bench/ui.py).
                self._hub.publish(poll_event(result.status, result.snapshot, stored))
        return True

    def _write(self, snapshots: list[Snapshot], statuses: list[PollStatus]) -> float:
        """Write in the worker thread; the commit time, before the hop back to the loop."""
        self._store.write(snapshots, statuses)
        return time.time()
