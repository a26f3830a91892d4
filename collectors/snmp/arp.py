"""IP-MIB neighbour tables: ipNetToMediaTable (RFC 1213/4293, IPv4) and ipNetToPhysicalTable.

ipNetToMedia is indexed ``ifIndex.a.b.c.d``; ipNetToPhysical ``ifIndex.type.length.addr…``
(type 1 IPv4, 2 IPv6). Invalid(2) entries and all-zero MACs (incomplete entries, as the
QNAP recording's five rows for 8.8.8.8) are dropped; an address seen in both tables once.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from collectors.snmp.walk import Walk, integer, mac, table

NET_TO_MEDIA_ENTRY = (1, 3, 6, 1, 2, 1, 4, 22, 1)
NET_TO_PHYSICAL_ENTRY = (1, 3, 6, 1, 2, 1, 4, 35, 1)
ROOTS = (NET_TO_MEDIA_ENTRY, NET_TO_PHYSICAL_ENTRY)


@dataclass(frozen=True, slots=True)
class ArpEntry:
    ip: str
    mac: str
    if_index: int


def parse(walk: Walk) -> list[ArpEntry]:
    found: dict[tuple[str, str], ArpEntry] = {}
    for row, cols in table(walk, NET_TO_MEDIA_ENTRY).items():
        if len(row) != 5 or integer(cols.get(4)) == 2:
            continue
        _add(found, row[0], bytes(row[1:]) if _octets(row[1:]) else None, mac(cols.get(2)))
    for row, cols in table(walk, NET_TO_PHYSICAL_ENTRY).items():
        if len(row) < 3 or integer(cols.get(6)) == 2:
            continue
        kind, length, octets = row[1], row[2], row[3:]
        ok = kind in (1, 2) and length == len(octets) in (4, 16) and _octets(octets)
        _add(found, row[0], bytes(octets) if ok else None, mac(cols.get(4)))
    return sorted(found.values(), key=lambda e: (ipaddress.ip_address(e.ip), e.mac))


def _octets(values: tuple[int, ...]) -> bool:
    return all(0 <= x <= 255 for x in values)


def _add(
    found: dict[tuple[str, str], ArpEntry], if_index: int, raw: bytes | None, addr: str | None
) -> None:
    if raw is None or addr is None or len(raw) not in (4, 16):
        return
    ip = str(ipaddress.ip_address(raw))
    found.setdefault((ip, addr), ArpEntry(ip, addr, if_index))
