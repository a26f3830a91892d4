"""The mirror world: placement, each device's live state, cables and their check. Pure.

``nodes`` turns the inventory and the stored host rows into the topology's inputs (what
``/api/topology``, ``/api/world`` and ``mirror cables check`` all read); ``build_world``
joins them with ``sites:`` and the cable check into one answer for the 3D room.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mirror.cables import CableCheck, Finding, check, node_ports
from mirror.inventory.models import Inventory
from mirror.inventory.placement import Site, spots
from mirror.model import HostState
from mirror.topology import CableInput, NodeInput

if TYPE_CHECKING:
    from mirror.storage.store import HostRow


def nodes(inventory: Inventory, rows: Iterable[HostRow]) -> list[NodeInput]:
    """Every inventory host and SNMP device with its stored state, tables and metrics."""
    by_name = {row.name: row for row in rows}
    entries: list[tuple[str, str, str, str | None]] = [
        ("host", h.name, h.address, h.mac) for h in inventory.hosts_resolved()
    ]
    entries += [("snmp", d.name, d.address, d.mac) for d in inventory.snmp_resolved()]
    out = []
    for kind, name, address, mac in entries:
        row = by_name.get(name)
        out.append(
            NodeInput(
                name=name,
                kind=kind,
                address=address,
                mac=mac,
                state=str(row.state) if row is not None else HostState.PENDING.value,
                info=row.info if row is not None else {},
                metrics=row.metrics if row is not None else {},
            )
        )
    return out


def cable_inputs(inventory: Inventory) -> list[CableInput]:
    return [
        CableInput((c.a.node, c.a.port), (c.b.node, c.b.port), c.label) for c in inventory.cables
    ]


def check_cables(inventory: Inventory, rows: Iterable[HostRow]) -> CableCheck:
    return check(cable_inputs(inventory), nodes(inventory, rows))


@dataclass(frozen=True, slots=True)
class WorldDevice:
    name: str
    kind: str  # host or snmp
    address: str
    state: str
    cpu_pct: float | None  # for the heat mode
    alerts_firing: int
    ports: list[str]
    placed: bool


@dataclass(frozen=True, slots=True)
class WorldCable:
    index: int
    label: str | None
    type: str | None
    colour: str | None
    a: dict[str, str | None]
    b: dict[str, str | None]
    status: str  # ok, unchecked, wrong-port, unknown-port, not-seen
    message: str
    where: str  # file:line of the cable


@dataclass(frozen=True, slots=True)
class World:
    sites: list[Site]
    devices: list[WorldDevice]
    cables: list[WorldCable]
    findings: list[Finding]
    source: str
    version: str | None  # the inventory file's sha256: pass back as ``expect`` on edits


CPU_METRIC = "cpu.busy_pct"


def build_world(
    inventory: Inventory,
    rows: Iterable[HostRow],
    firing: Mapping[str, int] | None = None,
    version: str | None = None,
) -> World:
    inputs = nodes(inventory, rows)
    checked = check(cable_inputs(inventory), inputs)
    placed = spots(inventory.sites)
    devices = [
        WorldDevice(
            name=n.name,
            kind=n.kind,
            address=n.address or "",
            state=n.state,
            cpu_pct=n.metrics.get(CPU_METRIC),
            alerts_firing=(firing or {}).get(n.name, 0),
            ports=sorted(node_ports(n)),
            placed=n.name in placed,
        )
        for n in inputs
    ]
    cables = [
        WorldCable(
            index=i,
            label=c.label,
            type=c.type,
            colour=c.colour,
            a={"node": c.a.node, "port": c.a.port},
            b={"node": c.b.node, "port": c.b.port},
            status=checked.cables[i].status,
            message=checked.cables[i].message,
            where=inventory.where(("cables", i)),
        )
        for i, c in enumerate(inventory.cables)
    ]
    return World(inventory.sites, devices, cables, checked.findings, inventory.source, version)
