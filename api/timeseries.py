"""Fleet overview and trend: schemas, the service functions and their controller.

``GET /api/fleet?metric=cpu.busy_pct`` — every host's latest value of one series and its
last-hour sparkline (1-minute averages): the sparklines from the store's in-memory last hour
(``query.recent_fleet``; the database is read the first time a series is asked for).
``GET /api/hosts/{name}/trend?metric=fs.used_pct[/]&from=-7d`` — the least-squares line of
a series over a window: slope per day, % per day, and when it reaches a limit ("disk full
in 9 days"). The limit is ``limit`` when given; 100 for a ``…_pct`` series; for
``fs.used_bytes[M]`` the latest ``fs.size_bytes[M]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from api.errors import BadRequest, NotFound
from api.services import HostService
from mirror.model import split_series
from mirror.storage import trend

if TYPE_CHECKING:
    from mirror.storage import HostRow
    from mirror.storage.reader import StoreReader

SPARKLINE_S = 3600.0
DEFAULT_TREND_S = 7 * 86400.0


class FleetHost(msgspec.Struct, kw_only=True):
    name: str
    in_inventory: bool
    state: str
    error: str | None
    ts: float | None  # unix seconds of the latest poll
    latest: float | None  # latest value of the metric
    latest_ts: float | None
    sparkline: list[tuple[float, float]]  # [bucket start, 1-minute average], oldest first


class Fleet(msgspec.Struct, kw_only=True, rename={"start": "from", "end": "to"}):
    metric: str
    start: float
    end: float
    step_s: float
    hosts: list[FleetHost]


class Trend(msgspec.Struct, kw_only=True, rename={"start": "from", "end": "to"}):
    host: str
    metric: str
    start: float
    end: float
    tier: str  # which tier the points came from (see the series endpoint)
    points: int
    value_now: float | None  # the line's value at 'to'
    slope_per_day: float | None
    pct_per_day: float | None  # slope_per_day as a percentage of value_now
    r2: float | None
    limit: float | None
    reaches_limit_at: float | None  # unix seconds; None: not heading there in this trend
    days_to_limit: float | None


def fleet(store: StoreReader, names: list[tuple[str, bool]], metric: str, now: float) -> Fleet:
    """``names``: (host name, in inventory) in display order."""
    start = now - SPARKLINE_S
    rows = {row.name: row for row in store.host_rows(info=False)}
    lines = store.fleet(metric, start, now)
    hosts = []
    for name, in_inventory in names:
        row = rows.get(name)
        value = row.metrics.get(metric) if row is not None else None
        hosts.append(
            FleetHost(
                name=name,
                in_inventory=in_inventory,
                state=str(row.state) if row is not None else "pending",
                error=row.error if row is not None else None,
                ts=row.ts if row is not None else None,
                latest=value,
                latest_ts=row.metrics_ts if row is not None and value is not None else None,
                sparkline=lines.get(name, []),
            )
        )
    return Fleet(metric=metric, start=start, end=now, step_s=60.0, hosts=hosts)


def default_limit(metric: str, row: HostRow | None) -> float | None:
    base, instance = split_series(metric)
    if base.endswith("_pct"):
        return 100.0
    if base == "fs.used_bytes" and row is not None:
        size = row.metrics.get(f"fs.size_bytes[{instance}]")
        return float(size) if size is not None else None
    return None


def host_trend(
    store: StoreReader,
    host: str,
    metric: str,
    start: float,
    end: float,
    limit: float | None,
) -> Trend:
    result = store.chart(host, metric, start, end)
    line = trend.fit(result.points)
    if limit is None:
        limit = default_limit(metric, store.host_row(host))
    value_now = slope = pct = r2 = reach = days = None
    if line is not None:
        value_now = line.at(end)
        slope = line.slope_per_day
        pct = slope / abs(value_now) * 100 if value_now else None
        r2 = line.r2
        if limit is not None:
            reach = trend.reaches(line, limit, end)
            days = (reach - end) / trend.DAY_S if reach is not None else None
    return Trend(
        host=host,
        metric=metric,
        start=start,
        end=end,
        tier=result.tier,
        points=len(result.points),
        value_now=value_now,
        slope_per_day=slope,
        pct_per_day=pct,
        r2=r2,
        limit=limit,
        reaches_limit_at=reach,
        days_to_limit=days,
    )


class TimeSeriesController(Controller):
    path = "/api"
    tags = ["time series"]  # noqa: RUF012 - Litestar reads this class attribute as is

    @get("/fleet", sync_to_thread=True)
    def get_fleet(
        self,
        hosts: NamedDependency[HostService],
        metric: Annotated[
            str, QueryParameter(description="series for the sparkline")
        ] = "cpu.busy_pct",
    ) -> Fleet:
        """Every inventory host: latest value of ``metric`` and its last-hour sparkline."""
        return hosts.fleet(metric)

    @get("/hosts/{name:str}/trend", sync_to_thread=True)
    def get_trend(
        self,
        hosts: NamedDependency[HostService],
        name: FromPath[str],
        metric: Annotated[str, QueryParameter(description="series name, e.g. fs.used_pct[/]")],
        start: Annotated[
            str | None, QueryParameter(name="from", description="window start; default -7d")
        ] = None,
        end: Annotated[str | None, QueryParameter(name="to", description="default: now")] = None,
        limit: Annotated[
            float | None,
            QueryParameter(description="value whose crossing to forecast (default: see docs)"),
        ] = None,
    ) -> Trend:
        """Linear trend of one series over a window, and when it reaches ``limit``."""
        return hosts.trend(name, metric, start, end, limit)


def check_series(store: StoreReader, host: str, metric: str, known: Callable[[str], bool]) -> None:
    names = store.series_names(host)
    if not names and not known(host):
        raise NotFound(f"unknown host {host!r}")
    if metric not in names:
        raise BadRequest(f"unknown metric {metric!r} for host {host!r}", {"available": names})
