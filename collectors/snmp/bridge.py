"""BRIDGE-MIB (RFC 4188) and Q-BRIDGE-MIB (RFC 4363): which MAC was learnt on which port.

dot1dTpFdbTable is indexed by the MAC (ArubaOS-CX prefixes a length 6, which the
standard does not, and is tolerated); dot1qTpFdbTable by ``fdbId.MAC``. Bridge ports map
to ifIndex through dot1dBasePortIfIndex; where that table is absent the port number is
taken as the ifIndex (what small switches such as SwOS use). Entries on port 0 (unknown),
and those whose status is self(4) or invalid(2), are not learnt neighbours and are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.snmp.walk import Walk, integer, mac_from_index, subtree, table

BASE_PORT_IFINDEX = (1, 3, 6, 1, 2, 1, 17, 1, 4, 1, 2)
TP_FDB_ENTRY = (1, 3, 6, 1, 2, 1, 17, 4, 3, 1)
Q_TP_FDB_ENTRY = (1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1)
ROOTS = (BASE_PORT_IFINDEX, TP_FDB_ENTRY, Q_TP_FDB_ENTRY)
_NOT_LEARNT = frozenset({2, 4})


@dataclass(frozen=True, slots=True)
class FdbEntry:
    mac: str
    port: int  # bridge port number
    if_index: int
    vlan: int | None  # Q-BRIDGE fdbId (usually the VLAN id); None for dot1d entries


def parse(walk: Walk) -> list[FdbEntry]:
    port_if = {sfx[0]: v for sfx, v in subtree(walk, BASE_PORT_IFINDEX) if isinstance(v, int)}
    entries: dict[tuple[str, int | None], FdbEntry] = {}
    for row, cols in table(walk, Q_TP_FDB_ENTRY).items():
        found = mac_from_index(row[1:])
        _add(entries, found, integer(cols.get(2)), integer(cols.get(3)), row[0], port_if)
    if not entries:  # dot1q supersedes dot1d where a switch offers both
        for row, cols in table(walk, TP_FDB_ENTRY).items():
            found = mac_from_index(row)
            _add(entries, found, integer(cols.get(2)), integer(cols.get(3)), None, port_if)
    return sorted(entries.values(), key=lambda e: (e.if_index, e.mac, e.vlan or 0))


def _add(
    entries: dict[tuple[str, int | None], FdbEntry],
    found: str | None,
    port: int | None,
    status: int | None,
    vlan: int | None,
    port_if: dict[int, int],
) -> None:
    if found is None or not port or status in _NOT_LEARNT:
        return
    entries[(found, vlan)] = FdbEntry(found, port, port_if.get(port, port), vlan)
