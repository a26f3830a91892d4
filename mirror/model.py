"""Types shared by the poller, storage and the API.

Series names
------------
A series is a ``metric`` optionally followed by an ``[instance]``:
``cpu.busy_pct``, ``cpu.busy_pct[3]``, ``net.rx_bytes_per_s[eth0]``,
``fs.used_pct[/home]``, ``temp.celsius[coretemp/Package id 0]``, ``gpu.util_pct[0]``.
ICMP series (stored under ``ping_key(address)``): ``ping.up`` (1/0), ``ping.rtt_min_ms``,
``ping.rtt_avg_ms``, ``ping.rtt_max_ms``, ``ping.jitter_ms``, ``ping.loss_pct``.
The instance is everything between the first ``[`` and the final ``]``, so mount
points and sensor labels need no escaping. Units are in the metric name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class HostState(StrEnum):
    PENDING = "pending"
    UP = "up"
    UNREACHABLE = "unreachable"
    AUTH_FAILED = "auth-failed"
    HOSTKEY_CHANGED = "hostkey-changed"
    HOSTKEY_UNKNOWN = "hostkey-unknown"
    TIMEOUT = "timeout"
    ERROR = "error"


# ICMP results of an address are stored as their own "host" named ``ping/ADDRESS``: they come
# on their own clock, and a host whose SSH is down still answers (or not) to ping. "/" is
# never in an inventory name, so such a key cannot collide with a host.
PING_PREFIX = "ping/"


def ping_key(address: str) -> str:
    return PING_PREFIX + address


def ping_address(key: str) -> str | None:
    """The address of a ``ping/ADDRESS`` storage key; None for any other host name."""
    return key[len(PING_PREFIX) :] if key.startswith(PING_PREFIX) else None


def series_name(metric: str, instance: str | int | None = None) -> str:
    return metric if instance is None else f"{metric}[{instance}]"


def split_series(name: str) -> tuple[str, str | None]:
    """``"fs.used_pct[/a[b]]"`` → ``("fs.used_pct", "/a[b]")``."""
    start = name.find("[")
    if start == -1 or not name.endswith("]"):
        return name, None
    return name[:start], name[start + 1 : -1]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One poll of one host: numeric series plus identity/tables that are not series."""

    host: str
    ts: float  # unix seconds, EGO's clock when the sample arrived
    metrics: dict[str, float]
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PollStatus:
    """Where a host stands after its latest poll (stored, shown, never only logged)."""

    host: str
    state: HostState
    ts: float
    error: str | None = None
    duration_ms: float | None = None
