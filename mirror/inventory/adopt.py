"""Add a discovered address to ``inventory.yaml`` as a host (`mirror adopt` and the API).

The host goes in through the inventory writer (``mirror.inventory.writer``): appended as the
last host, written like its neighbours (one flow line each, or block style), under a comment
saying when it was adopted; the owner's comments and layout stay. The whole result is
validated as ``mirror check`` would before it replaces the file; on any problem the file is
left untouched and every problem is reported.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mirror.inventory.edits import AddHost, EditRefused
from mirror.inventory.writer import InventoryWriter, Proposal

if TYPE_CHECKING:
    from mirror.audit import AuditLog

ACTION = "inventory.adopt"


class NotAdopted(EditRefused):
    """The host would make the inventory invalid; ``problems`` say why."""

    def __str__(self) -> str:
        return "not adopted, the inventory would be invalid:\n" + super().__str__()


def host_entry(
    name: str,
    address: str,
    *,
    mac: str | None = None,
    groups: Sequence[str] = (),
    tags: Sequence[str] = (),
) -> dict[str, Any]:
    """The new host as the inventory writes it: only the fields given."""
    entry: dict[str, Any] = {"name": name, "address": address}
    if mac:
        entry["mac"] = mac
    if groups:
        entry["groups"] = list(groups)
    if tags:
        entry["tags"] = list(tags)
    return entry


def adopt_host(
    path: Path,
    name: str,
    address: str,
    *,
    mac: str | None = None,
    groups: Sequence[str] = (),
    tags: Sequence[str] = (),
    actor: str = "cli",
    via: str = "cli",
    audit: AuditLog | None = None,
    dry_run: bool = False,
) -> Proposal:
    """Append the host to the file at ``path`` if the result is a valid inventory.

    ``dry_run``: validate and return the diff without writing. The audit entry (action
    ``inventory.adopt``, target the address) names the host, MAC, groups and tags.
    """
    stamp = time.strftime("%Y-%m-%d", time.localtime())
    edit = AddHost(
        host_entry(name, address, mac=mac, groups=groups, tags=tags),
        comment=f"adopted from discovery on {stamp}",
    )
    writer = InventoryWriter(path, audit)
    detail = {"name": name, "mac": mac, "groups": list(groups), "tags": list(tags)}
    try:
        if dry_run:
            return writer.propose([edit])
        return writer.write(
            [edit], actor=actor, via=via, action=ACTION, target=address, detail=detail
        )
    except EditRefused as e:
        raise NotAdopted(e.problems) from None
