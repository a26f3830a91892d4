"""The network side of the API: ICMP reachability of hosts, discovered addresses, Wake-on-LAN.

ICMP results are stored per address under ``ping/ADDRESS`` (``mirror.model.ping_key``); this
module reads them from storage. Waking goes through a ``WakeActions`` object the process that
runs the poller hands in (``ego.runtime``): the API itself sends nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Protocol, runtime_checkable

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_503_SERVICE_UNAVAILABLE

from api.control import audited, require_operate
from api.errors import ApiError, BadRequest, NotFound
from api.ping import Ping, Reachability, ping_of, reachability
from api.schemas import Series
from api.services import HostService
from mirror.errors import MirrorError
from mirror.inventory.current import CurrentInventory, as_current
from mirror.model import HostState, ping_address, ping_key

if TYPE_CHECKING:
    from mirror.inventory import Inventory
    from mirror.storage.reader import StoreReader


class Discovered(Ping, kw_only=True):
    """An address that answered a sweep and is in no host of the inventory."""


class HostReachability(msgspec.Struct, kw_only=True):
    host: str
    state: str  # the SSH poll state
    reachability: Reachability
    ping: Ping | None


class WakeReport(msgspec.Struct, kw_only=True):
    host: str
    address: str
    mac: str
    mac_source: str  # "inventory" or "neighbour table"
    sent_to: str
    port: int
    subnet: str
    packet_bytes: int
    sent_at: float
    timeout_s: float
    state: str  # "waiting", "awake", "no-answer", "not-watched"
    woke_after_s: float | None
    message: str


@runtime_checkable
class WakeActions(Protocol):
    def start_wake(self, name: str) -> dict[str, Any]: ...

    def wake_status(self, name: str) -> dict[str, Any] | None: ...


class NetworkService:
    def __init__(self, store: StoreReader, inventory: Inventory | CurrentInventory) -> None:
        self._store = store
        self._current = as_current(inventory)

    @property
    def _inventory(self) -> Inventory:
        return self._current.get()  # a reload swaps it while EGO runs

    def pings(self) -> dict[str, Ping]:
        found = {}
        for row in self._store.host_rows():
            ping = ping_of(row) if ping_address(row.name) is not None else None
            if ping is not None:
                found[ping.address] = ping
        return found

    def discovered(self) -> list[Discovered]:
        known = self._inventory.known_addresses()
        return [
            Discovered(**msgspec.structs.asdict(p))
            for address, p in sorted(self.pings().items(), key=lambda kv: _sort_key(kv[0]))
            if address not in known and p.last_seen is not None
        ]

    def host_reachability(self, name: str) -> HostReachability:
        hosts = {h.name: h for h in self._inventory.hosts_resolved()}
        host = hosts.get(name)
        if host is None:
            raise NotFound(f"unknown host {name!r}")
        row = self._store.host_row(name)
        state = row.state if row is not None else HostState.PENDING
        ping = ping_of(self._store.host_row(ping_key(host.address)))
        return HostReachability(
            host=name, state=str(state), reachability=reachability(state, ping), ping=ping
        )


def _sort_key(address: str) -> tuple[int, ...] | tuple[str]:
    import ipaddress

    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return (address,)
    return (ip.version, int(ip))


class Unavailable(ApiError):
    status_code = HTTP_503_SERVICE_UNAVAILABLE


class NetworkController(Controller):
    tags = ["network"]  # noqa: RUF012 - Litestar reads this class attribute as is

    @get("/api/discovered", sync_to_thread=True)
    def discovered(self, network: NamedDependency[NetworkService]) -> list[Discovered]:
        """Addresses that answered a sweep and are in no inventory host (adopt: `mirror adopt`)."""
        return network.discovered()

    @get("/api/hosts/{name:str}/ping", sync_to_thread=True)
    def host_ping(
        self, network: NamedDependency[NetworkService], name: FromPath[str]
    ) -> HostReachability:
        """SSH state and ICMP state side by side: ``ping-only`` is a host whose SSH fails."""
        return network.host_reachability(name)

    @get("/api/ping/{address:str}/series", sync_to_thread=True)
    def ping_series(
        self,
        hosts: NamedDependency[HostService],
        address: FromPath[str],
        metric: Annotated[str, QueryParameter(description="e.g. ping.rtt_avg_ms, ping.loss_pct")],
        start: Annotated[str | None, QueryParameter(name="from")] = None,
        end: Annotated[str | None, QueryParameter(name="to")] = None,
    ) -> Series:
        """ICMP series of one address (a host's or a discovered one), as host series are read."""
        if not metric.startswith("ping."):
            raise BadRequest(
                f"not an ICMP series: {metric!r} (ping.rtt_avg_ms, ping.loss_pct, ...)"
            )
        return hosts.get_series(ping_key(address), metric, start, end)

    @post(
        "/api/hosts/{name:str}/wake",
        status_code=HTTP_202_ACCEPTED,
        guards=[require_operate, audited("wol")],  # operators only; in the audit log
    )
    async def wake(
        self, wake: NamedDependency[WakeActions | None], name: FromPath[str]
    ) -> WakeReport:
        """Send the magic packet now; EGO then watches for the host to answer ping."""
        actions = _actions(wake)
        try:
            report = actions.start_wake(name)
        except MirrorError as exc:
            text = str(exc)
            if text.startswith("unknown host"):
                raise NotFound(text) from None
            raise BadRequest(text) from None
        return msgspec.convert(report, WakeReport)

    @get("/api/hosts/{name:str}/wake")
    async def wake_status(
        self, wake: NamedDependency[WakeActions | None], name: FromPath[str]
    ) -> WakeReport:
        """The latest wake of this host: what was sent, and how long it took to answer ping."""
        report = _actions(wake).wake_status(name)
        if report is None:
            raise NotFound(f"{name!r} has not been woken since EGO started")
        return msgspec.convert(report, WakeReport)


def _actions(wake: WakeActions | None) -> WakeActions:
    if wake is None:
        raise Unavailable("Wake-on-LAN needs the poller: run `mirror serve`")
    return wake
