"""What the API answers with: read schemas, kept apart from storage rows and inventory models.

Nothing here carries SSH settings: a host's credentials (even by reference) never leave EGO.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from api.ping import Ping, Reachability


class Health(msgspec.Struct, kw_only=True):
    # "degraded": EGO runs, but something needs attention (``problems`` says what): storage
    # refuses writes, a storage job fails, the database's own jobs fail or never run.
    status: Literal["ok", "degraded"]
    problems: list[str] = msgspec.field(default_factory=list)
    version: str
    hosts: int
    database: str  # SQLAlchemy dialect name: "sqlite" or "postgresql"
    live_subscribers: int
    # The writer's backlog while the database refuses writes, and the storage jobs' runs.
    storage: dict[str, Any] | None = None
    # Whether the database answers session and token checks ("database_checks": "failing":
    # those it confirmed within cache_ttl_s are let in from a cache, see mirror/auth/cache.py).
    auth: dict[str, Any] | None = None


class Host(msgspec.Struct, kw_only=True):
    name: str
    kind: str = "host"  # "host" (SSH or local) or "snmp" (a switch, router, AP, NAS)
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
    ping: Ping | None = None  # latest ICMP result of the host's address (api.network)
    reachability: Reachability = "unknown"  # "ping-only": SSH fails but ping answers


class HostDetail(Host, kw_only=True):
    series: list[str]  # every series name stored for this host


class Series(msgspec.Struct, kw_only=True, rename={"start": "from", "end": "to"}):
    host: str
    metric: str
    start: float  # unix seconds
    end: float
    points: list[tuple[float, float]]  # [ts, value], oldest first
    tier: str = "raw"  # the tier picked for the range: "raw", "1m" or "1h"
    step_s: float | None = None  # bucket width of each point; None: raw polls
    sources: list[str] = msgspec.field(default_factory=list)  # tiers merged, oldest first
