"""Declared cables against what the network says (LLDP neighbours, MAC-table learning). Pure.

The observed links are ``mirror.topology.build`` without the cables: LLDP rows and hosts
placed on the switch port their MAC was learnt on. Each declared cable is then:

* ``ok``: a link between the same two nodes, its ports agreeing wherever both are known;
* ``wrong-port``: a link between the same two nodes, but on another port (the cable is
  documented on Gi1/0/4 and the host's MAC is learnt on Gi1/0/3);
* ``unknown-port``: a port the node does not have, once its ports are known (an SNMP
  device's ifName, a host's interfaces from its series);
* ``not-seen``: no such link, although one end is a device whose LLDP or MAC table is read;
* ``unchecked``: neither end reads LLDP or a MAC table (two PCs, a switch not polled yet).

Links seen between two inventory nodes that no cable accounts for are ``not-documented``,
but only once the inventory declares any cable: a file without ``cables:`` documents no
cabling, and is not drift. Exact matches are taken before wrong ports, so a wrong cable
never takes the link another cable describes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from mirror.inventory.problems import Loc
from mirror.topology import CableInput, End, Link, NodeInput, build

DRIFT = ("wrong-port", "unknown-port", "not-seen", "not-documented")


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # one of DRIFT
    cable: int | None  # index in the inventory's cables; None for not-documented
    label: str | None
    declared: list[End] | None
    seen: list[End] | None
    sources: list[str]  # lldp, fdb: what saw the link
    message: str


@dataclass(frozen=True, slots=True)
class CableStatus:
    index: int
    status: str  # ok, unchecked, or a DRIFT kind
    seen: list[End] | None
    message: str


@dataclass(frozen=True, slots=True)
class CableCheck:
    cables: list[CableStatus]
    findings: list[Finding] = field(default_factory=list)

    @property
    def drift(self) -> bool:
        return bool(self.findings)


def node_ports(node: NodeInput) -> set[str]:
    """The ports a node is known to have: an SNMP device's interface names, a host's
    interfaces from its ``net.*[if]`` series; empty when not known yet."""
    if node.kind == "snmp":
        return {
            str(i["name"])
            for i in node.info.get("interfaces", [])
            if isinstance(i, Mapping) and i.get("name")
        }
    return {
        key[key.index("[") + 1 : -1]
        for key in node.metrics
        if key.startswith("net.") and "[" in key and key.endswith("]")
    }


def _watches(node: NodeInput) -> bool:
    """A device whose LLDP or MAC table has been read: it can confirm or refute a cable."""
    return node.kind == "snmp" and ("lldp" in node.info or "fdb" in node.info)


def _text(end: End) -> str:
    return f"{end.node}:{end.port}" if end.port else end.node


def _pair(a: End, b: End) -> str:
    return f"{_text(a)} — {_text(b)}"


def _agrees(link: Link, a: End, b: End) -> bool:
    ends = (link.a, link.b) if link.a.node == a.node else (link.b, link.a)
    pairs = zip(ends, (a, b), strict=True)
    return all(x.port is None or y.port is None or x.port == y.port for x, y in pairs)


def check(cables: Sequence[CableInput], nodes: Iterable[NodeInput]) -> CableCheck:
    inputs = list(nodes)
    by_name = {n.name: n for n in inputs}
    observed = [
        link
        for link in build(inputs, ()).links
        if link.a.node in by_name and link.b.node in by_name  # not LLDP-discovered strangers
    ]
    used: set[str] = set()
    status: dict[int, CableStatus] = {}
    findings: dict[int, Finding] = {}

    def between(cable: CableInput) -> list[Link]:
        nodes = {cable.a[0], cable.b[0]}
        return [x for x in observed if x.id not in used and {x.a.node, x.b.node} == nodes]

    def finding(i: int, kind: str, seen: Link | None, message: str) -> None:
        cable = cables[i]
        ends = [seen.a, seen.b] if seen is not None else None
        status[i] = CableStatus(i, kind, ends, message)
        declared = [End(*cable.a), End(*cable.b)]
        sources = list(seen.sources) if seen is not None else []
        findings[i] = Finding(kind, i, cable.label, declared, ends, sources, message)

    for i, cable in enumerate(cables):  # unknown ports first: they need no observation
        a, b = End(*cable.a), End(*cable.b)
        for end in (a, b):
            node = by_name.get(end.node)
            known = node_ports(node) if node is not None else set()
            if end.port is not None and known and end.port not in known:
                finding(i, "unknown-port", None, f"{end.node} has no port {end.port!r}")
                # The cable is still that link, documented with a wrong port name.
                same = sorted(between(cable), key=lambda x: not _agrees(x, a, b))
                used.update(x.id for x in same[:1])
                break
    for i, cable in enumerate(cables):  # exact matches before wrong ports
        if i in status:
            continue
        a, b = End(*cable.a), End(*cable.b)
        match = next((x for x in between(cable) if _agrees(x, a, b)), None)
        if match is not None:
            used.add(match.id)
            seen_by = "seen by " + "+".join(match.sources)
            status[i] = CableStatus(i, "ok", [match.a, match.b], seen_by)
    for i, cable in enumerate(cables):
        if i in status:
            continue
        a, b = End(*cable.a), End(*cable.b)
        other = between(cable)
        if other:
            used.add(other[0].id)
            seen = other[0]
            message = f"documented {_pair(a, b)}, seen {_pair(seen.a, seen.b)}"
            finding(i, "wrong-port", seen, message)
            continue
        watchers = [e.node for e in (a, b) if e.node in by_name and _watches(by_name[e.node])]
        if watchers:
            via = " and ".join(dict.fromkeys(watchers))
            message = f"{_pair(a, b)} is documented but not seen by the LLDP or MAC table of {via}"
            finding(i, "not-seen", None, message)
        else:
            message = "neither end reads LLDP or a MAC table: nothing can confirm it"
            status[i] = CableStatus(i, "unchecked", None, message)
    out = [findings[i] for i in sorted(findings)]
    if cables:
        for link in observed:
            if link.id in used:
                continue
            message = f"{_pair(link.a, link.b)} is seen (by {'+'.join(link.sources)}) "
            message += "but no cable documents it"
            out.append(Finding("not-documented", None, None, None, [link.a, link.b],
                               list(link.sources), message))  # fmt: skip
    return CableCheck([status[i] for i in range(len(cables))], out)


def finding_line(f: Finding, where: Callable[[Loc], str]) -> str:
    """One line per finding, as ``mirror cables check`` prints it: ``file:line`` first for a
    declared cable (``where`` gives it), then the kind and what differs."""
    if f.cable is None:
        return f"{f.kind}: {f.message}"
    label = f" {f.label!r}" if f.label else ""
    return f"{where(('cables', f.cable))} cables[{f.cable}]{label}: {f.kind}: {f.message}"
