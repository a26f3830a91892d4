"""One alert's life, as a pure function: pending → firing → resolved.

``for_s``: how long a breach must last before the alert fires (a pending alert whose
breach ends is dropped without a word). ``keep_firing_s``: how long a firing alert stays
firing after its condition stops holding, so a value dancing around the limit (with the
hysteresis of ``recover:``) is one alert, not a stream of fire/resolve messages.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Status = Literal["pending", "firing", "resolved"]


@dataclass(frozen=True, slots=True)
class AlertState:
    status: Status
    since: float  # when the breach began
    value: float | None
    last_true: float  # the last evaluation at which the condition held
    fired_at: float | None = None
    resolved_at: float | None = None


def advance(
    prev: AlertState | None,
    breach: bool,
    hold: bool,
    value: float | None,
    now: float,
    for_s: float,
    keep_firing_s: float,
) -> AlertState | None:
    """The alert's next state (None: no alert). ``breach``/``hold``: the condition now."""
    active = prev is not None and prev.status != "resolved"
    holds = hold if active else breach
    if holds:
        if not active:
            prev = AlertState("pending", now, value, now)
        assert prev is not None
        if prev.status == "pending" and now - prev.since >= for_s:
            return replace(prev, status="firing", value=value, last_true=now, fired_at=now)
        return replace(prev, value=value, last_true=now)
    if prev is None or prev.status == "resolved" or prev.status == "pending":
        return None
    if now - prev.last_true < keep_firing_s:
        return prev
    return replace(prev, status="resolved", resolved_at=now)
