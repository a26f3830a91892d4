"""LLDP-MIB (IEEE 802.1AB-2005): who is plugged into which local port.

lldpRemTable is indexed ``timeMark.localPortNum.remIndex``. Chassis and port IDs are read
by their subtype: MACs may come as 6 octets or, on ArubaOS-CX, as the text
``00:50:d7:12:68:68``; networkAddress is an IANA family octet then the address; names are
text. A neighbour seen twice on one port (an ESXi NIC firmware agent and the vSwitch both
speak LLDP) is kept twice: each is a row the device reported.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from collectors.snmp.walk import Oid, Value, Walk, integer, mac, scalar, table, text

LLDP = (1, 0, 8802, 1, 1, 2, 1)
LOC_CHASSIS_SUBTYPE = (*LLDP, 3, 1)
LOC_CHASSIS_ID = (*LLDP, 3, 2)
LOC_SYS_NAME = (*LLDP, 3, 3)
LOC_PORT_ENTRY = (*LLDP, 3, 7, 1)
REM_ENTRY = (*LLDP, 4, 1, 1)
REM_MAN_ADDR_ENTRY = (*LLDP, 4, 2, 1)
ROOTS = (LOC_PORT_ENTRY, REM_ENTRY, REM_MAN_ADDR_ENTRY)
SCALARS = ((*LOC_CHASSIS_SUBTYPE, 0), (*LOC_CHASSIS_ID, 0), (*LOC_SYS_NAME, 0))

CHASSIS_SUBTYPES = {
    1: "chassis-component",
    2: "interface-alias",
    3: "port-component",
    4: "mac",
    5: "network-address",
    6: "interface-name",
    7: "local",
}
PORT_SUBTYPES = {
    1: "interface-alias",
    2: "port-component",
    3: "mac",
    4: "network-address",
    5: "interface-name",
    6: "agent-circuit-id",
    7: "local",
}


@dataclass(frozen=True, slots=True)
class LocalPort:
    num: int
    id: str | None
    id_kind: str | None
    descr: str | None


@dataclass(frozen=True, slots=True)
class Neighbour:
    local_port_num: int
    chassis_id: str | None
    chassis_kind: str | None
    port_id: str | None
    port_kind: str | None
    port_descr: str | None
    sys_name: str | None
    sys_descr: str | None
    addresses: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Lldp:
    chassis_id: str | None
    chassis_kind: str | None
    sys_name: str | None
    ports: list[LocalPort]
    neighbours: list[Neighbour]


def identifier(kind: str | None, value: Value | None) -> str | None:
    """An LLDP chassis/port ID as text, read according to its subtype."""
    if value is None:
        return None
    if kind == "mac":
        return mac(value) or text(value)
    if kind == "network-address" and isinstance(value, bytes) and len(value) in (5, 17):
        return str(ipaddress.ip_address(value[1:]))
    return text(value) or None


def parse(walk: Walk) -> Lldp:
    loc_kind = CHASSIS_SUBTYPES.get(integer(scalar(walk, LOC_CHASSIS_SUBTYPE)) or 0)
    ports = []
    for row, cols in sorted(table(walk, LOC_PORT_ENTRY).items()):
        if len(row) == 1:
            kind = PORT_SUBTYPES.get(integer(cols.get(2)) or 0)
            ports.append(LocalPort(row[0], identifier(kind, cols.get(3)), kind, text(cols.get(4))))
    addresses = _management_addresses(walk)
    neighbours = []
    for row, cols in sorted(table(walk, REM_ENTRY).items()):
        if len(row) != 3:
            continue
        chassis_kind = CHASSIS_SUBTYPES.get(integer(cols.get(4)) or 0)
        port_kind = PORT_SUBTYPES.get(integer(cols.get(6)) or 0)
        neighbours.append(
            Neighbour(
                local_port_num=row[1],
                chassis_id=identifier(chassis_kind, cols.get(5)),
                chassis_kind=chassis_kind,
                port_id=identifier(port_kind, cols.get(7)),
                port_kind=port_kind,
                port_descr=text(cols.get(8)) or None,
                sys_name=text(cols.get(9)) or None,
                sys_descr=text(cols.get(10)) or None,
                addresses=addresses.get(row[1:], []),
            )
        )
    return Lldp(
        chassis_id=identifier(loc_kind, scalar(walk, LOC_CHASSIS_ID)),
        chassis_kind=loc_kind,
        sys_name=text(scalar(walk, LOC_SYS_NAME)) or None,
        ports=ports,
        neighbours=neighbours,
    )


def _management_addresses(walk: Walk) -> dict[Oid, list[str]]:
    """``(localPort, remIndex)`` → IP addresses, from lldpRemManAddrTable's index.

    The index is ``timeMark.localPort.remIndex.subtype.length.octets…``; subtypes other
    than IPv4 (1) and IPv6 (2), such as a MAC (6), are not management IPs and are skipped.
    """
    found: dict[Oid, list[str]] = {}
    for row in table(walk, REM_MAN_ADDR_ENTRY):
        if len(row) < 6:
            continue
        subtype, length, octets = row[3], row[4], row[5:]
        if subtype not in (1, 2) or length != len(octets) or length not in (4, 16):
            continue
        if any(not 0 <= x <= 255 for x in octets):
            continue
        address = str(ipaddress.ip_address(bytes(octets)))
        key = row[1:3]
        if address not in found.setdefault(key, []):
            found[key].append(address)
    return found
