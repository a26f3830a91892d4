"""The mirror world: ``GET /api/world`` for the 3D room, the cable check, and placement edits.

Reads are for every signed-in user. Edits (move a device or a rack, add, remove or relabel a
cable) are for admins: each goes through the inventory writer (round-trip YAML, comments
kept, audited) inside the running EGO's reloader, so the file is validated as a whole and
re-read at once; a refused edit answers 422 with ``file:line`` problems, a file changed since
the page read it (``expect``: the ``version`` GET gave) 409, no poller 503.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from api.admin import require_admin
from api.inventory_admin import Conflict, Unprocessable, _refused, _running
from mirror.audit import AuditLog
from mirror.auth import Identity
from mirror.cables import finding_line
from mirror.inventory import InventoryError
from mirror.inventory.current import CurrentInventory
from mirror.inventory.edits import Edit, EditRefused
from mirror.inventory.placement_edits import (
    AddCable,
    MoveDevice,
    MoveRack,
    RemoveCable,
    SetCableLabel,
)
from mirror.inventory.reload import InventoryReloader
from mirror.inventory.writer import ChangedOnDisk, InventoryWriter
from mirror.world import World, build_world, check_cables

if TYPE_CHECKING:
    from mirror.alerts.service import AlertService
    from mirror.storage.reader import StoreReader


class WorldService:
    def __init__(
        self,
        store: StoreReader,
        current: CurrentInventory,
        alerts: AlertService | None,
        reloader: InventoryReloader | None,
    ) -> None:
        self._store = store
        self._current = current
        self._alerts = alerts
        self._reloader = reloader

    async def world(self) -> World:
        firing: Counter[str] = Counter()
        if self._alerts is not None:
            for alert in await self._alerts.list("active", None, 1000):
                if alert.get("status") == "firing":
                    firing[str(alert.get("target"))] += 1
        rows = await asyncio.to_thread(self._store.host_rows)
        version = None
        if self._reloader is not None:
            path = self._reloader.path
            version = (await asyncio.to_thread(InventoryWriter(path).read)).version
        return build_world(self._current.get(), rows, firing, version)

    def cable_check(self) -> dict[str, Any]:
        inventory = self._current.get()
        checked = check_cables(inventory, self._store.host_rows())
        return {
            "drift": checked.drift,
            "cables": checked.cables,
            "findings": checked.findings,
            "lines": [finding_line(f, inventory.where) for f in checked.findings],
        }


class End(msgspec.Struct, forbid_unknown_fields=True):
    node: str
    port: str | None = None


class DeviceMove(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    rack: str | None = None
    u: int | None = None
    height_u: int | None = None
    place: str | None = None
    expect: str | None = None  # the version GET /api/world gave


class RackMove(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    x: float
    y: float
    rotation: float | None = None
    expect: str | None = None


class NewCable(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    a: End
    b: End
    label: str | None = None
    type: str | None = None
    colour: str | None = None
    expect: str | None = None


class CableLabel(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    label: str | None
    expect: str | None = None


async def _edit(
    request: Request[Identity, Any, Any],
    reloader: InventoryReloader | None,
    audit: AuditLog,
    edits: Sequence[Edit],
    expect: str | None,
) -> dict[str, Any]:
    running = _running(reloader)
    who = request.user

    def edit(path: Any) -> list[str]:
        writer = InventoryWriter(path, audit)
        written = writer.write(edits, actor=who.name, via=who.via, expect=expect)
        return list(written.edits)

    try:
        done, result = await running.edit_and_reload(edit, who.name, who.via)
    except EditRefused as exc:
        first = str(exc.problems[0]) if exc.problems else "the inventory would be invalid"
        raise Unprocessable(
            f"nothing written: {first}", {"problems": [str(p) for p in exc.problems]}
        ) from None
    except InventoryError as exc:
        raise _refused(exc, running) from None
    except ChangedOnDisk as exc:
        raise Conflict(str(exc), {"hint": exc.hint}) from None
    return {"edits": done, "reload": result.as_dict()}


class WorldController(Controller):
    path = "/api/world"
    tags = ["world"]  # noqa: RUF012 - Litestar reads this class attribute as is

    @get("/")
    async def world(self, world: NamedDependency[WorldService]) -> World:
        """Sites, rooms, racks and places; each device's state, CPU and firing alerts; the
        declared cables with their check against LLDP and the MAC tables."""
        return await world.world()

    @get("/cables/check", sync_to_thread=True)
    def cables_check(self, world: NamedDependency[WorldService]) -> dict[str, Any]:
        """Declared cables against LLDP and MAC-table learning: each cable's status and one
        finding per drift (wrong-port, unknown-port, not-seen, not-documented)."""
        return world.cable_check()

    @put("/devices/{name:str}", guards=[require_admin])
    async def move_device(
        self,
        request: Request[Identity, Any, Any],
        name: FromPath[str],
        data: JSONBody[DeviceMove],
        reloader: NamedDependency[InventoryReloader | None],
        audit: NamedDependency[AuditLog],
    ) -> dict[str, Any]:
        """Put a device into a rack at a U, or at a place (admins)."""
        edit = MoveDevice(name, data.rack, data.u, data.height_u, data.place)
        return await _edit(request, reloader, audit, [edit], data.expect)

    @put("/racks/{name:str}", guards=[require_admin])
    async def move_rack(
        self,
        request: Request[Identity, Any, Any],
        name: FromPath[str],
        data: JSONBody[RackMove],
        reloader: NamedDependency[InventoryReloader | None],
        audit: NamedDependency[AuditLog],
    ) -> dict[str, Any]:
        """Move (and turn) a rack in its room (admins)."""
        edit = MoveRack(name, data.x, data.y, data.rotation)
        return await _edit(request, reloader, audit, [edit], data.expect)

    @post("/cables", guards=[require_admin], status_code=201)
    async def add_cable(
        self,
        request: Request[Identity, Any, Any],
        data: JSONBody[NewCable],
        reloader: NamedDependency[InventoryReloader | None],
        audit: NamedDependency[AuditLog],
    ) -> dict[str, Any]:
        """Declare a cable between two ports (admins)."""
        entry: dict[str, Any] = {
            "a": {k: v for k, v in msgspec.structs.asdict(data.a).items() if v is not None},
            "b": {k: v for k, v in msgspec.structs.asdict(data.b).items() if v is not None},
        }
        for key in ("label", "type", "colour"):
            if getattr(data, key) is not None:
                entry[key] = getattr(data, key)
        return await _edit(request, reloader, audit, [AddCable(entry)], data.expect)

    @put("/cables/{index:int}", guards=[require_admin])
    async def label_cable(
        self,
        request: Request[Identity, Any, Any],
        index: FromPath[int],
        data: JSONBody[CableLabel],
        reloader: NamedDependency[InventoryReloader | None],
        audit: NamedDependency[AuditLog],
    ) -> dict[str, Any]:
        """Rename a cable's label (null removes it; admins)."""
        edit = SetCableLabel(index, data.label)
        return await _edit(request, reloader, audit, [edit], data.expect)

    @delete("/cables/{index:int}", guards=[require_admin], status_code=200)
    async def remove_cable(
        self,
        request: Request[Identity, Any, Any],
        index: FromPath[int],
        reloader: NamedDependency[InventoryReloader | None],
        audit: NamedDependency[AuditLog],
        expect: Annotated[
            str | None, QueryParameter(description="the version GET /api/world gave")
        ] = None,
    ) -> dict[str, Any]:
        """Remove a declared cable by its number in ``cables:`` (admins)."""
        return await _edit(request, reloader, audit, [RemoveCable(index)], expect)
