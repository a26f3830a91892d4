"""The one place the alert engine reads the live hub: events in, fleet view updated.

Today the hub carries the poll events of ``poller.writer.live_event`` (dicts with
``type`` host/ping, ``host``, ``state``, ``metrics``). The typed ``StateChange`` events of
mirror/events.py (branch ``house``) are taken by their attributes (``target``, ``to``,
``since``, ``reason``), so switching to them at merge touches only this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mirror.alerts.view import FleetView
from mirror.live import LiveHub
from mirror.model import ping_address


def apply_event(view: FleetView, event: Any) -> None:
    if isinstance(event, dict):
        kind = event.get("type")
        if kind == "host":
            metrics = event.get("metrics") or {}
            view.observe_poll(
                event["host"], float(event["ts"]), str(event["state"]), metrics, event.get("error")
            )
        elif kind == "ping":
            address = ping_address(str(event.get("host", "")))
            up = (event.get("metrics") or {}).get("ping.up")
            if address is not None and up is not None:
                view.observe_ping(address, up >= 1)
        return
    target, to = getattr(event, "target", None), getattr(event, "to", None)
    if isinstance(target, str) and to is not None:  # a typed StateChange (mirror/events.py)
        since = float(getattr(event, "since", 0.0) or 0.0)
        view.observe_state(target, str(to), since, getattr(event, "reason", None))


def apply_events(view: FleetView, events: Iterable[Any]) -> None:
    for event in events:
        apply_event(view, event)


async def follow(hub: LiveHub, view: FleetView) -> None:
    """Feed ``view`` from ``hub`` until cancelled."""
    async for batch in hub.subscribe_batches():
        apply_events(view, batch)
