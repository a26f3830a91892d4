"""Send grouped alert messages: one worker per channel, so a channel that refuses or hangs
delays only itself; evaluation only calls :meth:`Dispatcher.update`, which never waits.

Each channel has a token bucket (``rate_per_min``), retries a failed message with
exponential backoff (``retry_base_s`` doubling, at most ``retry_max_s``, up to
``max_attempts``), and a status (ok / failing, the last error, counts) shown by the API.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from mirror.alerts.engine import Notice
from mirror.inventory.current import CurrentInventory
from mirror.inventory.models import Inventory, SecretRef
from notify.channels import Channel, SendError, send
from notify.message import render
from notify.router import Group

log = logging.getLogger(__name__)
QUEUE_LIMIT = 1000
WEBPUSH = "webpush"  # a route's channel for every browser subscribed to Web Push


@dataclass(slots=True)
class ChannelStatus:
    state: str = "idle"  # idle, ok, failing, gave-up
    last_error: str | None = None
    last_ok: float | None = None
    last_error_at: float | None = None
    sent: int = 0
    failed_attempts: int = 0
    given_up: int = 0
    dropped: int = 0

    def as_dict(self, queued: int) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__} | {"queued": queued}


Deliver = Callable[[str, str], Awaitable[None]]


@dataclass(slots=True)
class _Worker:
    channel: Channel
    deliver: Deliver | None = None  # None: the channel's Apprise URL
    queue: deque[tuple[str, str, float]] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    status: ChannelStatus = field(default_factory=ChannelStatus)
    tokens: float = 0.0
    refilled: float = 0.0
    task: asyncio.Task[None] | None = None


class Dispatcher:
    def __init__(
        self,
        current: CurrentInventory,
        *,
        clock: Callable[[], float] = time.time,
        tick_s: float = 0.2,
        retry_base_s: float = 2.0,
        retry_max_s: float = 300.0,
        max_attempts: int = 8,
        webpush: Deliver | None = None,
    ) -> None:
        self.current = current
        self.webpush = webpush  # notify.webpush.WebPusher.push_all: the "webpush" channel
        self.clock = clock
        self.tick_s = tick_s
        self.retry_base_s = retry_base_s
        self.retry_max_s = retry_max_s
        self.max_attempts = max_attempts
        self.groups: dict[int, Group] = {}
        self.workers: dict[str, _Worker] = {}
        self._seen: Inventory | None = None
        self._last: tuple[list[Notice], list[Notice]] = ([], [])
        self.delivered: deque[tuple[float, float]] = deque(maxlen=10_000)  # (queued, sent)

    # -- the engine's side -------------------------------------------------------------
    def update(self, firing: list[Notice], resolved: list[Notice], now: float) -> None:
        """The engine's sink: the alerts to tell now. Never waits."""
        self._configure()
        routes = self.current.get().notify.routes
        for index, route in enumerate(routes):
            group = self.groups.setdefault(index, Group())
            group.update(route, firing, resolved, now)
        self._flush(now)

    # -- the sending side --------------------------------------------------------------
    async def run(self) -> None:
        """Flush due groups (a group wait ends between evaluations) until cancelled."""
        try:
            while True:
                await asyncio.sleep(self.tick_s)
                self._configure()
                self._flush(self.clock())
        finally:
            await self.stop()

    async def stop(self) -> None:
        tasks = [w.task for w in self.workers.values() if w.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def test(self, name: str) -> None:
        """Send a test message through channel ``name`` now (``SendError`` if it fails)."""
        self._configure()
        worker = self.workers.get(name)
        if worker is None:
            raise SendError(f"no channel {name!r} in the inventory's notify.channels")
        title = "MIRROR STAGE: test message"
        await self._send(worker, title, f"channel {name} works ({time.strftime('%H:%M:%S')})")
        worker.status.state, worker.status.last_ok = "ok", self.clock()
        worker.status.sent += 1

    def announce(self, title: str, body: str) -> None:
        """A message that is not an alert (a scheduled job that failed, issue 18) to every
        channel, through each channel's queue, rate limit and retries. Never waits."""
        self._configure()
        now = self.clock()
        for worker in self.workers.values():
            self._enqueue(worker, title, body, now)

    def status(self) -> dict[str, dict[str, Any]]:
        self._configure()
        return {n: w.status.as_dict(len(w.queue)) for n, w in sorted(self.workers.items())}

    def _configure(self) -> None:
        inventory = self.current.get()
        if inventory is self._seen:
            return
        self._seen = inventory
        base = getattr(inventory, "_base_dir", None)
        wanted = {
            name: Channel.from_entry(name, entry, base)
            for name, entry in inventory.notify.channels.items()
        }
        for name in list(self.workers):
            if name not in wanted:
                dropped = self.workers.pop(name)
                if dropped.task is not None:
                    dropped.task.cancel()
        if self.webpush is not None:
            wanted[WEBPUSH] = Channel(WEBPUSH, SecretRef(None, None), 600, 10.0)
        for name, channel in wanted.items():
            worker = self.workers.get(name)
            if worker is None:
                deliver = self.webpush if name == WEBPUSH else None
                worker = self.workers[name] = _Worker(channel, deliver)
                worker.tokens = float(channel.rate_per_min)
                worker.refilled = self.clock()
            worker.channel = channel
        if len(self.groups) > len(inventory.notify.routes):
            self.groups = {i: g for i, g in self.groups.items() if i < len(inventory.notify.routes)}

    def _flush(self, now: float) -> None:
        notify = self.current.get().notify
        for index, group in self.groups.items():
            taken = group.take(now)
            if taken is None:
                continue
            title, body = render(*taken, notify.link_base)
            for name in notify.routes[index].channels:
                worker = self.workers.get(name)
                if worker is not None:
                    self._enqueue(worker, title, body, now)

    def _enqueue(self, worker: _Worker, title: str, body: str, now: float) -> None:
        if len(worker.queue) >= QUEUE_LIMIT:
            worker.queue.popleft()
            worker.status.dropped += 1
        worker.queue.append((title, body, now))
        if worker.task is None or worker.task.done():
            worker.task = asyncio.get_running_loop().create_task(
                self._drain(worker), name=f"notify-{worker.channel.name}"
            )

    async def _drain(self, worker: _Worker) -> None:
        while worker.queue:
            await self._take_token(worker)
            title, body, queued = worker.queue[0]
            attempt = 0
            while True:
                try:
                    await self._send(worker, title, body)
                except SendError as e:
                    attempt += 1
                    self._failed(worker, str(e), attempt)
                    if attempt >= self.max_attempts:
                        worker.status.state = "gave-up"
                        worker.status.given_up += 1
                        break
                    await asyncio.sleep(
                        min(self.retry_base_s * 2 ** (attempt - 1), self.retry_max_s)
                    )
                    continue
                worker.status.state, worker.status.last_ok = "ok", self.clock()
                worker.status.sent += 1
                self.delivered.append((queued, self.clock()))
                break
            if worker.queue and worker.queue[0][2] == queued:
                worker.queue.popleft()

    async def _send(self, worker: _Worker, title: str, body: str) -> None:
        if worker.deliver is not None:
            await worker.deliver(title, body)
        else:
            await send(worker.channel, title, body)

    def _failed(self, worker: _Worker, error: str, attempt: int) -> None:
        status = worker.status
        if status.state != "failing":
            log.warning("%s (attempt %d; retrying with backoff)", error, attempt)
        status.state, status.last_error, status.last_error_at = "failing", error, self.clock()
        status.failed_attempts += 1

    async def _take_token(self, worker: _Worker) -> None:
        rate_per_s = worker.channel.rate_per_min / 60
        while True:
            now = self.clock()
            worker.tokens = min(
                float(worker.channel.rate_per_min),
                worker.tokens + (now - worker.refilled) * rate_per_s,
            )
            worker.refilled = now
            if worker.tokens >= 1:
                worker.tokens -= 1
                return
            await asyncio.sleep((1 - worker.tokens) / rate_per_s)
