"""The one place the alert engine reads the live hub: events in, fleet view updated.

The hub carries the typed events of mirror/events.py: ``HostPoll`` (metrics and state of a
host or device), ``PingPoll`` (an address answered or not) and ``StateChange``. Anything
else on the hub (Wake-on-LAN results, plain dicts) is not the engine's business.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mirror.alerts.view import FleetView
from mirror.events import HostPoll, PingPoll, StateChange
from mirror.live import LiveHub
from mirror.model import ping_address


def apply_event(view: FleetView, event: Any) -> None:
    if isinstance(event, HostPoll):
        view.observe_poll(event.host, event.ts, event.state, event.metrics, event.error)
    elif isinstance(event, PingPoll):
        address = ping_address(event.host)
        up = event.metrics.get("ping.up")
        if address is not None and up is not None:
            view.observe_ping(address, up >= 1)
    elif isinstance(event, StateChange):
        view.observe_state(event.target, event.to, event.since, event.reason)


def apply_events(view: FleetView, events: Iterable[Any]) -> None:
    for event in events:
        apply_event(view, event)


async def follow(hub: LiveHub, view: FleetView) -> None:
    """Feed ``view`` from ``hub`` until cancelled."""
    async for batch in hub.subscribe_batches():
        apply_events(view, batch)
