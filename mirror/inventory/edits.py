"""Typed edits of ``inventory.yaml``: what adopt, the admin pages, alerts and jobs change.

Each edit is applied to the round-trip document (``mirror.inventory.roundtrip``) in place
and says in one line what it did (``summary``: names and fields, never values, so it can go
to the audit log). An edit that cannot apply (no host of that name, a value with a control
character) raises ``EditRefused`` naming the field; whether the *result* is a valid
inventory is the writer's check, on the whole file.

Fields inside a host, group or device are dotted paths (``"ssh.user"``); ``SetField`` and
``RemoveField`` take a path from the top (``("alerts", "rules")``) for sections other parts
of MIRROR STAGE add.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from mirror.inventory.problems import InventoryError, Loc, Problem, field_path
from mirror.inventory.roundtrip import (
    append_item,
    is_flow,
    new_value,
    put_key,
    remove,
)

# Line and paragraph separators and bidirectional overrides read as control characters too:
# they make a name look like something else in a terminal or a review.
_INVISIBLE = {
    "\u2028",
    "\u2029",
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
}


class EditRefused(InventoryError):
    """The edit was not written; ``problems`` say which field and why (as ``mirror check``)."""

    def __init__(self, problems: list[Problem], *, source: str = "") -> None:
        self.source = source
        super().__init__(problems)


class Edit(Protocol):
    def apply(self, doc: CommentedMap) -> None: ...

    def summary(self) -> str: ...


def refuse(loc: Loc, message: str) -> EditRefused:
    """An ``EditRefused`` at ``loc``; the writer fills in the file and line."""
    return EditRefused([Problem("", None, field_path(loc), message)])


def check_text(value: Any, loc: Loc) -> None:
    """Refuse control characters anywhere in ``value`` (keys included); name, never echo."""
    if isinstance(value, str):
        bad = next((c for c in value if unicodedata.category(c) == "Cc" or c in _INVISIBLE), None)
        if bad is not None:
            raise refuse(loc, f"control character U+{ord(bad):04X} is not allowed")
    elif isinstance(value, Mapping):
        for k, v in value.items():
            check_text(k, (*loc, str(k)))
            check_text(v, (*loc, str(k)))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            check_text(v, (*loc, i))


def _field(dotted: str) -> tuple[str, ...]:
    parts = tuple(dotted.split("."))
    if not all(parts):
        raise refuse((dotted,), "a field is written like ssh.user")
    return parts


def _replacement(old: Any, value: Any) -> Any:
    """``value`` written the way ``old`` was: same quotes for a string, same flow style."""
    if isinstance(value, str):
        if isinstance(old, SingleQuotedScalarString):
            return SingleQuotedScalarString(value)
        if isinstance(old, DoubleQuotedScalarString):
            return DoubleQuotedScalarString(value)
    made = new_value(value, flow=is_flow(old))
    if isinstance(made, CommentedSeq) and isinstance(old, CommentedSeq):
        made.fa.set_flow_style() if is_flow(old) else made.fa.set_block_style()
    return made


def _set_in(
    node: CommentedMap, path: Sequence[str], value: Any, loc: Loc, *, top: bool = False
) -> None:
    for i, key in enumerate(path[:-1]):
        child = node.get(key)
        if child is None:
            child = new_value({}, flow=is_flow(node))
            put_key(node, key, child, top=top and i == 0)
        if not isinstance(child, CommentedMap):
            raise refuse((*loc, *path[: i + 1]), "is not a mapping; cannot set a field inside it")
        node = child
    last = path[-1]
    put_key(node, last, _replacement(node.get(last), value), top=top and len(path) == 1)


def _remove_in(node: CommentedMap, path: Sequence[str]) -> bool:
    """Remove the field at ``path``; a mapping left empty by it (``ssh:``) goes too."""
    chain = [node]
    for key in path[:-1]:
        child = chain[-1].get(key)
        if not isinstance(child, CommentedMap):
            return False
        chain.append(child)
    if path[-1] not in chain[-1]:
        return False
    depth = len(chain) - 1
    while depth > 0 and len(chain[depth]) == 1:
        depth -= 1  # removing the field would leave this mapping empty: remove the mapping
    remove(chain[depth], path[depth])
    return True


def _top(doc: CommentedMap, section: str, kind: type, *, create: bool) -> Any:
    value = doc.get(section)
    if value is None and create:
        value = CommentedSeq() if kind is CommentedSeq else CommentedMap()
        put_key(doc, section, value, top=True)
    if value is not None and not isinstance(value, kind):
        shape = "a list" if kind is CommentedSeq else "a mapping"
        raise refuse((section,), f"is not {shape}; fix it in the file first")
    return value


# --- named list items: hosts and SNMP devices ------------------------------------------------


@dataclass(frozen=True)
class _AddItem:
    section: ClassVar[str]
    noun: ClassVar[str]
    entry: Mapping[str, Any]
    comment: str | None = None  # a comment line written above the new entry

    def apply(self, doc: CommentedMap) -> None:
        items = _top(doc, self.section, CommentedSeq, create=True)
        at = (self.section, len(items))
        check_text(dict(self.entry), at)
        if self.comment is not None:
            check_text(self.comment, at)
        if not items and is_flow(items):
            items.fa.set_block_style()  # `hosts: []` becomes a list of one entry a line
        flow = len(items) > 0 and is_flow(items[-1])
        append_item(items, new_value(self.entry, flow=flow))
        if self.comment and not is_flow(items):
            column = _item_column(items)
            items.yaml_set_comment_before_after_key(
                len(items) - 1, before=self.comment, indent=column
            )

    def summary(self) -> str:
        return f"add {self.noun} {self.entry.get('name')}"


@dataclass(frozen=True)
class _UpdateItem:
    section: ClassVar[str]
    noun: ClassVar[str]
    name: str
    set: Mapping[str, Any] = field(default_factory=dict)  # dotted field -> new value
    unset: Sequence[str] = ()  # dotted fields to remove

    def apply(self, doc: CommentedMap) -> None:
        index, item = _find(doc, self.section, self.noun, self.name)
        _update(item, (self.section, index), self.set, self.unset, f"{self.noun} {self.name!r}")

    def summary(self) -> str:
        fields = ", ".join([*self.set, *(f"-{f}" for f in self.unset)])
        return f"update {self.noun} {self.name}: {fields}"


@dataclass(frozen=True)
class _RemoveItem:
    section: ClassVar[str]
    noun: ClassVar[str]
    name: str

    def apply(self, doc: CommentedMap) -> None:
        from mirror.inventory.placement_edits import forget_node  # it builds on this module

        index, _ = _find(doc, self.section, self.noun, self.name)
        remove(doc[self.section], index)
        forget_node(doc, self.name)  # its rack unit or desk place, and its cables, go too

    def summary(self) -> str:
        return f"remove {self.noun} {self.name}"


def _update(
    node: CommentedMap, loc: Loc, values: Mapping[str, Any], unset: Sequence[str], what: str
) -> None:
    """Set and remove dotted fields of one host, device or group."""
    for dotted, value in values.items():
        path = _field(dotted)
        check_text(value, (*loc, *path))
        _set_in(node, path, value, loc)
    for dotted in unset:
        if not _remove_in(node, _field(dotted)):
            raise refuse((*loc, *_field(dotted)), f"{what} has no such field")


def _find(doc: CommentedMap, section: str, noun: str, name: str) -> tuple[int, CommentedMap]:
    items = _top(doc, section, CommentedSeq, create=False) or []
    for i, item in enumerate(items):
        if isinstance(item, CommentedMap) and item.get("name") == name:
            return i, item
    raise refuse((section,), f"no {noun} named {name!r}")


def _item_column(items: CommentedSeq) -> int:
    """The column of the list's dashes, for a comment line above a new item."""
    try:
        return int(items.lc.col) if len(items) > 1 else 2
    except (AttributeError, TypeError):
        return 2


