"""GET /api/topology: nodes and links for the 2D/3D views, from storage and the inventory.

The poller stores each SNMP device's LLDP, FDB and ARP tables as its snapshot info; this
reads them back with the latest series and hands them to the pure ``mirror.topology``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import get
from litestar.di import NamedDependency

from mirror.inventory.current import CurrentInventory, as_current
from mirror.model import HostState
from mirror.topology import CableInput, NodeInput, Topology, build

if TYPE_CHECKING:
    from mirror.inventory import Inventory
    from mirror.storage.reader import StoreReader


class TopologyService:
    def __init__(self, store: StoreReader, inventory: Inventory | CurrentInventory) -> None:
        self._store = store
        self._current = as_current(inventory)

    @property
    def _inventory(self) -> Inventory:
        return self._current.get()  # a reload swaps it while EGO runs

    def topology(self) -> Topology:
        rows = {row.name: row for row in self._store.host_rows()}
        nodes = []
        entries: list[tuple[str, str, str, str | None]] = [
            ("host", h.name, h.address, h.mac) for h in self._inventory.hosts_resolved()
        ]
        entries += [("snmp", d.name, d.address, d.mac) for d in self._inventory.snmp_resolved()]
        for kind, name, address, mac in entries:
            row = rows.get(name)
            nodes.append(
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
        cables = [
            CableInput((c.a.node, c.a.port), (c.b.node, c.b.port), c.label)
            for c in self._inventory.cables
        ]
        return build(nodes, cables)


@get("/api/topology", sync_to_thread=True, tags=["topology"])
def topology(topology: NamedDependency[TopologyService]) -> Topology:
    """Nodes (hosts, SNMP devices, LLDP-discovered neighbours) and links with their sources
    (``lldp``, ``fdb``, ``cable``), label, and the port counters behind each link."""
    return topology.topology()
