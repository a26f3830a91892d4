"""Keep an inventory on loopback: what `mirror demo` (and any EGO with ``loopback_only``)
accepts on a reload.

The demo's promise is that it sends traffic to 127.0.0.0/8 only. Its generated inventory
keeps it, but the file is the user's to edit, and a reload applies what the file says: a
host given by name would be looked up in DNS, a LAN address would be polled. So in that
mode an address must be a 127.x literal (no name, so no lookup) and a subnet must lie
inside 127.0.0.0/8; anything else refuses the reload, the running inventory stays.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from mirror.inventory.models import HostEntry, Inventory, SnmpEntry
from mirror.inventory.problems import Problem

LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")


def _on_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address) in LOOPBACK
    except ValueError:  # a name: resolving it is already traffic off the machine
        return False


def off_loopback(inventory: Inventory, source: str) -> list[Problem]:
    """Every host, SNMP device or subnet of ``inventory`` that is not on 127.0.0.0/8."""
    problems: list[Problem] = []
    sections: list[tuple[str, Sequence[HostEntry | SnmpEntry]]] = [
        ("hosts", inventory.hosts),
        ("snmp", inventory.snmp),
    ]
    for section, entries in sections:
        for i, entry in enumerate(entries):
            if not _on_loopback(entry.address):
                problems.append(
                    Problem(
                        source,
                        None,
                        f"{section}[{i}].address",
                        f"{entry.address!r}: this EGO polls loopback (127.0.0.0/8) addresses "
                        "only, given as numbers (a name would be looked up in DNS)",
                    )
                )
    for i, subnet in enumerate(inventory.subnets):
        cidr = subnet.cidr
        if not (isinstance(cidr, ipaddress.IPv4Network) and cidr.subnet_of(LOOPBACK)):
            problems.append(
                Problem(
                    source,
                    None,
                    f"subnets[{i}].cidr",
                    f"{subnet.cidr}: this EGO sweeps subnets inside 127.0.0.0/8 only",
                )
            )
    return problems
