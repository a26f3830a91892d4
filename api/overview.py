"""``GET /api/overview``: everything the fleet table shows, for every host, in one answer.

``GET /api/hosts`` carries each host's every latest value and its ``info`` (identity,
filesystems, top processes): ~6 kB a host, 1.6 MB for 254 hosts, and the fleet table then
asked ``/api/fleet`` once per sparkline column. This answer holds only what the table draws:
identity, state, the series its columns summarise, the ping figures, and the last hour of
the sparkline series as 1-minute averages (dense lists from ``spark_from``, ``spark_step_s``
apart, null where a minute has no value) — ~0.6 kB a host. The host page reads the rest.
Fields at their default (null, empty, kind "host") are left out.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from api.services import HostService
from mirror.model import HostState, ping_key
from mirror.storage import query

if TYPE_CHECKING:
    from mirror.inventory import HostConfig
    from mirror.storage import HostRow, Store

SPARK_S = 3600.0
SPARK_STEP_S = 60.0
# The series the fleet columns summarise: keep in step with summarize() in web/src/fleet.ts.
FLEET_SERIES = frozenset({"cpu.busy_pct", "mem.used_pct", "load.1"})
FLEET_FAMILIES = (
    "fs.used_pct[",
    "net.rx_bytes_per_s[",
    "net.tx_bytes_per_s[",
    "temp.celsius[",
    "gpu.util_pct[",
)
SPARK_SERIES = ("cpu.busy_pct", "mem.used_pct")
MAX_SPARK_SERIES = 4


class OverviewHost(msgspec.Struct, kw_only=True, omit_defaults=True):
    name: str
    kind: str = "host"  # "host" or "snmp"
    address: str | None = None
    groups: list[str] = []  # msgspec copies a default container for each instance
    tags: list[str] = []
    state: str  # mirror.model.HostState; "pending" until the first poll is stored
    error: str | None = None
    ts: float | None = None  # unix seconds of the latest poll
    metrics: dict[str, float] = {}  # latest values of the fleet columns' series
    ping_ms: float | None = None  # latest ICMP round trip (average), None while it fails
    ping_loss_pct: float | None = None
    spark: dict[str, list[float | None]] = {}  # series -> 1-minute averages


class Overview(msgspec.Struct, kw_only=True):
    ts: float  # EGO's clock when this was read, unix seconds
    spark_from: float  # start of the first sparkline bucket, unix seconds
    spark_step_s: float
    hosts: list[OverviewHost]


def fleet_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """The values the fleet columns summarise, out of all of a host's latest values."""
    return {
        name: value
        for name, value in metrics.items()
        if name in FLEET_SERIES or name.startswith(FLEET_FAMILIES)
    }


def build(
    store: Store,
    configs: list[HostConfig],
    snmp: set[str],
    now: float,
    spark_series: tuple[str, ...] = SPARK_SERIES,
) -> Overview:
    """``configs``: the inventory's hosts and devices in display order; ``snmp``: device names."""
    rows = {row.name: row for row in store.host_rows(info=False)}
    spark_from = math.ceil((now - SPARK_S) / SPARK_STEP_S) * SPARK_STEP_S
    lines = {name: query.recent_fleet(store, name, spark_from, now) for name in spark_series}
    # The lists start at the oldest minute any host has: no run of nulls after a restart.
    firsts = [points[0][0] for by_host in lines.values() for points in by_host.values()]
    spark_from = max(spark_from, min(firsts, default=spark_from))
    width = int((now - spark_from) // SPARK_STEP_S) + 1
    hosts = []
    for config in configs:
        row = rows.get(config.name)
        spark = {}
        for name, by_host in lines.items():
            points = by_host.get(config.name)
            if points:
                dense: list[float | None] = [None] * width
                for ts, value in points:
                    i = round((ts - spark_from) / SPARK_STEP_S)
                    if 0 <= i < width:
                        dense[i] = round(value, 2)
                spark[name] = dense
        ping_ms, ping_loss = _ping(rows.get(ping_key(config.address)))
        hosts.append(
            OverviewHost(
                name=config.name,
                kind="snmp" if config.name in snmp else "host",
                address=config.address,
                groups=list(config.groups),
                tags=list(config.tags),
                state=str(row.state) if row is not None else HostState.PENDING.value,
                error=row.error if row is not None else None,
                ts=row.ts if row is not None else None,
                metrics=fleet_metrics(row.metrics) if row is not None else {},
                ping_ms=ping_ms,
                ping_loss_pct=ping_loss,
                spark=spark,
            )
        )
    return Overview(ts=now, spark_from=spark_from, spark_step_s=SPARK_STEP_S, hosts=hosts)


def _ping(row: HostRow | None) -> tuple[float | None, float | None]:
    if row is None:
        return None, None
    metrics = row.metrics or {}
    rtt = None if metrics.get("ping.up") == 0 else metrics.get("ping.rtt_avg_ms")
    return rtt, metrics.get("ping.loss_pct")


@get("/api/overview", sync_to_thread=True, tags=["hosts"])
def overview(
    hosts: NamedDependency[HostService],
    spark: Annotated[
        list[str] | None,
        QueryParameter(
            description=f"sparkline series (repeat for more, at most {MAX_SPARK_SERIES}); "
            f"default: {', '.join(SPARK_SERIES)}"
        ),
    ] = None,
) -> Overview:
    """Every inventory host as the fleet table shows it, with last-hour sparklines."""
    return hosts.overview(tuple(dict.fromkeys(spark or SPARK_SERIES))[:MAX_SPARK_SERIES])
