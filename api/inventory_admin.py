"""Inventory routes for admins: reload ``inventory.yaml`` and adopt a discovered address.

Both go through the running EGO's ``InventoryReloader`` (``mirror.inventory.reload``): a file with
problems changes nothing and answers 422 with each problem as ``file:line field: message``.
Adopt edits the file with the code of ``mirror adopt`` (the inventory writer: the owner's
comments stay, the change is audited), then reloads, under the reloader's lock; a file changed
underneath the edit answers 409 and is left as it is. Without a poller (an app built by a
test, or the API alone) there is nothing to reload: 503.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import anyio
import msgspec
from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import (
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from api.admin import require_admin
from api.errors import ApiError, BadRequest
from api.network import NetworkService
from mirror.audit import AuditLog
from mirror.auth import Identity
from mirror.inventory import InventoryError, check_file
from mirror.inventory.adopt import NotAdopted, adopt_host
from mirror.inventory.reload import InventoryReloader
from mirror.inventory.writer import ChangedOnDisk


class Unprocessable(ApiError):
    status_code = HTTP_422_UNPROCESSABLE_ENTITY


class Conflict(ApiError):
    status_code = HTTP_409_CONFLICT


class NoReloader(ApiError):
    status_code = HTTP_503_SERVICE_UNAVAILABLE


class AdoptRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: str
    mac: str | None = None  # default: the MAC the sweep saw for this address, if any
    groups: list[str] = msgspec.field(default_factory=list)
    tags: list[str] = msgspec.field(default_factory=list)


@post(
    "/api/admin/inventory/reload",
    guards=[require_admin],
    status_code=200,
    tags=["admin"],
)
async def reload_inventory(
    request: Request[Identity, Any, Any],
    reloader: NamedDependency[InventoryReloader | None],
) -> dict[str, Any]:
    """Re-read the inventory file: hosts added, removed, changed (restarted) and updated."""
    running = _running(reloader)
    try:
        result = await running.reload(request.user.name, request.user.via)
    except InventoryError as exc:
        raise _refused(exc, running) from None
    return result.as_dict()


@post(
    "/api/discovered/{address:str}/adopt",
    guards=[require_admin],
    status_code=201,
    tags=["admin"],
)
async def adopt_discovered(
    request: Request[Identity, Any, Any],
    address: FromPath[str],
    data: JSONBody[AdoptRequest],
    reloader: NamedDependency[InventoryReloader | None],
    network: NamedDependency[NetworkService],
    audit: NamedDependency[AuditLog],
) -> dict[str, Any]:
    """Add the address to the inventory file as host ``name`` (as `mirror adopt`), then reload."""
    running = _running(reloader)
    try:
        ip = str(ipaddress.ip_address(address))
    except ValueError:
        raise BadRequest(f"{address!r} is not an IP address") from None
    owner = running.current.get().known_addresses().get(ip)
    if owner is not None:
        raise Conflict(f"{ip} is already in the inventory (as {owner!r})")
    mac = data.mac
    if mac is None:
        seen = (await anyio.to_thread.run_sync(network.pings)).get(ip)
        mac = seen.mac if seen is not None else None

    who = request.user

    def edit(path: Any) -> None:
        # As `mirror adopt`: a file that is broken already is fixed by hand first.
        problems = check_file(path)
        if problems:
            raise InventoryError(problems)
        fields: dict[str, Any] = {"mac": mac, "groups": data.groups, "tags": data.tags}
        adopt_host(path, data.name, ip, **fields, actor=who.name, via=who.via, audit=audit)

    try:
        _, result = await running.edit_and_reload(edit, who.name, who.via)
    except NotAdopted as exc:  # the new entry would make the file invalid
        raise Unprocessable(
            str(exc).splitlines()[0], {"problems": [str(p) for p in exc.problems]}
        ) from None
    except InventoryError as exc:
        raise _refused(exc, running) from None
    except ChangedOnDisk as exc:
        raise Conflict(str(exc), {"hint": exc.hint}) from None
    return {"address": ip, "name": data.name, "mac": mac, "reload": result.as_dict()}


def _running(reloader: InventoryReloader | None) -> InventoryReloader:
    if reloader is None:
        raise NoReloader("the inventory is reloaded by the poller: run `mirror serve`")
    return reloader


def _refused(exc: InventoryError, reloader: InventoryReloader) -> Unprocessable:
    return Unprocessable(
        f"{reloader.path} has {len(exc.problems)} problem(s); the running inventory stays",
        {"problems": [str(p) for p in exc.problems]},
    )
