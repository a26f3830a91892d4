"""``/metrics``: what EGO measures, for Prometheus (OpenMetrics or the 0.0.4 text format).

Each stored series becomes a gauge named ``mirror_<series>`` (dots and other characters
Prometheus does not allow become ``_``) with the labels ``host``, ``group`` (the host's
inventory groups, comma-separated) and ``instance`` (the part in brackets: a core, an
interface, a mount point; empty for a host-wide value). Prometheus sets ``instance`` on
every scraped series itself: scrape EGO with ``honor_labels: true`` (README) to keep ours.

Only values from a poll younger than :data:`STALE_AFTER_S` are exposed, as a down host's
last reading is not a current one; ``mirror_up`` says which hosts answered. EGO's own health
follows: targets per state, seconds since each host's last poll, the poll's duration, the
storage writer's backlog, live WebSocket subscribers.

The exposition is rendered by prometheus-client from a throw-away registry per scrape, so
a host removed from the inventory disappears from the next scrape.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from api.services import HostService
from mirror.live import LiveHub
from mirror.model import HostState

if TYPE_CHECKING:
    from api.schemas import Host

PREFIX = "mirror_"
STALE_AFTER_S = 60.0  # twelve 5-s polls: older values are no longer "the current value"
_NOT_ALLOWED = re.compile(r"[^a-zA-Z0-9_]")
_SERIES = re.compile(r"^(?P<name>[^\[]+)(?:\[(?P<instance>.*)\])?$")


def family_name(series: str) -> tuple[str, str]:
    """``net.rx_bytes_per_s[eth0]`` → (``mirror_net_rx_bytes_per_s``, ``eth0``)."""
    found = _SERIES.match(series)
    name, instance = (found["name"], found["instance"] or "") if found else (series, "")
    return PREFIX + _NOT_ALLOWED.sub("_", name).strip("_"), instance


def families(
    hosts: Iterable[Host], now: float, *, subscribers: int, storage: dict[str, Any]
) -> list[Metric]:
    """Every family for one scrape (pure: the hosts and figures are handed in)."""
    hosts = list(hosts)
    series: dict[str, GaugeMetricFamily] = {}
    up = GaugeMetricFamily(
        PREFIX + "up", "1 when the host's latest poll succeeded", labels=["host", "group"]
    )
    age = GaugeMetricFamily(
        PREFIX + "last_poll_age_seconds",
        "seconds since the host's latest poll ended (any outcome)",
        labels=["host", "group"],
    )
    duration = GaugeMetricFamily(
        PREFIX + "poll_duration_seconds",
        "how long the host's latest poll took",
        labels=["host", "group"],
    )
    states: Counter[str] = Counter()
    for host in hosts:
        group = ",".join(host.groups)
        states[host.state] += 1
        up.add_metric([host.name, group], 1.0 if host.state == HostState.UP.value else 0.0)
        if host.ts is not None:
            age.add_metric([host.name, group], max(0.0, now - host.ts))
        if host.duration_ms is not None:
            duration.add_metric([host.name, group], host.duration_ms / 1000)
        fresh = host.metrics_ts is not None and now - host.metrics_ts <= STALE_AFTER_S
        if not fresh:
            continue
        for name, value in host.metrics.items():
            family, instance = family_name(name)
            if family not in series:
                series[family] = GaugeMetricFamily(
                    family,
                    f"{name.split('[', 1)[0]} as polled by EGO",
                    labels=["host", "group", "instance"],
                )
            series[family].add_metric([host.name, group, instance], float(value))
    targets = GaugeMetricFamily(PREFIX + "targets", "targets per state", labels=["state"])
    for state in HostState:
        targets.add_metric([state.value], float(states.get(state.value, 0)))
    live = GaugeMetricFamily(
        PREFIX + "live_subscribers", "WebSocket clients following live events", value=subscribers
    )
    return [up, age, duration, targets, live, *_storage(storage), *series.values()]


def _storage(health: dict[str, Any]) -> Iterator[GaugeMetricFamily]:
    for key, help_text in (
        ("buffered", "poll results waiting in memory to be written"),
        ("buffer_limit", "poll results the write buffer holds at most"),
        ("dropped", "poll results dropped because the write buffer was full"),
    ):
        value = health.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            yield GaugeMetricFamily(PREFIX + "storage_" + key, help_text, value=float(value))
    writable = health.get("writable")
    if isinstance(writable, bool):
        yield GaugeMetricFamily(
            PREFIX + "storage_writable", "1 when the last write succeeded", value=float(writable)
        )


class _Scrape:
    """A collector that hands prometheus-client the families of one scrape."""

    def __init__(self, found: list[Metric]) -> None:
        self._found = found

    def collect(self) -> list[Metric]:
        return self._found


def exposition(found: list[Metric], accept: str = "") -> tuple[bytes, str]:
    """The families as text in the format ``accept`` asks for (OpenMetrics or 0.0.4), and
    its content type: rendered by prometheus-client from a registry of this scrape only."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Scrape(found))
    encoder, content_type = choose_encoder(accept)
    return encoder(registry), content_type


@get("/metrics", sync_to_thread=True, tags=["health"], include_in_schema=True)
def metrics(
    request: Request[Any, Any, Any],
    hosts: NamedDependency[HostService],
    hub: NamedDependency[LiveHub],
) -> Response[bytes]:
    """Every host's current values and EGO's own health, for Prometheus (a read token
    suffices: ``authorization: {type: Bearer, credentials: …}`` in the scrape config)."""
    found = families(
        hosts.list_hosts(info=False),  # identity and process tables: not exposed
        hosts.now(),
        subscribers=hub.subscriber_count,
        storage=hosts.storage_health(),
    )
    body, content_type = exposition(found, request.headers.get("accept", ""))
    return Response(body, media_type=content_type)