class AddHost(_AddItem):
    section, noun = "hosts", "host"


class UpdateHost(_UpdateItem):
    section, noun = "hosts", "host"


class RemoveHost(_RemoveItem):
    section, noun = "hosts", "host"


class AddSnmpDevice(_AddItem):
    section, noun = "snmp", "SNMP device"


class UpdateSnmpDevice(_UpdateItem):
    section, noun = "snmp", "SNMP device"


class RemoveSnmpDevice(_RemoveItem):
    section, noun = "snmp", "SNMP device"


# --- groups (a mapping of name -> settings) -----------------------------------------------


@dataclass(frozen=True)
class AddGroup:
    name: str
    entry: Mapping[str, Any] = field(default_factory=dict)

    def apply(self, doc: CommentedMap) -> None:
        groups = _top(doc, "groups", CommentedMap, create=True)
        check_text(self.name, ("groups",))
        check_text(dict(self.entry), ("groups", self.name))
        if self.name in groups:
            raise refuse(("groups", self.name), "a group of this name exists already")
        flow = len(groups) > 0 and is_flow(groups[next(reversed(groups))])
        put_key(groups, self.name, new_value(self.entry, flow=flow or not self.entry))

    def summary(self) -> str:
        return f"add group {self.name}"


@dataclass(frozen=True)
class UpdateGroup:
    name: str
    set: Mapping[str, Any] = field(default_factory=dict)
    unset: Sequence[str] = ()

    def apply(self, doc: CommentedMap) -> None:
        group = _group(doc, self.name)
        _update(group, ("groups", self.name), self.set, self.unset, f"group {self.name!r}")

    def summary(self) -> str:
        fields = ", ".join([*self.set, *(f"-{f}" for f in self.unset)])
        return f"update group {self.name}: {fields}"


