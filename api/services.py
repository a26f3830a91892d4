"""The read side the controllers call: inventory joined with storage, as API schemas.

Synchronous on purpose: the store is SQLAlchemy Core (sync), so controllers run these in a
worker thread.

Which hosts ``GET /api/hosts`` lists: every inventory host, in inventory order, including
ones never polled yet (state ``pending``). A host that is in storage but no longer in the
inventory is left out of the list unless ``include_stored`` is asked for (then it comes last,
``in_inventory: false``, without address); its detail and series stay reachable by name so
its history is never lost to the API.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from api.errors import BadRequest, NotFound
from api.ping import ping_of, reachability
from api.schemas import Host, HostDetail, Series
from api.timeparse import parse_time
from mirror.inventory.current import CurrentInventory, as_current
from mirror.model import HostState, ping_address, ping_key

if TYPE_CHECKING:
    from api import overview, timeseries
    from mirror.inventory import HostConfig, Inventory, SnmpDevice
    from mirror.storage import HostRow
    from mirror.storage.reader import StoreReader

DEFAULT_RANGE_S = 3600.0


class HostService:
    def __init__(
        self,
        store: StoreReader,
        inventory: Inventory | CurrentInventory,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._current = as_current(inventory)
        self._clock = clock

    @property
    def _inventory(self) -> Inventory:
        return self._current.get()  # a reload swaps it while EGO runs

    def count(self) -> int:
        return len(self._inventory.hosts_resolved())

    def now(self) -> float:
        return self._clock()

    def list_hosts(self, *, include_stored: bool = False, info: bool = True) -> list[Host]:
        """Every inventory host (and with ``include_stored`` every stored one); ``info=False``
        leaves each host's ``info`` empty, unread from the store."""
        rows = {row.name: row for row in self._store.host_rows(info=info)}
        pings = {ping_address(n): rows.pop(n) for n in list(rows) if ping_address(n) is not None}
        hosts = [
            _host(config, rows.pop(config.name, None), pings.get(config.address))
            for config in self._configs()
        ]
        if include_stored:
            hosts += [_host(None, rows[name]) for name in sorted(rows)]
        return [self._kinded(host) for host in hosts]

    def get_host(self, name: str) -> HostDetail:
        config = self._configs_by_name().get(name)
        row = self._store.host_row(name)
        if config is None and row is None:
            raise NotFound(f"unknown host {name!r}")
        ping_row = self._store.host_row(ping_key(config.address)) if config is not None else None
        host = self._kinded(_host(config, row, ping_row))
        return HostDetail(**_fields(host), series=self._store.series_names(name))

    def get_series(self, name: str, metric: str, start: str | None, end: str | None) -> Series:
        names = self._store.series_names(name)
        if not names and name not in self._configs_by_name() and not self._store.host_row(name):
            raise NotFound(f"unknown host {name!r}")
        start_ts, end_ts = _time_range(start, end, self._clock(), DEFAULT_RANGE_S)
        if metric not in names:
            raise BadRequest(f"unknown metric {metric!r} for host {name!r}", {"available": names})
        result = self._store.chart(name, metric, start_ts, end_ts)
        return Series(
            host=name,
            metric=metric,
            start=start_ts,
            end=end_ts,
            points=result.points,
            tier=result.tier,
            step_s=result.step_s,
            sources=list(result.sources),
        )

    def fleet(self, metric: str) -> timeseries.Fleet:
        from api import timeseries  # it imports this module for its controller

        rows = [(config.name, True) for config in self._configs()]
        return timeseries.fleet(self._store, rows, metric, self._clock())

    def overview(self, spark_series: tuple[str, ...]) -> overview.Overview:
        from api import overview  # it imports this module's type for its handler

        snmp = {d.name for d in self._inventory.snmp}  # names: nothing to resolve
        return overview.build(self._store, self._configs(), snmp, self._clock(), spark_series)

    def trend(
        self, name: str, metric: str, start: str | None, end: str | None, limit: float | None
    ) -> timeseries.Trend:
        from api import timeseries

        if limit is not None and not math.isfinite(limit):
            raise BadRequest(f"limit must be a finite number, got {limit}")
        timeseries.check_series(self._store, name, metric, self._configs_by_name().__contains__)
        start_ts, end_ts = _time_range(start, end, self._clock(), timeseries.DEFAULT_TREND_S)
        return timeseries.host_trend(self._store, name, metric, start_ts, end_ts, limit)

    def storage_health(self) -> dict[str, Any]:
        """The writer's backlog and the storage jobs' last runs (see mirror.storage.health)."""
        return self._store.health.as_dict()

    def storage_problems(self) -> list[str]:
        """Why storage is degraded, one line each (none: it is healthy)."""
        return self._store.health.problems()

    def _configs(self) -> list[HostConfig]:
        # SNMP devices are listed (and looked up) like hosts, after them, with kind "snmp".
        devices = [_device_as_host(d) for d in self._inventory.snmp_resolved()]
        return [*self._inventory.hosts_resolved(), *devices]

    def _kinded(self, host: Host) -> Host:
        snmp = {d.name for d in self._inventory.snmp_resolved()}
        if host.name in snmp or (host.info or {}).get("kind") == "snmp":
            return msgspec.structs.replace(host, kind="snmp")
        return host

    def _configs_by_name(self) -> dict[str, HostConfig]:
        return {config.name: config for config in self._configs()}


