"""The discovered page (admins): the sweep's new addresses with their MAC vendor (a local OUI
table, ``mirror.oui``: no lookups), reverse name and ping, and "ignore" / "show again".
Adopting goes through ``POST /api/discovered/{address}/adopt`` (``api.inventory_admin``)."""

from __future__ import annotations

import ipaddress
from typing import Any

import anyio
import msgspec
from litestar import Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from api.admin import audit_as, require_admin
from api.errors import BadRequest, NotFound
from api.network import NetworkService
from api.settings_view import NotKnown
from mirror.audit import AuditLog
from mirror.auth import Identity
from mirror.errors import ConfigError
from mirror.ignored import FILE_NAME, IgnoredAddresses
from mirror.oui import vendor
from mirror.settings import Settings


def _ignored(settings: Settings | None) -> IgnoredAddresses:
    if settings is None:
        raise NotKnown("this API was started without EGO's settings (run `mirror serve`)")
    return IgnoredAddresses(settings.data_dir / FILE_NAME)


def _address(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        raise BadRequest(f"{address!r} is not an IP address") from None


@get("/api/admin/discovered", guards=[require_admin], tags=["admin"])
async def discovered_details(
    network: NamedDependency[NetworkService], settings: NamedDependency[Settings | None]
) -> list[dict[str, Any]]:
    """``/api/discovered`` with each address's MAC ``vendor`` and whether it is ``ignored``."""
    store = _ignored(settings)

    def listing() -> list[dict[str, Any]]:
        try:
            ignored = store.load()
        except ConfigError as exc:
            raise BadRequest(str(exc)) from None
        return [
            {
                **msgspec.structs.asdict(d),
                "vendor": vendor(d.mac),
                "ignored": ignored.get(d.address),
            }
            for d in network.discovered()
        ]

    return await anyio.to_thread.run_sync(listing)


@post(
    "/api/admin/discovered/{address:str}/ignore",
    guards=[require_admin],
    status_code=200,
    tags=["admin"],
)
async def ignore_address(
    request: Request[Identity, Any, Any],
    address: FromPath[str],
    settings: NamedDependency[Settings | None],
    audit: NamedDependency[AuditLog],
) -> dict[str, Any]:
    """Hide the address from the discovered list (it stays in the sweep's results)."""
    ip, store = _address(address), _ignored(settings)
    try:
        entry = await anyio.to_thread.run_sync(store.add, ip, request.user.name)
    except ConfigError as exc:
        raise BadRequest(str(exc)) from None
    await audit_as(audit, request.user, "discovered.ignore", ip, None, "ignored")
    return {"address": ip, "ignored": entry}


@delete(
    "/api/admin/discovered/{address:str}/ignore",
    guards=[require_admin],
    status_code=200,
    tags=["admin"],
)
async def show_address_again(
    request: Request[Identity, Any, Any],
    address: FromPath[str],
    settings: NamedDependency[Settings | None],
    audit: NamedDependency[AuditLog],
) -> dict[str, Any]:
    ip, store = _address(address), _ignored(settings)
    try:
        found = await anyio.to_thread.run_sync(store.remove, ip)
    except ConfigError as exc:
        raise BadRequest(str(exc)) from None
    if not found:
        raise NotFound(f"{ip} is not ignored")
    await audit_as(audit, request.user, "discovered.unignore", ip, None, "shown again")
    return {"address": ip, "ignored": None}


ROUTES = [discovered_details, ignore_address, show_address_again]
