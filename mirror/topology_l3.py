"""The L3 view of the topology: subnets, the nodes in each, and their gateways. Pure.

A node is *in* a subnet when its address is. A *gateway* of a subnet is an SNMP device
with an address in it whose ARP table holds entries of that subnet (it routes for it: a
router, or an L3 switch); ``arp`` counts those entries. Subnets come from the inventory.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class SubnetInput:
    name: str
    cidr: str


@dataclass(frozen=True, slots=True)
class L3Node:
    name: str
    kind: str  # "host" or "snmp"
    address: str | None
    info: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Subnet:
    id: str  # "subnet:NAME"
    name: str
    cidr: str
    members: list[str]  # node names whose address is in it, gateways included
    gateways: list[str]
    arp: int  # ARP entries in this subnet, all gateways together


def _ip(value: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def subnets(declared: Iterable[SubnetInput], nodes: Iterable[L3Node]) -> list[Subnet]:
    node_list = list(nodes)
    out = []
    for subnet in declared:
        try:
            net = ipaddress.ip_network(subnet.cidr, strict=False)
        except ValueError:
            continue
        members, gateways, arp = [], [], 0
        for node in node_list:
            ip = _ip(node.address)
            if ip is None or ip not in net:
                continue
            members.append(node.name)
            if node.kind != "snmp":
                continue
            entries = [e for e in node.info.get("arp") or [] if (_ip(e.get("ip")) or 0) in net]
            if entries:
                gateways.append(node.name)
                arp += len(entries)
        out.append(Subnet(f"subnet:{subnet.name}", subnet.name, str(net), members, gateways, arp))
    return out