@dataclass(frozen=True)
class RemoveGroup:
    name: str

    def apply(self, doc: CommentedMap) -> None:
        _group(doc, self.name)
        remove(doc["groups"], self.name)

    def summary(self) -> str:
        return f"remove group {self.name}"


def _group(doc: CommentedMap, name: str) -> CommentedMap:
    groups = _top(doc, "groups", CommentedMap, create=False) or {}
    if name not in groups:
        raise refuse(("groups",), f"no group named {name!r}")
    group = groups[name]
    if group is None:  # `workstations:` with nothing after it
        group = groups[name] = new_value({}, flow=True)
    if not isinstance(group, CommentedMap):
        raise refuse(("groups", name), "is not a mapping; fix it in the file first")
    return group


# --- any path: sections other parts of MIRROR STAGE add (alerts:, jobs:) ---------------------


@dataclass(frozen=True)
class SetField:
    path: tuple[str, ...]
    value: Any

    def apply(self, doc: CommentedMap) -> None:
        if not self.path:
            raise refuse((), "a path to set is needed, e.g. ('poll', 'interval_s')")
        check_text(self.value, self.path)
        for part in self.path:
            check_text(part, self.path)
        _set_in(doc, self.path, self.value, (), top=True)

    def summary(self) -> str:
        return f"set {'.'.join(self.path)}"


@dataclass(frozen=True)
class RemoveField:
    path: tuple[str, ...]

    def apply(self, doc: CommentedMap) -> None:
        if not self.path or not _remove_in(doc, self.path):
            raise refuse(self.path, "is not in the inventory")

    def summary(self) -> str:
        return f"remove {'.'.join(self.path)}"


class AddSubnet(_AddItem):
    section, noun = "subnets", "subnet"


class UpdateSubnet(_UpdateItem):
    section, noun = "subnets", "subnet"


class RemoveSubnet(_RemoveItem):
    section, noun = "subnets", "subnet"
