"""Typed edits of ``sites:`` and ``cables:``: what the 3D room changes (``mirror.inventory.edits``).

Each applies to the round-trip document and says in one line what it did (names, never
free text); the writer then validates the whole file, so a move onto a taken U or beyond
the rack is refused with the same ``file:line`` message ``mirror check`` gives.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from mirror.inventory.edits import _set_in, _top, check_text, refuse
from mirror.inventory.problems import Loc
from mirror.inventory.roundtrip import append_item, is_flow, new_value, put_key, remove


def _rooms(doc: CommentedMap) -> Iterator[tuple[Loc, CommentedMap]]:
    sites = doc.get("sites")
    for s, site in enumerate(sites if isinstance(sites, CommentedSeq) else []):
        rooms = site.get("rooms") if isinstance(site, CommentedMap) else None
        for r, room in enumerate(rooms if isinstance(rooms, CommentedSeq) else []):
            if isinstance(room, CommentedMap):
                yield ("sites", s, "rooms", r), room


def _named(doc: CommentedMap, section: str, name: str) -> tuple[Loc, CommentedMap]:
    """The rack (``section`` "racks") or place ("places") called ``name``."""
    for loc, room in _rooms(doc):
        items = room.get(section)
        for i, item in enumerate(items if isinstance(items, CommentedSeq) else []):
            if isinstance(item, CommentedMap) and item.get("name") == name:
                return (*loc, section, i), item
    noun = "rack" if section == "racks" else "place"
    raise refuse(("sites",), f"no {noun} named {name!r}")


def _unplace(doc: CommentedMap, device: str) -> None:
    """Take ``device`` out of whichever rack or place holds it."""
    for _, room in _rooms(doc):
        for rack in room.get("racks") or []:
            devices = rack.get("devices") if isinstance(rack, CommentedMap) else None
            if not isinstance(devices, CommentedSeq):
                continue
            for i, m in enumerate(devices):
                if isinstance(m, CommentedMap) and m.get("device") == device:
                    remove(devices, i)
                    return
        for place in room.get("places") or []:
            devices = place.get("devices") if isinstance(place, CommentedMap) else None
            if isinstance(devices, CommentedSeq) and device in devices:
                remove(devices, list(devices).index(device))
                return


def forget_node(doc: CommentedMap, name: str) -> None:
    """A host or device being removed: take it out of its rack or place and drop its cables,
    which would otherwise name a node that no longer exists (``RemoveHost`` calls this)."""
    _unplace(doc, name)
    cables = doc.get("cables")
    if not isinstance(cables, CommentedSeq):
        return
    for i in reversed(range(len(cables))):
        cable = cables[i]
        ends = [cable.get(e) for e in ("a", "b")] if isinstance(cable, CommentedMap) else []
        if any(isinstance(end, CommentedMap) and end.get("node") == name for end in ends):
            remove(cables, i)


def _list_in(node: CommentedMap, key: str) -> CommentedSeq:
    items = node.get(key)
    if items is None:
        items = CommentedSeq()
        put_key(node, key, items)
    if not isinstance(items, CommentedSeq):
        raise refuse((key,), "is not a list; fix it in the file first")
    return items


@dataclass(frozen=True)
class MoveDevice:
    """Put ``device`` into ``rack`` at ``u`` (``height_u`` kept unless given), or at ``place``."""

    device: str
    rack: str | None = None
    u: int | None = None
    height_u: int | None = None
    place: str | None = None

    def apply(self, doc: CommentedMap) -> None:
        if (self.rack is None) == (self.place is None):
            raise refuse(("sites",), "name either a rack (with u) or a place")
        check_text(self.device, ("sites",))
        height = self.height_u or self._height(doc)
        _unplace(doc, self.device)
        if self.rack is not None:
            if self.u is None:
                raise refuse(("sites",), "a move into a rack needs u")
            _, rack = _named(doc, "racks", self.rack)
            devices = _list_in(rack, "devices")
            entry: dict[str, Any] = {"device": self.device, "u": self.u}
            if height != 1:
                entry["height_u"] = height
            flow = not devices or is_flow(devices[-1])
            append_item(devices, new_value(entry, flow=flow))
        else:
            assert self.place is not None
            _, place = _named(doc, "places", self.place)
            append_item(_list_in(place, "devices"), new_value(self.device))

    def _height(self, doc: CommentedMap) -> int:
        for _, room in _rooms(doc):
            for rack in room.get("racks") or []:
                for m in rack.get("devices") or [] if isinstance(rack, CommentedMap) else []:
                    if isinstance(m, CommentedMap) and m.get("device") == self.device:
                        height = m.get("height_u", 1)
                        return height if isinstance(height, int) else 1
        return 1

    def summary(self) -> str:
        where = f"rack {self.rack} U{self.u}" if self.rack else f"place {self.place}"
        return f"move {self.device} to {where}"


@dataclass(frozen=True)
class MoveRack:
    rack: str
    x: float
    y: float
    rotation: float | None = None

    def apply(self, doc: CommentedMap) -> None:
        loc, rack = _named(doc, "racks", self.rack)
        _set_in(rack, ("position", "x"), self.x, loc)
        _set_in(rack, ("position", "y"), self.y, loc)
        if self.rotation is not None:
            _set_in(rack, ("rotation",), self.rotation, loc)

    def summary(self) -> str:
        return f"move rack {self.rack}"


def _cables(doc: CommentedMap, index: int) -> CommentedSeq:
    cables = _top(doc, "cables", CommentedSeq, create=False)
    if cables is None or not 0 <= index < len(cables):
        raise refuse(("cables",), f"no cable number {index}")
    return cables


@dataclass(frozen=True)
class AddCable:
    entry: Mapping[str, Any]  # a, b ({node, port}), label, type, colour

    def apply(self, doc: CommentedMap) -> None:
        cables = _top(doc, "cables", CommentedSeq, create=True)
        check_text(dict(self.entry), ("cables", len(cables)))
        if not cables and is_flow(cables):
            cables.fa.set_block_style()
        value = new_value(self.entry)
        for end in ("a", "b"):
            if isinstance(value.get(end), CommentedMap):
                value[end].fa.set_flow_style()
        append_item(cables, value)

    def summary(self) -> str:
        ends = [self.entry.get(e) for e in ("a", "b")]
        nodes = [e.get("node") if isinstance(e, Mapping) else "?" for e in ends]
        return f"add cable {nodes[0]} - {nodes[1]}"


@dataclass(frozen=True)
class RemoveCable:
    index: int

    def apply(self, doc: CommentedMap) -> None:
        remove(_cables(doc, self.index), self.index)

    def summary(self) -> str:
        return f"remove cable {self.index}"


@dataclass(frozen=True)
class SetCableLabel:
    index: int
    label: str | None

    def apply(self, doc: CommentedMap) -> None:
        cable = _cables(doc, self.index)[self.index]
        if not isinstance(cable, CommentedMap):
            raise refuse(("cables", self.index), "is not a mapping; fix it in the file first")
        if self.label is None:
            if "label" in cable:
                remove(cable, "label")
            return
        check_text(self.label, ("cables", self.index, "label"))
        _set_in(cable, ("label",), self.label, ("cables", self.index))

    def summary(self) -> str:
        return f"label cable {self.index}"
