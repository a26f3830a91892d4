"""What the admin pages edit: the file's entries as written, and a saved form as typed edits.

The pages show each host, SNMP device, group and subnet as it is written in the file (not as
resolved: a group's SSH defaults stay in the group) and send the whole entry back. ``edits_for``
turns the old and new entry into the inventory writer's edits: only the fields that changed
are set or removed, so fields a form does not show (``ssh.password_env``, ``interval_s``)
and the owner's comments stay. Empty values (``""``, ``[]``, ``null``) mean "not set".

``form_field`` says which field of the edited entry a problem of ``mirror check`` is about
(``hosts[3].ssh.port`` -> ``ssh.port``), so the page shows it next to that field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import yaml

from mirror.inventory.edits import (
    AddGroup,
    AddHost,
    AddSnmpDevice,
    AddSubnet,
    Edit,
    RemoveGroup,
    RemoveHost,
    RemoveSnmpDevice,
    RemoveSubnet,
    UpdateGroup,
    UpdateHost,
    UpdateSnmpDevice,
    UpdateSubnet,
    refuse,
)
from mirror.inventory.problems import Problem

Section = Literal["hosts", "snmp", "groups", "subnets"]
SECTIONS: tuple[Section, ...] = ("hosts", "snmp", "groups", "subnets")
_LISTS: dict[str, tuple[type, type, type]] = {
    "hosts": (AddHost, UpdateHost, RemoveHost),
    "snmp": (AddSnmpDevice, UpdateSnmpDevice, RemoveSnmpDevice),
    "subnets": (AddSubnet, UpdateSubnet, RemoveSubnet),
}


def entries(text: str) -> dict[str, list[dict[str, Any]]]:
    """Each section's entries as written; a group is ``{"name": …, **its settings}``."""
    data = yaml.safe_load(text) if text.strip() else {}
    data = data if isinstance(data, dict) else {}
    out: dict[str, list[dict[str, Any]]] = {}
    for section in ("hosts", "snmp", "subnets"):
        items = data.get(section) or []
        out[section] = (
            [dict(i) for i in items if isinstance(i, dict)] if isinstance(items, list) else []
        )
    groups = data.get("groups") or {}
    out["groups"] = (
        [{"name": str(n), **(v if isinstance(v, dict) else {})} for n, v in groups.items()]
        if isinstance(groups, dict)
        else []
    )
    return out


def find(listing: list[dict[str, Any]], name: str) -> tuple[int, dict[str, Any]] | None:
    for i, item in enumerate(listing):
        if item.get("name") == name:
            return i, item
    return None


def cleaned(value: Any) -> Any:
    """``value`` without its empty parts ("" and [] and null and {} mean "not set")."""
    if isinstance(value, Mapping):
        out = {str(k): cleaned(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if not _empty(v)}
    if isinstance(value, list):
        return [cleaned(v) for v in value if not _empty(v)]
    return value.strip() if isinstance(value, str) else value


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def leaves(entry: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"ssh": {"user": "a"}}`` -> ``{"ssh.user": "a"}``; lists and scalars are leaves."""
    out: dict[str, Any] = {}
    for key, value in entry.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(leaves(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Dotted fields to set and to remove to turn ``old`` into ``new``."""
    before, after = leaves(old), leaves(new)
    set_ = {k: v for k, v in after.items() if k not in before or before[k] != v}
    # A field that became a mapping (or stopped being one) is set whole, not removed.
    unset = [
        k
        for k in before
        if k not in after and not any(a.startswith(k + ".") or k.startswith(a + ".") for a in after)
    ]
    return set_, unset


def edits_for(
    section: Section, name: str | None, entry: Mapping[str, Any], old: Mapping[str, Any] | None
) -> list[Edit]:
    """The edits that add (``name`` None) or change the entry ``name`` into ``entry``."""
    new = cleaned(entry)
    if section == "groups":
        group = str(new.pop("name", "") or "")
        if not group:
            raise refuse(("groups",), "a group needs a name")
        if name is None:
            return [AddGroup(group, new)]
        if group != name:
            raise refuse(("groups", name), "a group is renamed in the file (its hosts name it too)")
        set_, unset = changes({k: v for k, v in (old or {}).items() if k != "name"}, new)
        return [UpdateGroup(name, set_, unset)] if set_ or unset else []
    add, update, _ = _LISTS[section]
    if name is None:
        return [add(new)]
    set_, unset = changes(cleaned(dict(old or {})), new)
    return [update(name, set_, unset)] if set_ or unset else []


def removal(section: Section, name: str) -> Edit:
    if section == "groups":
        return RemoveGroup(name)
    edit: Edit = _LISTS[section][2](name)
    return edit


def where(section: Section, index: int, name: str) -> str:
    """The dotted field of the entry itself, as problems name it."""
    return f"groups.{name}" if section == "groups" else f"{section}[{index}]"


def form_field(problem: Problem, at: str) -> str | None:
    """The field of the edited entry a problem is about ("" for the entry); None: elsewhere."""
    if problem.field == at:
        return ""
    if problem.field.startswith(at + ".") or problem.field.startswith(at + "["):
        return problem.field[len(at) :].lstrip(".")
    return None
