"""A running job's output for whoever watches it (the Jobs page): what was kept so far,
then the rest live, then one ``done`` message. Bounded: a run keeps at most
``KEEP_CHARS`` of output for late joiners and a watcher's queue drops its oldest message
rather than grow."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

KEEP_CHARS = 1_000_000
QUEUE = 10_000


@dataclass
class RunFeed:
    run_id: str
    job: str
    events: list[dict[str, Any]] = field(default_factory=list)
    kept_chars: int = 0
    dropped: int = 0
    done: dict[str, Any] | None = None
    _queues: set[asyncio.Queue[dict[str, Any] | None]] = field(default_factory=set)

    def publish(self, message: dict[str, Any]) -> None:
        text = message.get("text", "")
        if self.kept_chars < KEEP_CHARS:
            self.events.append(message)
            self.kept_chars += len(text)
        else:
            self.dropped += 1
        for queue in self._queues:
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(message)

    def finish(self, summary: dict[str, Any]) -> None:
        self.done = {"type": "done", **summary}
        for queue in self._queues:
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(self.done)
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)

    async def follow(self) -> AsyncIterator[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE)
        backlog, done = list(self.events), self.done
        if done is None:
            self._queues.add(queue)
        try:
            for message in backlog:
                yield message
            if done is not None:
                yield done
                return
            while (message := await queue.get()) is not None:
                yield message
                if message.get("type") == "done":
                    return
        finally:
            self._queues.discard(queue)
