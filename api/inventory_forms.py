"""The hosts & gear page's routes (admins): hosts, SNMP devices, groups and subnets, in the file.

``GET /api/admin/inventory`` gives each section's entries as written and the file's
``version`` (sha256). A save sends the entry and the version it was edited from; it goes
through the inventory writer (comments and layout kept, validated as ``mirror check``,
audited) and the reload by diff, under the reloader's lock. The file changed since the page
read it (an editor, another admin): 409, nothing written. A value ``mirror check`` refuses:
422 with each problem and, where it is about the edited entry, ``form_field`` (``ssh.port``)
for the page to show it next to that field.

"Test connection" logs in once with the settings the form has now (validated the same way,
not saved) through EGO's ``SetupActions`` (``poller.probe``); "trust new host key" shows the
recorded and offered fingerprints and records the offered one when the admin confirms it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Protocol, runtime_checkable

import anyio
import msgspec
from litestar import Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from api.admin import require_admin
from api.errors import ApiError, BadRequest, NotFound
from api.inventory_admin import Conflict, Unprocessable, _running
from mirror.audit import AuditLog
from mirror.auth import Identity
from mirror.errors import ConfigError, MirrorError
from mirror.inventory import HostConfig, Inventory, InventoryError
from mirror.inventory.edits import EditRefused
from mirror.inventory.forms import (
    SECTIONS,
    Section,
    edits_for,
    entries,
    find,
    form_field,
    removal,
    where,
)
from mirror.inventory.problems import Problem
from mirror.inventory.reload import InventoryReloader
from mirror.inventory.writer import ChangedOnDisk, InventoryWriter, version_of
from mirror.inventory.yamlfile import parse_inventory

ACTION = "inventory.form"


@runtime_checkable
class SetupActions(Protocol):
    """What EGO does over SSH for these pages (``poller.probe.SshSetup``)."""

    async def test(self, host: HostConfig) -> dict[str, Any]: ...

    async def host_keys(self, host: HostConfig) -> dict[str, Any]: ...

    async def trust(self, host: HostConfig, expected: str) -> dict[str, Any]: ...


class Unavailable(ApiError):
    status_code = HTTP_503_SERVICE_UNAVAILABLE


class Save(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    version: str  # the file's version the form was filled from
    entry: dict[str, Any]


class TestRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    entry: dict[str, Any]
    name: str | None = None  # the host being edited; None: a new host


class Trust(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    fingerprint: str  # the offered key the admin was shown


class _Refused(Exception):
    def __init__(self, problems: list[Problem], at: str) -> None:
        self.problems, self.at = problems, at


def problem_view(problem: Problem, at: str | None) -> dict[str, Any]:
    return {
        "text": str(problem),
        "line": problem.line,
        "field": problem.field,
        "message": problem.message,
        "form_field": form_field(problem, at) if at is not None else None,
    }


def _section(section: str) -> Section:
    if section not in SECTIONS:
        raise NotFound(f"no section {section!r}: one of {', '.join(SECTIONS)}")
    return section  # type: ignore[return-value]


@get("/api/admin/inventory", guards=[require_admin], tags=["admin"])
async def inventory_entries(reloader: NamedDependency[InventoryReloader | None]) -> dict[str, Any]:
    """Hosts, SNMP devices, groups and subnets as written in the file, with its ``version``."""
    running = _running(reloader)
    writer = InventoryWriter(running.path)
    try:
        now = await anyio.to_thread.run_sync(writer.read)
        listed = entries(now.text)
    except InventoryError as exc:
        raise Unprocessable(str(exc).splitlines()[0], {"problems": _views(exc, None)}) from None
    except Exception as exc:  # YAML the page cannot show: fix the file by hand
        raise Unprocessable(f"{running.path} cannot be read as YAML: {exc}") from None
    return {"file": str(running.path), "version": now.version, **listed}


@post("/api/admin/inventory/{section:str}", guards=[require_admin], status_code=201, tags=["admin"])
async def add_entry(
    request: Request[Identity, Any, Any],
    section: FromPath[str],
    data: JSONBody[Save],
    reloader: NamedDependency[InventoryReloader | None],
    audit: NamedDependency[AuditLog],
) -> dict[str, Any]:
    """Add a host, SNMP device, group or subnet (``entry``) to the file, then reload."""
    return await _save(request, _section(section), None, data, reloader, audit)


@put("/api/admin/inventory/{section:str}/{name:str}", guards=[require_admin], tags=["admin"])
async def change_entry(
    request: Request[Identity, Any, Any],
    section: FromPath[str],
    name: FromPath[str],
    data: JSONBody[Save],
    reloader: NamedDependency[InventoryReloader | None],
    audit: NamedDependency[AuditLog],
) -> dict[str, Any]:
    """Replace entry ``name`` with ``entry``: only the fields that differ are written."""
    return await _save(request, _section(section), name, data, reloader, audit)


@delete(
    "/api/admin/inventory/{section:str}/{name:str}",
    guards=[require_admin],
    status_code=200,
    tags=["admin"],
)
async def remove_entry(
    request: Request[Identity, Any, Any],
    section: FromPath[str],
    name: FromPath[str],
    # Not ``version``: that name is the app's version dependency.
    file_version: Annotated[
        str, QueryParameter(name="version", description="the file's version it was shown from")
    ],
    reloader: NamedDependency[InventoryReloader | None],
    audit: NamedDependency[AuditLog],
) -> dict[str, Any]:
    """Remove entry ``name`` (``?version=`` the file it was shown from), then reload."""
    return await _save(
        request, _section(section), name, None, reloader, audit, version=file_version
    )


@post("/api/admin/inventory/test", guards=[require_admin], status_code=200, tags=["admin"])
async def test_connection(
    data: JSONBody[TestRequest],
    reloader: NamedDependency[InventoryReloader | None],
    setup: NamedDependency[SetupActions | None],
) -> dict[str, Any]:
    """Log in once with the form's host as it would be saved (nothing is written): the OS,
    the host key's fingerprint and whether it is the one recorded (known, new, changed)."""
    running, actions = _running(reloader), _actions(setup)
    path = running.path

    def resolve() -> HostConfig:
        writer = InventoryWriter(path)
        listing = entries(writer.read().text)["hosts"]
        found = find(listing, data.name) if data.name is not None else None
        if data.name is not None and found is None:
            raise NotFound(f"no host named {data.name!r}")
        index = found[0] if found else len(listing)
        at = where("hosts", index, data.name or "")
        try:
            edits = edits_for("hosts", data.name, data.entry, found[1] if found else None)
            proposal = writer.propose(edits)
            inventory = parse_inventory(proposal.text, str(path), path.absolute().parent)
        except InventoryError as exc:
            raise _Refused(exc.problems, at) from None
        refused = running.refusals(inventory)  # `mirror demo`: loopback addresses only
        if refused:
            raise _Refused(refused, at)
        name = str(data.entry.get("name") or data.name or "")
        return _host(inventory, name)

    try:
        host = await anyio.to_thread.run_sync(resolve)
    except _Refused as exc:
        raise _unprocessable(exc) from None
    return {"host": host.name, "address": host.address, **(await actions.test(host))}


