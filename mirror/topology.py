"""The topology model: nodes and links from LLDP, MAC tables + ARP, and declared cables. Pure.

The poller stores each SNMP device's tables as its snapshot ``info`` (see
``collectors.snmp.device.info``); the API reads them back with the latest metrics and calls
:func:`build`. Rules:

* **LLDP**: a neighbour row on device D, port P is a link D:P — N:Q, where N is the known
  node whose MAC (inventory ``mac``, an interface MAC, the LLDP chassis ID), address or
  name matches; an unknown neighbour becomes a ``discovered`` node named after its
  sysName or chassis ID. Both ends seeing each other make one link.
* **FDB + ARP**: a host's MAC is its inventory ``mac``, else what any device's ARP table
  gives for its address. It is placed on the switch port where that MAC was learnt which
  carries the fewest MACs (an access port, not an uplink), skipping ports that already
  lead to another switch by LLDP. Hosts already linked by LLDP or a cable are not placed.
* **Cables** from the inventory are always links; a cable matching a discovered link
  merges into it (its label kept, sources listed).
* **Utilisation**: a link end on a node with ``net.*[port]`` series carries them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mirror.model import series_name


@dataclass(frozen=True, slots=True)
class NodeInput:
    """What the topology needs of one inventory host or SNMP device."""

    name: str
    kind: str  # "host" or "snmp"
    address: str | None
    mac: str | None
    state: str
    info: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CableInput:
    a: tuple[str, str | None]  # (node, port)
    b: tuple[str, str | None]
    label: str | None


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    kind: str  # host, snmp, or discovered (seen by LLDP only)
    address: str | None
    mac: str | None
    state: str
    label: str


@dataclass(frozen=True, slots=True)
class End:
    node: str
    port: str | None


@dataclass(frozen=True, slots=True)
class Utilisation:
    node: str  # the end whose port counters these are
    port: str
    rx_bytes_per_s: float | None
    tx_bytes_per_s: float | None
    util_pct: float | None
    speed_bps: float | None
    oper_up: bool | None


@dataclass(frozen=True, slots=True)
class Link:
    id: str
    a: End
    b: End
    sources: list[str]  # lldp, fdb, cable
    label: str | None
    utilisation: Utilisation | None


@dataclass(frozen=True, slots=True)
class Topology:
    nodes: list[Node]
    links: list[Link]


@dataclass
class _Draft:
    a: End
    b: End
    sources: list[str]
    label: str | None = None


def _norm_mac(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    digits = value.lower().replace(":", "").replace("-", "").replace(".", "")
    if len(digits) != 12 or any(c not in "0123456789abcdef" for c in digits):
        return None
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


class _Index:
    """Which node a MAC, an address or a name belongs to."""

    def __init__(self, nodes: list[NodeInput]) -> None:
        self.by_mac: dict[str, str] = {}
        self.by_address: dict[str, str] = {}
        self.by_name: dict[str, str] = {}
        for node in nodes:
            self.by_name[node.name.lower()] = node.name
            if node.address:
                self.by_address[node.address] = node.name
            macs = [node.mac]
            if node.kind == "snmp":
                macs += [i.get("mac") for i in node.info.get("interfaces", [])]
                macs.append(node.info.get("lldp", {}).get("chassis_id"))
                sys_name = (node.info.get("system") or {}).get("name")
                if isinstance(sys_name, str) and sys_name and sys_name != "<private>":
                    self.by_name.setdefault(sys_name.lower(), node.name)
            for mac in filter(None, map(_norm_mac, macs)):
                self.by_mac.setdefault(mac, node.name)

    def neighbour(self, row: Mapping[str, Any]) -> str | None:
        for key in ("chassis_id", "port_id"):
            mac = _norm_mac(row.get(key))
            if mac in self.by_mac:
                return self.by_mac[mac]
        for address in row.get("addresses") or []:
            if address in self.by_address:
                return self.by_address[address]
        name = row.get("sys_name")
        if isinstance(name, str):
            return self.by_name.get(name.lower()) or self.by_name.get(name.split(".")[0].lower())
        return None


def build(nodes: Iterable[NodeInput], cables: Iterable[CableInput] = ()) -> Topology:
    inputs = list(nodes)
    index = _Index(inputs)
    by_name = {n.name: n for n in inputs}
    out_nodes = {n.name: Node(n.name, n.kind, n.address, n.mac, n.state, n.name) for n in inputs}
    drafts: dict[frozenset[tuple[str, str | None]], _Draft] = {}
    device_ports: set[tuple[str, str]] = set()  # ports that lead to another known device

    def add(a: End, b: End, source: str, label: str | None = None) -> None:
        key = frozenset({(a.node, a.port), (b.node, b.port)})
        loose = _find_loose(drafts, a, b)
        draft = drafts.get(key) or loose
        if draft is None:
            drafts[key] = _Draft(a, b, [source], label)
            return
        if source not in draft.sources:
            draft.sources.append(source)
        draft.label = draft.label or label
        # A discovered end without a port learns it from the other view.
        draft.a = _better(draft.a, a if a.node == draft.a.node else b)
        draft.b = _better(draft.b, b if b.node == draft.b.node else a)

    for node in inputs:
        for row in node.info.get("lldp", {}).get("neighbours", []) if node.kind == "snmp" else []:
            remote = index.neighbour(row)
            if remote is None:
                remote = _discovered_id(row)
                if remote is None:
                    continue
                if remote not in out_nodes:
                    label = row.get("sys_name") or row.get("chassis_id") or remote
                    mac = _norm_mac(row.get("chassis_id"))
                    out_nodes[remote] = Node(remote, "discovered", None, mac, "unknown", label)
            if remote == node.name:
                continue
            local_port = row.get("local_port")
            if remote in by_name and by_name[remote].kind == "snmp":
                device_ports.add((node.name, local_port))
            remote_port = _port_on(by_name.get(remote), _remote_port(row), row)
            add(End(node.name, local_port), End(remote, remote_port), "lldp")

    linked = {end.node for d in drafts.values() for end in (d.a, d.b)}  # by LLDP
    for cable in cables:
        if cable.a[0] in out_nodes and cable.b[0] in out_nodes:
            add(End(*cable.a), End(*cable.b), "cable", cable.label)
    # After the cables: where the switch learnt a cabled host's MAC on the documented port,
    # the cable gains "fdb" (seen); on another port, a second link shows where it really is.
    _place_by_fdb(inputs, linked, device_ports, add)

    links = [
        Link(
            id=f"{d.a.node}:{d.a.port or ''}--{d.b.node}:{d.b.port or ''}",
            a=d.a,
            b=d.b,
            sources=d.sources,
            label=d.label,
            utilisation=_link_utilisation(d, by_name),
        )
        for d in drafts.values()
    ]
    links.sort(key=lambda link: link.id)
    return Topology(nodes=list(out_nodes.values()), links=links)


def _better(old: End, new: End) -> End:
    return new if old.port is None and new.port is not None else old


def _find_loose(
    drafts: Mapping[frozenset[tuple[str, str | None]], _Draft], a: End, b: End
) -> _Draft | None:
    """A draft between the same two nodes whose ports agree where both are known."""
    for draft in drafts.values():
        pairs = (
            ((draft.a, a), (draft.b, b)) if draft.a.node == a.node else ((draft.a, b), (draft.b, a))
        )
        if {draft.a.node, draft.b.node} != {a.node, b.node}:
            continue
        if all(x.port is None or y.port is None or x.port == y.port for x, y in pairs):
            return draft
    return None


def _discovered_id(row: Mapping[str, Any]) -> str | None:
    name = row.get("sys_name")
    mac = _norm_mac(row.get("chassis_id"))
    if mac:
        return f"lldp:{mac}"
    if isinstance(name, str) and name:
        return f"lldp:{name}"
    chassis = row.get("chassis_id")
    return f"lldp:{chassis}" if isinstance(chassis, str) and chassis else None


def _remote_port(row: Mapping[str, Any]) -> str | None:
    if row.get("port_kind") in ("interface-name", "local", "interface-alias"):
        return row.get("port_id")
    return row.get("port_descr") or row.get("port_id")


def _port_on(node: NodeInput | None, port: str | None, row: Mapping[str, Any]) -> str | None:
    """The remote port as that device names it (its ifName), when it is a polled device."""
    if node is None or node.kind != "snmp":
        return port
    wanted = {str(v) for v in (port, row.get("port_id"), row.get("port_descr")) if v}
    mac = _norm_mac(row.get("port_id"))
    for iface in node.info.get("interfaces", []):
        names = {str(iface.get(k)) for k in ("name", "descr", "alias") if iface.get(k)}
        if names & wanted or (mac is not None and _norm_mac(iface.get("mac")) == mac):
            return str(iface.get("name"))
    return port


def _place_by_fdb(
    inputs: list[NodeInput], linked: set[str], device_ports: set[tuple[str, str]], add: Any
) -> None:
    arp: dict[str, str] = {}
    for node in inputs:
        for entry in node.info.get("arp", []) if node.kind == "snmp" else []:
            mac = _norm_mac(entry.get("mac"))
            if mac and isinstance(entry.get("ip"), str):
                arp.setdefault(entry["ip"], mac)
    learnt: dict[str, list[tuple[str, str]]] = defaultdict(list)  # mac → [(switch, port)]
    port_load: dict[tuple[str, str], int] = defaultdict(int)
    for node in inputs:
        for entry in node.info.get("fdb", []) if node.kind == "snmp" else []:
            mac, port = _norm_mac(entry.get("mac")), entry.get("port")
            if mac and isinstance(port, str):
                learnt[mac].append((node.name, port))
                port_load[(node.name, port)] += 1
    for node in inputs:
        if node.name in linked:
            continue
        mac = _norm_mac(node.mac) or (arp.get(node.address) if node.address else None)
        places = [
            p for p in learnt.get(mac or "", []) if p not in device_ports and p[0] != node.name
        ]
        if not places:
            continue
        switch, port = min(places, key=lambda p: (port_load[p], p))
        add(End(switch, port), End(node.name, None), "fdb")


def _link_utilisation(draft: _Draft, by_name: Mapping[str, NodeInput]) -> Utilisation | None:
    """The switch's view of the port first (it has the speed and state; a host's own
    interface counters are the fallback), whichever end the link was declared from."""
    ends = sorted(
        (draft.a, draft.b), key=lambda e: getattr(by_name.get(e.node), "kind", "") != "snmp"
    )
    for end in ends:
        found = _utilisation(end, by_name)
        if found is not None:
            return found
    return None


def _utilisation(end: End, by_name: Mapping[str, NodeInput]) -> Utilisation | None:
    node = by_name.get(end.node)
    if node is None or end.port is None:
        return None
    m = node.metrics

    def get(metric: str) -> float | None:
        return m.get(series_name(metric, end.port))

    rx, tx = get("net.rx_bytes_per_s"), get("net.tx_bytes_per_s")
    oper = get("net.oper_up")
    if rx is None and tx is None and oper is None:
        return None
    return Utilisation(
        node=end.node,
        port=end.port,
        rx_bytes_per_s=rx,
        tx_bytes_per_s=tx,
        util_pct=get("net.util_pct"),
        speed_bps=get("net.speed_bps"),
        oper_up=None if oper is None else oper >= 1,
    )
