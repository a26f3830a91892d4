"""GET /api/topology: nodes and links for the 2D/3D views, from storage and the inventory.

The poller stores each SNMP device's LLDP, FDB and ARP tables as its snapshot info; this
reads them back with the latest series and hands them to the pure ``mirror.topology``
(links) and ``mirror.topology_l3`` (subnets and gateways). The map's pinned positions:
GET/PUT /api/topology/pins (``mirror.topology_pins``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import anyio
import msgspec
from litestar import Request, get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from api.control import record, require_operate
from api.errors import BadRequest
from mirror.auth import Identity
from mirror.inventory.current import CurrentInventory, as_current
from mirror.topology import Link, Node, build
from mirror.topology_l3 import L3Node, Subnet, SubnetInput, subnets
from mirror.topology_pins import LAYERS, BadPin, TopologyPins
from mirror.world import cable_inputs
from mirror.world import nodes as world_nodes

if TYPE_CHECKING:
    from mirror.inventory import Inventory
    from mirror.storage.reader import StoreReader


@dataclass(frozen=True, slots=True)
class Topology:
    nodes: list[Node]
    links: list[Link]
    subnets: list[Subnet]  # the L3 view: inventory subnets, their members and gateways


class TopologyService:
    def __init__(
        self, store: StoreReader, inventory: Inventory | CurrentInventory, pins: TopologyPins
    ) -> None:
        self._store = store
        self._current = as_current(inventory)
        self.pins = pins

    @property
    def _inventory(self) -> Inventory:
        return self._current.get()  # a reload swaps it while EGO runs

    def topology(self) -> Topology:
        nodes = world_nodes(self._inventory, self._store.host_rows())
        cables = cable_inputs(self._inventory)
        graph = build(nodes, cables)
        l3 = subnets(
            [SubnetInput(s.name, str(s.cidr)) for s in self._inventory.subnets],
            [L3Node(n.name, n.kind, n.address, n.info) for n in nodes],
        )
        return Topology(nodes=graph.nodes, links=graph.links, subnets=l3)


@get("/api/topology", sync_to_thread=True, tags=["topology"])
def topology(topology: NamedDependency[TopologyService]) -> Topology:
    """Nodes (hosts, SNMP devices, LLDP-discovered neighbours) and links with their sources
    (``lldp``, ``fdb``, ``cable``), label, and the port counters behind each link; the
    inventory's subnets with their members and gateways (the L3 view)."""
    return topology.topology()


class Pins(msgspec.Struct, kw_only=True):
    layer: str
    pins: dict[str, tuple[float, float]]  # node → [x, y]


class PinChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    layer: str
    pins: dict[str, tuple[float, float] | None]  # null: unpin


@get("/api/topology/pins", sync_to_thread=True, tags=["topology"])
def get_pins(
    topology: NamedDependency[TopologyService],
    layer: Annotated[str, QueryParameter(description=f"one of {', '.join(LAYERS)}")],
) -> Pins:
    """Where nodes were pinned on the map's ``layer`` (the layout leaves them there)."""
    if layer not in LAYERS:
        raise BadRequest(f"unknown layer {layer!r} (one of {', '.join(LAYERS)})")
    return Pins(layer=layer, pins={n: (p.x, p.y) for n, p in topology.pins.get(layer).items()})


@put("/api/topology/pins", guards=[require_operate], tags=["topology"])
async def put_pins(
    request: Request[Identity, Any, Any],
    topology: NamedDependency[TopologyService],
    data: JSONBody[PinChange],
) -> Pins:
    """Operators: pin nodes at a position (``[x, y]``) or unpin them (``null``) on one layer;
    all or nothing. Audited (``topology.pin``) with the node names."""
    who = request.user
    try:
        saved = await anyio.to_thread.run_sync(
            lambda: topology.pins.change(data.layer, data.pins, who.name)
        )
    except BadPin as exc:
        raise BadRequest(str(exc)) from None
    detail = {
        "layer": data.layer,
        "pinned": sorted(n for n, p in data.pins.items() if p is not None)[:50],
        "unpinned": sorted(n for n, p in data.pins.items() if p is None)[:50],
    }
    await record(request, "topology.pin", None, detail, "ok")
    return Pins(layer=data.layer, pins={n: (p.x, p.y) for n, p in saved.items()})