@get("/api/admin/hosts/{name:str}/hostkey", guards=[require_admin], tags=["admin"])
async def host_keys(
    name: FromPath[str],
    inventory: NamedDependency[Inventory],
    setup: NamedDependency[SetupActions | None],
) -> dict[str, Any]:
    """The fingerprints recorded for the host and the one it offers now."""
    actions = _actions(setup)
    try:
        return await actions.host_keys(_host(inventory, name))
    except MirrorError as exc:
        raise BadRequest(str(exc)) from None


@post(
    "/api/admin/hosts/{name:str}/hostkey", guards=[require_admin], status_code=200, tags=["admin"]
)
async def trust_host_key(
    request: Request[Identity, Any, Any],
    name: FromPath[str],
    data: JSONBody[Trust],
    inventory: NamedDependency[Inventory],
    setup: NamedDependency[SetupActions | None],
    audit: NamedDependency[AuditLog],
) -> dict[str, Any]:
    """Record the key the host offers now (its fingerprint as shown) in place of the old one."""
    actions = _actions(setup)
    host = _host(inventory, name)
    try:
        done = await actions.trust(host, data.fingerprint)
    except ConfigError as exc:
        raise Conflict(str(exc)) from None
    except MirrorError as exc:
        raise BadRequest(str(exc)) from None
    who = request.user
    detail = {"old": done["old"], "new": done["new"]}  # fingerprints: public, not secrets
    await anyio.to_thread.run_sync(
        lambda: audit.record(who.name, who.via, "hostkey.trust", name, detail, "recorded")
    )
    return done


