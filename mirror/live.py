"""The live stream: the poller publishes each stored snapshot, the API fans it out.

Events are the typed structs of ``mirror.events`` (a poll, a state change); a few
publishers (Wake-on-LAN results) still send plain dicts, which pass through as they are.

In-process pub/sub with a bounded queue per subscriber. A slow subscriber (a browser
on a bad link) loses its oldest events, never slows the poller or other subscribers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

from mirror.events import LiveEvent

Event = LiveEvent | dict[str, Any]


class LiveHub:
    def __init__(self, queue_size: int = 1024) -> None:
        self._queue_size = queue_size
        self._subscribers: set[asyncio.Queue[Event]] = set()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, event: Event) -> None:
        """Call from the event loop thread."""
        for queue in self._subscribers:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)

    async def subscribe(self) -> AsyncIterator[Event]:
        with self._queue() as queue:
            while True:
                yield await queue.get()

    async def subscribe_batches(self) -> AsyncIterator[list[Event]]:
        """As :meth:`subscribe`, but each item is every event queued by then (at least one).

        A writer flush publishes a burst (the ICMP loop's 254 results at once): sent one by
        one, the host events behind it waited ~100 ms for 254 WebSocket frames (bench/ui.py).
        """
        with self._queue() as queue:
            while True:
                batch = [await queue.get()]
                while not queue.empty():
                    batch.append(queue.get_nowait())
                yield batch

    @contextmanager
    def _queue(self) -> Iterator[asyncio.Queue[Event]]:
        """A subscriber's queue, in the hub until the subscription ends."""
        queue: asyncio.Queue[Event] = asyncio.Queue(self._queue_size)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)
