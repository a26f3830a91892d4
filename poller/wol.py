"""Wake-on-LAN: send the magic packet (wakeonlan), then watch the host answer ping.

The MAC comes from the inventory, else from the EGO machine's neighbour table (a host
that was on-link and awake once). The packet goes to the ``wol_broadcast``/``wol_port`` of
the inventory subnet that holds the host (default: that subnet's directed broadcast, port 9).
``wakeonlan.wake`` is always given ``host=``: its default is 255.255.255.255.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

import wakeonlan

from collectors.neighbours import Neighbour, read_neighbours
from mirror.errors import ConfigError, MirrorError
from mirror.inventory import HostConfig, Inventory, Subnet
from poller.icmp import IcmpAccess, ping_one

log = logging.getLogger(__name__)

MAGIC_PACKET_BYTES = 102  # 6 x 0xff, then the MAC 16 times
DEFAULT_WAKE_TIMEOUT_S = 120.0


class WakeError(MirrorError):
    """The magic packet could not be sent (no MAC, no subnet, a socket error)."""


@dataclass(frozen=True, slots=True)
class WakeTarget:
    host: str
    address: str
    mac: str
    mac_source: str  # "inventory" or "neighbour table"
    broadcast: str
    port: int
    subnet: str


@dataclass(frozen=True, slots=True)
class WakeReport:
    """What was sent where, and (once watched) how long the host took to answer ping."""

    host: str
    address: str
    mac: str
    mac_source: str
    sent_to: str
    port: int
    subnet: str
    packet_bytes: int
    sent_at: float  # unix seconds
    timeout_s: float
    state: str  # "waiting", "awake", "no-answer", "not-watched"
    woke_after_s: float | None = None
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def wake_target(
    host: HostConfig, subnets: Iterable[Subnet], neighbours: Mapping[str, Neighbour]
) -> WakeTarget:
    """Where the magic packet for ``host`` goes (pure); ``WakeError`` says what is missing."""
    mac, source = host.mac, "inventory"
    if mac is None and host.address in neighbours:
        mac, source = neighbours[host.address].mac, "neighbour table"
    if mac is None:
        raise WakeError(
            f'{host.name}: no MAC address: add mac: "aa:bb:cc:dd:ee:ff" to the host in the '
            "inventory (or let EGO see it awake once, to learn it from the neighbour table)"
        )
    try:
        ip = ipaddress.ip_address(host.address)
    except ValueError:
        ip = None
    subnet = next((s for s in subnets if ip is not None and ip in s.cidr), None)
    if subnet is None:
        raise WakeError(
            f"{host.name}: address {host.address} is in no subnet of the inventory: add its "
            "subnet (and wol_broadcast if its directed broadcast does not reach the host)"
        )
    broadcast = subnet.wol_broadcast
    if broadcast is None:
        if subnet.cidr.version != 4:
            raise WakeError(f"{host.name}: subnet {subnet.name} is IPv6: set its wol_broadcast")
        broadcast = str(subnet.cidr.broadcast_address)
    return WakeTarget(host.name, host.address, mac, source, broadcast, subnet.wol_port, subnet.name)


def send_magic_packet(
    target: WakeTarget, timeout_s: float, *, clock: Callable[[], float] = time.time
) -> WakeReport:
    try:
        wakeonlan.wake(target.mac, host=target.broadcast, port=target.port)
    except (OSError, ValueError) as exc:
        raise WakeError(
            f"{target.host}: cannot send the magic packet to "
            f"{target.broadcast}:{target.port}: {exc}"
        ) from None
    return WakeReport(
        host=target.host,
        address=target.address,
        mac=target.mac,
        mac_source=target.mac_source,
        sent_to=target.broadcast,
        port=target.port,
        subnet=target.subnet,
        packet_bytes=MAGIC_PACKET_BYTES,
        sent_at=clock(),
        timeout_s=timeout_s,
        state="waiting",
        message=f"sent a {MAGIC_PACKET_BYTES}-byte magic packet for {target.mac} "
        f"to {target.broadcast}:{target.port} (subnet {target.subnet})",
    )


Pinger = Callable[[str], Awaitable[bool]]


async def wait_until_answers(
    address: str, ping: Pinger, *, timeout_s: float, every_s: float = 1.0
) -> float | None:
    """Seconds until ``address`` first answers ``ping``; None when ``timeout_s`` passes first."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while True:
        if await ping(address):
            return loop.time() - started
        remaining = timeout_s - (loop.time() - started)
        if remaining <= 0:
            return None
        await asyncio.sleep(min(every_s, remaining))


def icmp_pinger(access: IcmpAccess, timeout_s: float = 1.0) -> Pinger:
    async def ping(address: str) -> bool:
        return (await ping_one(address, privileged=access.privileged, timeout_s=timeout_s)).up

    return ping


def watched(report: WakeReport, woke_after_s: float | None) -> WakeReport:
    if woke_after_s is None:
        return replace(
            report,
            state="no-answer",
            message=report.message + f"; no answer to ping within {report.timeout_s:g} s",
        )
    return replace(
        report,
        state="awake",
        woke_after_s=woke_after_s,
        message=report.message + f"; answered ping after {woke_after_s:.1f} s",
    )


class WakeService:
    """Wakes inventory hosts for the API: send now, watch in the background, keep the result."""

    def __init__(
        self,
        inventory: Inventory,
        access: IcmpAccess,
        *,
        publish: Callable[[dict[str, Any]], None] | None = None,
        neighbours: Callable[[], Mapping[str, Neighbour]] = read_neighbours,
        timeout_s: float = DEFAULT_WAKE_TIMEOUT_S,
        ping: Pinger | None = None,
    ) -> None:
        self._hosts = {h.name: h for h in inventory.hosts_resolved()}
        self._subnets = list(inventory.subnets)
        self._access = access
        self._publish = publish
        self._neighbours = neighbours
        self._timeout_s = timeout_s
        self._ping = ping or (icmp_pinger(access) if access.usable else None)
        self._latest: dict[str, WakeReport] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def retarget(self, inventory: Inventory) -> None:
        """After an inventory reload; wakes being watched go on."""
        self._hosts = {h.name: h for h in inventory.hosts_resolved()}
        self._subnets = list(inventory.subnets)

    def start_wake(self, name: str) -> dict[str, Any]:
        """Send the packet now; raises ``ConfigError`` (unknown host) or ``WakeError``."""
        host = self._hosts.get(name)
        if host is None:
            raise ConfigError(f"unknown host {name!r}")
        target = wake_target(host, self._subnets, self._neighbours())
        report = send_magic_packet(target, self._timeout_s)
        if self._ping is None:
            report = replace(
                report, state="not-watched", message=report.message + "; ICMP unavailable"
            )
        else:
            task = asyncio.get_running_loop().create_task(self._watch(report, self._ping))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._latest[name] = report
        return report.as_dict()

    def wake_status(self, name: str) -> dict[str, Any] | None:
        report = self._latest.get(name)
        return report.as_dict() if report else None

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _watch(self, report: WakeReport, ping: Pinger) -> None:
        woke = await wait_until_answers(report.address, ping, timeout_s=report.timeout_s)
        done = watched(report, woke)
        if self._latest.get(report.host) is report:
            self._latest[report.host] = done
        log.info("wake %s: %s", report.host, done.message)
        if self._publish is not None:
            self._publish({"type": "wake", **done.as_dict()})