# --- saving -------------------------------------------------------------------------------


async def _save(
    request: Request[Identity, Any, Any],
    section: Section,
    name: str | None,
    data: Save | None,
    reloader: InventoryReloader | None,
    audit: AuditLog,
    *,
    version: str | None = None,
) -> dict[str, Any]:
    running = _running(reloader)
    who = request.user
    expect = data.version if data is not None else version
    edited_at: list[str] = []  # where the entry is, for a refusal of the reload

    def edit(path: Path) -> tuple[str, tuple[str, ...]]:
        writer = InventoryWriter(path, audit)
        now = writer.read()
        if expect != now.version:
            raise ChangedOnDisk(path)
        listing = entries(now.text)[section]
        found = find(listing, name) if name is not None else None
        if name is not None and found is None:
            raise NotFound(f"no {section} entry named {name!r}")
        new_name = str((data.entry.get("name") if data else None) or name or "")
        index = found[0] if found else len(listing)
        at = where(section, index, new_name if section == "groups" else "")
        edited_at.append(at)
        try:
            if data is None:
                edits = [removal(section, name or "")]
            else:
                edits = edits_for(section, name, data.entry, found[1] if found else None)
            if not edits:
                return now.version, ()
            proposal = writer.write(
                edits,
                actor=who.name,
                via=who.via,
                expect=expect,
                action=ACTION,
                target=f"{section}/{new_name or name}",
            )
        except EditRefused as exc:
            raise _Refused(exc.problems, at) from None
        return version_of(proposal.text.encode("utf-8")), proposal.edits

    try:
        (new_version, done), result = await running.edit_and_reload(edit, who.name, who.via)
    except _Refused as exc:
        raise _unprocessable(exc) from None
    except ChangedOnDisk as exc:
        raise Conflict(
            f"{running.path} was changed by someone else since this page read it; nothing "
            "was saved. Reload the page to see their change, then make yours again.",
            {"hint": exc.hint},
        ) from None
    except InventoryError as exc:  # the reload refused the written file: it was put back
        raise Unprocessable(
            f"{running.path}: the running EGO refused the result; nothing changed",
            {"problems": _views(exc, edited_at[0] if edited_at and data else None)},
        ) from None
    return {"version": new_version, "edits": list(done), "reload": result.as_dict()}


def _unprocessable(exc: _Refused) -> Unprocessable:
    views = [problem_view(p, exc.at) for p in exc.problems]
    first = views[0]["text"] if views else "refused"
    return Unprocessable(f"not saved: {first}", {"problems": views})


def _views(exc: InventoryError, at: str | None) -> list[dict[str, Any]]:
    return [problem_view(p, at) for p in exc.problems]


def _host(inventory: Inventory, name: str) -> HostConfig:
    for host in inventory.hosts_resolved():
        if host.name == name:
            return host
    raise NotFound(f"unknown host {name!r}")


def _actions(setup: SetupActions | None) -> SetupActions:
    if setup is None:
        raise Unavailable("SSH checks are made by the poller: run `mirror serve`")
    return setup


ROUTES = [
    inventory_entries,
    test_connection,  # before add_entry: "test" is not a section
    add_entry,
    change_entry,
    remove_entry,
    host_keys,
    trust_host_key,
]