def _time_range(
    start: str | None, end: str | None, now: float, default_span_s: float
) -> tuple[float, float]:
    """``from``/``to`` query values → ``(start, end)``; ``to`` defaults to now and ``from``
    to ``default_span_s`` before ``to``."""
    end_ts = _time_arg("to", end, now, default=now)
    start_ts = _time_arg("from", start, now, default=end_ts - default_span_s)
    if start_ts >= end_ts:
        raise BadRequest(
            f"'from' ({start_ts:.3f}) must be before 'to' ({end_ts:.3f})",
            {"from": start_ts, "to": end_ts},
        )
    return start_ts, end_ts


def _time_arg(which: str, value: str | None, now: float, default: float) -> float:
    if value is None or value.strip() == "":
        return default
    try:
        return parse_time(value, now)
    except ValueError as exc:
        raise BadRequest(f"bad '{which}' time: {exc}") from None


def _device_as_host(device: SnmpDevice) -> HostConfig:
    # Identity only: the device's credentials (even their references) never reach the API.
    from mirror.inventory import HostConfig

    return HostConfig(
        device.name, device.address, device.groups, device.tags, device.mac, False, None
    )


def _host(config: HostConfig | None, row: HostRow | None, ping_row: HostRow | None = None) -> Host:
    # Only identity fields are copied from the inventory: its ssh block (user, key file,
    # password reference) is never read here, so it cannot leak into a response.
    if config is not None:
        name = config.name
    elif row is not None:
        name = row.name
    else:
        raise ValueError("a host is its inventory entry, its stored row, or both")
    ping = ping_of(ping_row)
    state = row.state if row is not None else HostState.PENDING
    return Host(
        name=name,
        address=config.address if config is not None else None,
        groups=list(config.groups) if config is not None else [],
        tags=list(config.tags) if config is not None else [],
        mac=config.mac if config is not None else None,
        local=config.local if config is not None else False,
        in_inventory=config is not None,
        state=str(row.state) if row is not None else HostState.PENDING.value,
        error=row.error if row is not None else None,
        ts=row.ts if row is not None else None,
        duration_ms=row.duration_ms if row is not None else None,
        metrics=dict(row.metrics) if row is not None else {},
        metrics_ts=row.metrics_ts if row is not None else None,
        info=row.info if row is not None else None,
        ping=ping,
        reachability=reachability(state, ping),
    )


def _fields(host: Host) -> dict[str, Any]:
    return {field: getattr(host, field) for field in host.__struct_fields__}
