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

import asyncio
import gzip
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from api.auth import SESSION_COOKIE
from api.services import HostService
from api.webfiles import PRECOMPRESSED, accepts_gzip
from mirror.model import HostState, ping_key

if TYPE_CHECKING:
    from mirror.inventory import HostConfig
    from mirror.storage import HostRow
    from mirror.storage.reader import StoreReader

log = logging.getLogger(__name__)

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


class Target(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A host as the Run page's pickers list it: no metrics, no sparklines."""

    name: str
    kind: str = "host"
    groups: list[str] = []
    tags: list[str] = []
    state: str


class Overview(msgspec.Struct, kw_only=True):
    ts: float  # EGO's clock when this was read, unix seconds
    spark_from: float  # start of the first sparkline bucket, unix seconds
    spark_step_s: float
    hosts: list[OverviewHost]


def fleet_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """The values the fleet columns summarise, out of all of a host's latest values."""
    return {name: value for name, value in metrics.items() if _is_fleet_series(name)}


# Hosts share their series names (per core, per mount, per interface): deciding each name
# once instead of for every host at every request took a quarter of the build's CPU.
_FLEET_NAMES: dict[str, bool] = {}
_FLEET_NAMES_MAX = 65536  # a bound in case names churn (interfaces that come and go)


def _is_fleet_series(name: str) -> bool:
    known = _FLEET_NAMES.get(name)
    if known is None:
        known = name in FLEET_SERIES or name.startswith(FLEET_FAMILIES)
        if len(_FLEET_NAMES) >= _FLEET_NAMES_MAX:
            _FLEET_NAMES.clear()
        _FLEET_NAMES[name] = known
    return known


def build(
    store: StoreReader,
    configs: list[HostConfig],
    snmp: set[str],
    now: float,
    spark_series: tuple[str, ...] = SPARK_SERIES,
) -> Overview:
    """``configs``: the inventory's hosts and devices in display order; ``snmp``: device names."""
    rows = {row.name: row for row in store.host_rows(info=False)}
    spark_from = math.ceil((now - SPARK_S) / SPARK_STEP_S) * SPARK_STEP_S
    lines = {name: store.fleet(name, spark_from, now) for name in spark_series}
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


class AnswerCache:
    """Encoded ``/api/overview`` answers (JSON and gzipped), shared for ``max_age_s``.

    A build reads every host's latest values (~40 ms of CPU for 254 hosts), and it ran in a
    worker thread holding the GIL while the page's script waited to be sent: under load the
    first visit's answer came ~0.25 s after it was asked for (bench/ui.py). Tabs opened
    together, the preload and the table's second ask after a login, and reconnects share one
    build; an answer at most ``max_age_s`` old is no staler than the poll it shows (5 s), and
    the live stream brings each host's next poll.
    """

    def __init__(self, max_age_s: float = 2.0, clock: Callable[[], float] = time.monotonic):
        self.max_age_s = max_age_s
        self._clock = clock
        self._answers: dict[tuple[str, ...], tuple[float, bytes, bytes]] = {}
        self._lock = threading.Lock()  # one build at a time; the others wait and share it

    def get(self, key: tuple[str, ...], build: Callable[[], Overview]) -> tuple[bytes, bytes]:
        """``(json, gzipped json)`` for ``key``, built by ``build`` when none is fresh."""
        with self._lock:
            found = self._answers.get(key)
            if found is not None and self._clock() - found[0] < self.max_age_s:
                return found[1], found[2]
            started = self._clock()
            body = msgspec.json.encode(build())
            # Level 6: nearly level 9's size at a third of the CPU (as api/app.py's middleware).
            answer = (started, body, gzip.compress(body, 6, mtime=0))
            # Keys come from the query (?spark=): keep only answers that are still fresh.
            self._answers = {
                k: v for k, v in self._answers.items() if started - v[0] < self.max_age_s
            }
            self._answers[key] = answer
            return body, answer[2]


def warm_for_page(
    hosts: HostService, cache: AnswerCache
) -> Callable[[Request[Any, Any, Any]], Awaitable[None]]:
    """A ``before_request`` hook: start the default overview when a signed-in browser asks
    for the page, since its ``index.html`` preloads that overview next. The build then runs
    while the page and its preload travel, instead of after the preload arrives (~0.1 s
    later on a loaded EGO). The cookie is only looked at, not checked (that costs a database
    read): whoever sends one, the cache allows at most one build per ``max_age_s``."""

    def build() -> None:
        try:
            cache.get(SPARK_SERIES, lambda: hosts.overview(SPARK_SERIES))
        except Exception:  # the preload's own request reports a failure; this is a head start
            log.debug("building the overview ahead of the page's preload failed", exc_info=True)

    async def before_request(request: Request[Any, Any, Any]) -> None:
        if request.url.path in ("/", "/index.html") and request.cookies.get(SESSION_COOKIE):
            asyncio.get_running_loop().run_in_executor(None, build)

    return before_request


@get(
    "/api/overview",
    sync_to_thread=True,
    tags=["hosts"],
    opt={PRECOMPRESSED: True},
    response_headers={"Vary": "Accept-Encoding"},
)
def overview(
    hosts: NamedDependency[HostService],
    overview_cache: NamedDependency[AnswerCache],
    request: Request[Any, Any, Any],
    spark: Annotated[
        list[str] | None,
        QueryParameter(
            description=f"sparkline series (repeat for more, at most {MAX_SPARK_SERIES}); "
            f"default: {', '.join(SPARK_SERIES)}"
        ),
    ] = None,
) -> Response[Overview]:
    """Every inventory host as the fleet table shows it, with last-hour sparklines."""
    series = tuple(dict.fromkeys(spark or SPARK_SERIES))[:MAX_SPARK_SERIES]
    body, packed = overview_cache.get(series, lambda: hosts.overview(series))
    # The answer is encoded already; the annotation above is what the OpenAPI schema shows.
    if accepts_gzip(request.headers.get("accept-encoding", "")):
        headers = {"Content-Encoding": "gzip"}
        return Response(packed, media_type="application/json", headers=headers)  # type: ignore[arg-type]
    return Response(body, media_type="application/json")  # type: ignore[arg-type]


@get("/api/targets", sync_to_thread=True, tags=["hosts"])
def targets(hosts: NamedDependency[HostService]) -> list[Target]:
    """Every inventory host's name, kind, groups, tags and state (~60 bytes a host)."""
    return [
        Target(name=h.name, kind=h.kind, groups=h.groups, tags=h.tags, state=h.state)
        for h in hosts.overview(()).hosts  # no sparkline series: nothing but the rows is read
    ]
