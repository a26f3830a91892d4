"""What a sweep found, joined with the neighbour table, reverse DNS and the inventory.

Reverse DNS of a loopback address reads only the hosts file, never DNS: a PTR query for
127.x would leave the machine (to the resolver in /etc/resolv.conf), and the tests and
the demo sweep nothing but loopback.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from collectors.neighbours import Neighbour
from poller.icmp import PingResult

HOSTS_FILE = Path("/etc/hosts")

Resolver = Callable[[str], "str | None"]


@dataclass(frozen=True, slots=True)
class Found:
    """One address that answered a sweep."""

    address: str
    rtt_ms: float | None
    mac: str | None  # from the EGO machine's neighbour table (on-link addresses only)
    name: str | None  # reverse DNS
    host: str | None  # the inventory host at this address, if any


def parse_hosts_file(text: str) -> dict[str, str]:
    """``/etc/hosts`` → first name of each address (pure; later lines do not override)."""
    names: dict[str, str] = {}
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2:
            continue
        try:
            address = str(ipaddress.ip_address(fields[0]))
        except ValueError:
            continue
        names.setdefault(address, fields[1])
    return names


def reverse_name(address: str, hosts_file: Path = HOSTS_FILE) -> str | None:
    """The name of ``address``: the hosts file for loopback, the system resolver otherwise."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if ip.is_loopback:
        try:
            return parse_hosts_file(hosts_file.read_text(encoding="utf-8", errors="replace")).get(
                str(ip)
            )
        except OSError:
            return None
    try:
        return socket.gethostbyaddr(str(ip))[0]
    except (OSError, UnicodeError):
        return None


async def reverse_names(
    addresses: Iterable[str],
    resolver: Resolver = reverse_name,
    *,
    timeout_s: float = 1.0,
    concurrency: int = 16,
) -> dict[str, str | None]:
    """Resolve many addresses in threads; one that takes longer than ``timeout_s`` is None."""
    gate = asyncio.Semaphore(concurrency)

    async def one(address: str) -> str | None:
        async with gate:
            try:
                return await asyncio.wait_for(asyncio.to_thread(resolver, address), timeout_s)
            except (TimeoutError, OSError):
                return None

    targets = list(dict.fromkeys(addresses))
    names = await asyncio.gather(*(one(a) for a in targets))
    return dict(zip(targets, names, strict=True))


def join_found(
    results: Iterable[PingResult],
    neighbours: Mapping[str, Neighbour],
    names: Mapping[str, str | None],
    known: Mapping[str, str],
) -> list[Found]:
    """Answering addresses with MAC, name and inventory host (pure)."""
    found = []
    for result in results:
        if not result.up:
            continue
        neighbour = neighbours.get(result.address)
        found.append(
            Found(
                address=result.address,
                rtt_ms=result.rtt_avg_ms,
                mac=neighbour.mac if neighbour else None,
                name=names.get(result.address),
                host=known.get(result.address),
            )
        )
    return found


def render_found(network: str, found: list[Found], total: int, duration_s: float) -> str:
    """The table `mirror sweep` prints (pure)."""
    header = ("ADDRESS", "RTT ms", "MAC", "REVERSE DNS", "INVENTORY")
    rows = [
        (
            f.address,
            f"{f.rtt_ms:.2f}" if f.rtt_ms is not None else "-",
            f.mac or "-",
            f.name or "-",
            f.host or "(new)",
        )
        for f in found
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    title = "  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()
    summary = f"{network}: {len(found)} of {total} addresses answered in {duration_s:.2f} s"
    return "\n".join([title, *lines, summary]) if found else summary
