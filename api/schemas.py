"""What the API answers with: read schemas, kept apart from storage rows and inventory models.

Nothing here carries SSH settings: a host's credentials (even by reference) never leave EGO.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec


class Health(msgspec.Struct, kw_only=True):
    status: Literal["ok"]
    version: str
    hosts: int
    database: str  # SQLAlchemy dialect name: "sqlite" or "postgresql"
    live_subscribers: int


class Host(msgspec.Struct, kw_only=True):
    name: str
    address: str | None  # None for a host known only from stored data
    groups: list[str]
    tags: list[str]
    mac: str | None
    local: bool  # read on the EGO machine itself, without SSH
    in_inventory: bool
    state: str  # mirror.model.HostState; "pending" until the first poll is stored
    error: str | None
    ts: float | None  # unix seconds of the latest poll
    duration_ms: float | None
    metrics: dict[str, float]  # latest value of each series
    metrics_ts: float | None  # unix seconds of the poll ``metrics`` came from
    info: dict[str, Any] | None


class HostDetail(Host, kw_only=True):
    series: list[str]  # every series name stored for this host


class Series(msgspec.Struct, kw_only=True, rename={"start": "from", "end": "to"}):
    host: str
    metric: str
    start: float  # unix seconds
    end: float
    points: list[tuple[float, float]]  # [ts, value], oldest first
