"""WS /api/live?batch=true: a burst of events is one message (a JSON array), in order."""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.client import connect as ws_connect

from mirror.live import LiveHub
from tests.test_api import (  # noqa: F401 - fixtures
    _until,
    auth_headers,
    hub,
    inventory,
    server,
    store,
)


def _event(host: str, busy: float) -> dict:
    return {"type": "host", "host": host, "state": "up", "metrics": {"cpu.busy_pct": busy}}


async def test_hub_batches_what_is_queued() -> None:
    live = LiveHub()
    stream = live.subscribe_batches()
    first = asyncio.ensure_future(anext(stream))
    await _until(lambda: live.subscriber_count == 1)
    live.publish(_event("a", 1.0))
    assert await first == [_event("a", 1.0)]
    for i in range(3):  # published while nobody reads: one batch
        live.publish(_event("b", float(i)))
    assert await anext(stream) == [_event("b", 0.0), _event("b", 1.0), _event("b", 2.0)]
    await stream.aclose()
    assert live.subscriber_count == 0


async def test_websocket_sends_a_burst_as_one_message(
    server: str,  # noqa: F811
    hub: LiveHub,  # noqa: F811
    auth_headers: dict[str, str],  # noqa: F811
) -> None:
    url = f"ws://{server}/api/live?batch=true"
    async with ws_connect(url, additional_headers=auth_headers) as ws:
        await _until(lambda: hub.subscriber_count == 1)
        burst = [_event(f"ping/127.77.0.{i}", float(i)) for i in range(1, 255)]
        for event in burst:  # as the writer publishes one flush: no await in between
            hub.publish(event)
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert message == burst
        hub.publish(_event("alpha", 42.0))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == [_event("alpha", 42.0)]
    await _until(lambda: hub.subscriber_count == 0)
