"""Typed live events (mirror.events): the writer publishes them, /api/live sends them as JSON
that decodes back to the same structs, OpenAPI documents them, and a state change reaches a
subscriber even while the database refuses writes."""

from __future__ import annotations

import asyncio
import json

import httpx
import msgspec
import pytest
from websockets.asyncio.client import connect as ws_connect

from mirror import events
from mirror.errors import StorageError, Unreachable
from mirror.events import HostPoll, PingPoll, StateChange
from mirror.live import LiveHub
from mirror.model import HostState, PollStatus, Snapshot
from poller.health import PollResult, TargetHealth
from poller.writer import BatchWriter
from tests import test_api
from tests.test_api import _until

# tests/test_api.py's fixtures: a real uvicorn over a real SQLite store.
store, inventory, hub, server = test_api.store, test_api.inventory, test_api.hub, test_api.server
auth_headers, client = test_api.auth_headers, test_api.client


def _result(host: str, state: HostState, change: StateChange | None = None) -> PollResult:
    snap = Snapshot(host, 100.0, {"cpu.busy_pct": 5.0}) if state is HostState.UP else None
    error = None if state is HostState.UP else "connection refused"
    return PollResult(snap, PollStatus(host, state, 100.0, error, 2.0), change)


def test_a_poll_event_round_trips_through_json() -> None:
    status = PollStatus("alpha", HostState.UP, 100.0, None, 3.5)
    event = events.poll_event(status, Snapshot("alpha", 100.0, {"load.1": 0.5}, {"os": "데비안"}))
    assert isinstance(event, HostPoll)
    data = json.loads(events.encode(event))
    assert data["type"] == "host" and data["metrics"] == {"load.1": 0.5}
    assert data["info"] == {"os": "데비안"} and data["stored"] is None
    assert events.decode(events.encode(event)) == event
    ping = events.poll_event(PollStatus("ping/127.0.0.9", HostState.UNREACHABLE, 1.0), None)
    assert isinstance(ping, PingPoll) and json.loads(events.encode(ping))["type"] == "ping"


def test_a_state_change_says_from_and_to() -> None:
    change = StateChange(
        target="alpha", kind="host", from_="up", to="timeout", reason="slow", since=5.0
    )
    data = json.loads(events.encode(change))
    assert data == {
        "type": "state",
        "target": "alpha",
        "kind": "host",
        "from": "up",
        "to": "timeout",
        "reason": "slow",
        "since": 5.0,
    }
    assert events.decode(json.dumps(data)) == change
    with pytest.raises(msgspec.ValidationError):
        events.decode('{"type": "nonsense", "host": "x"}')


class _Refusing:
    def write(self, snapshots: list[Snapshot], statuses: list[PollStatus]) -> None:
        raise StorageError("database is down")


async def test_a_state_change_is_published_even_while_storage_refuses() -> None:
    live = LiveHub()
    got: list[object] = []

    async def listen() -> None:
        async for event in live.subscribe():
            got.append(event)

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0)
    health = TargetHealth("alpha", "host", 5.0, clock=lambda: 0.0, wall=lambda: 42.0)
    writer = BatchWriter(_Refusing(), live)
    health.succeeded()
    writer.submit(_result("alpha", HostState.UP))
    change = health.failed(Unreachable("connection refused"))
    writer.submit(_result("alpha", HostState.UNREACHABLE, change))
    await writer.flush()  # refused: the polls stay buffered, unpublished
    await asyncio.sleep(0)
    listener.cancel()
    assert got == [
        StateChange(
            target="alpha",
            kind="host",
            from_="up",
            to="unreachable",
            reason="connection refused",
            since=42.0,
        )
    ]
    assert writer.buffered == 2


async def test_live_sends_typed_events_and_openapi_documents_them(
    server: str, hub: LiveHub, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    poll = events.poll_event(
        PollStatus("alpha", HostState.UP, 100.0, None, 1.0), Snapshot("alpha", 100.0, {"x": 1.0})
    )
    change = StateChange(
        target="beta", kind="host", from_="up", to="unreachable", reason="gone", since=9.0
    )
    async with ws_connect(f"ws://{server}/api/live", additional_headers=auth_headers) as ws:
        await _until(lambda: hub.subscriber_count == 1)
        hub.publish(poll)
        hub.publish(change)
        first = events.decode(await asyncio.wait_for(ws.recv(), 5))
        second = events.decode(await asyncio.wait_for(ws.recv(), 5))
    assert (first, second) == (poll, change)

    schema = (await client.get("/schema/openapi.json")).json()
    components = schema["components"]["schemas"]
    assert {"HostPoll", "PingPoll", "StateChange", "LiveEvent"} <= set(components)
    assert components["LiveEvent"]["discriminator"]["propertyName"] == "type"
    assert set(components["StateChange"]["properties"]) >= {"from", "to", "reason", "since"}
    assert "get" in schema["paths"]["/api/live/schema"]
    answer = await client.get("/api/live/schema")
    assert answer.status_code == 200
    assert answer.json() == events.schema()
