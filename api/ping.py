"""The ICMP state of an address as the API shows it, and what it says about a host.

Its own module so that ``api.schemas`` (the ``ping`` field of a host) and ``api.services``
can use it without importing the network controllers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import msgspec

from mirror.model import HostState, ping_address

if TYPE_CHECKING:
    from mirror.storage import HostRow

Reachability = Literal["up", "ping-only", "down", "unknown"]
_SSH_DOWN = {
    HostState.UNREACHABLE,
    HostState.TIMEOUT,
    HostState.AUTH_FAILED,
    HostState.HOSTKEY_CHANGED,
    HostState.HOSTKEY_UNKNOWN,
    HostState.ERROR,
}


class Ping(msgspec.Struct, kw_only=True):
    """The latest ICMP result of one address."""

    address: str
    up: bool
    ts: float | None  # unix seconds of the latest ping
    rtt_avg_ms: float | None
    rtt_min_ms: float | None
    rtt_max_ms: float | None
    jitter_ms: float | None
    loss_pct: float | None
    first_seen: float | None  # unix seconds of the first echo reply ever
    last_seen: float | None  # unix seconds of the latest echo reply
    mac: str | None
    name: str | None  # reverse DNS
    error: str | None


def ping_of(row: HostRow | None) -> Ping | None:
    """A stored ``ping/ADDRESS`` row as the API shows it (pure)."""
    if row is None:
        return None
    address = ping_address(row.name)
    if address is None:
        return None
    metrics, info = row.metrics or {}, row.info or {}
    return Ping(
        address=address,
        up=row.state == HostState.UP,
        ts=row.ts,
        rtt_avg_ms=metrics.get("ping.rtt_avg_ms"),
        rtt_min_ms=metrics.get("ping.rtt_min_ms"),
        rtt_max_ms=metrics.get("ping.rtt_max_ms"),
        jitter_ms=metrics.get("ping.jitter_ms"),
        loss_pct=metrics.get("ping.loss_pct"),
        first_seen=info.get("first_seen"),
        last_seen=info.get("last_seen"),
        mac=info.get("mac"),
        name=info.get("name"),
        error=row.error,
    )


def reachability(ssh_state: HostState, ping: Ping | None) -> Reachability:
    """SSH answers: up. SSH fails but ping answers: ping-only. Both fail: down (pure)."""
    if ssh_state == HostState.UP:
        return "up"
    if ping is None or ping.ts is None:
        return "unknown"
    if ping.up:
        return "ping-only"
    return "down" if ssh_state in _SSH_DOWN or ssh_state == HostState.PENDING else "unknown"
