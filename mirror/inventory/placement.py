"""Where things physically are: ``sites:`` → rooms → racks (devices at a U) and places.

The digital twin's data (issue 14), in ``inventory.yaml`` next to the hosts it places::

    sites:
      - name: home
        rooms:
          - name: office
            size: {w: 5.0, d: 4.0, h: 2.6}        # metres: width (x), depth (y), height
            racks:
              - name: rack-a
                position: {x: 0.4, y: 0.3}        # the rack's front-left corner, metres
                rotation: 0                       # degrees; 0: its front faces +y
                height_u: 42
                devices:
                  - {device: core-switch, u: 40}  # lowest U it fills; height_u default 1
                  - {device: nas, u: 10, height_u: 2}
            places:
              - name: desk-1
                kind: desk                        # desk, shelf, wall or floor
                position: {x: 3.0, y: 2.5}
                devices: [pc-anna, pc-bob]

Rack and place names are unique across the file (an edit names a rack by its name alone).
``cross_check`` gives the rules that span entries (a device in two places, overlapping U, a
U beyond the rack, an unknown device, a rack outside its room), on the raw data like the
other cross checks, so they are reported with ``file:line`` among the field errors.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from mirror.inventory.problems import Loc, did_you_mean, shown

PLACE_KINDS = ("desk", "shelf", "wall", "floor")
MAX_RACK_U = 60


def _name(value: str) -> str:
    from mirror.inventory.models import _name as check  # one rule for names

    return check(value)


PlaceName = Annotated[str, AfterValidator(_name)]
Metres = Annotated[float, Field(ge=0, le=1000)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Size(_Model):
    w: Annotated[float, Field(gt=0, le=1000)]
    d: Annotated[float, Field(gt=0, le=1000)]
    h: Annotated[float, Field(gt=0, le=100)] = 2.6


class Position(_Model):
    x: Metres
    y: Metres
    z: Metres | None = None  # places only: height above the floor (a shelf, a wall mount)


class Mounted(_Model):
    """A host or SNMP device in a rack, filling ``u`` … ``u + height_u - 1``."""

    device: PlaceName
    u: Annotated[int, Field(ge=1, le=MAX_RACK_U)]
    height_u: Annotated[int, Field(ge=1, le=MAX_RACK_U)] = 1


class Rack(_Model):
    name: PlaceName
    position: Position
    rotation: Annotated[float, Field(ge=-360, le=360)] = 0.0
    height_u: Annotated[int, Field(ge=1, le=MAX_RACK_U)] = 42
    devices: list[Mounted] = Field(default_factory=list)


class Place(_Model):
    """Somewhere outside a rack: a desk with PCs, a shelf, an AP on a wall."""

    name: PlaceName
    kind: Literal["desk", "shelf", "wall", "floor"] = "desk"
    position: Position
    rotation: Annotated[float, Field(ge=-360, le=360)] = 0.0
    devices: list[PlaceName] = Field(default_factory=list)


class Room(_Model):
    name: PlaceName
    size: Size
    racks: list[Rack] = Field(default_factory=list)
    places: list[Place] = Field(default_factory=list)


class Site(_Model):
    name: PlaceName
    rooms: list[Room] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Spot:
    """Where one device is: in a rack at a U, or at a place."""

    site: str
    room: str
    rack: str | None
    place: str | None
    u: int | None
    height_u: int | None


def spots(sites: list[Site]) -> dict[str, Spot]:
    """Device name → where it is (a valid inventory places each device at most once)."""
    found: dict[str, Spot] = {}
    for site in sites:
        for room in site.rooms:
            for rack in room.racks:
                for m in rack.devices:
                    found[m.device] = Spot(site.name, room.name, rack.name, None, m.u, m.height_u)
            for place in room.places:
                for name in place.devices:
                    found[name] = Spot(site.name, room.name, None, place.name, None, None)
    return found


# --- rules across entries, on the raw data --------------------------------------------------


def _items(value: object) -> Iterator[tuple[int, dict[str, Any]]]:
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict):
                yield i, item


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _num(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def cross_check(data: Mapping[str, Any], nodes: list[str]) -> list[tuple[Loc, str]]:
    """Placement rules that span entries; ``nodes`` are the host and SNMP device names."""
    found: list[tuple[Loc, str]] = []
    placed: dict[str, str] = {}  # device → where it was first placed ("rack rack-a")
    names: dict[str, Loc] = {}  # rack and place names: unique across the file

    def place_device(name: object, loc: Loc, where: str) -> None:
        if not isinstance(name, str):
            return
        if name not in nodes:
            hint = did_you_mean(name, nodes)
            found.append((loc, f"unknown device {name!r}{hint} (a host or snmp name)"))
        elif name in placed:
            found.append((loc, f"{name!r} is already placed in {placed[name]}"))
        else:
            placed[name] = where

    def unique(name: object, loc: Loc) -> None:
        if not isinstance(name, str):
            return
        if name in names:
            message = f"duplicate name {shown(name)}: racks and places need names unique "
            found.append((loc, message + "across the file"))
        else:
            names[name] = loc

    sites = data.get("sites")
    for s, site in _items(sites):
        for r, room in _items(site.get("rooms")):
            at_room: Loc = ("sites", s, "rooms", r)
            declared = room.get("size")
            size: dict[str, Any] = declared if isinstance(declared, dict) else {}
            width, depth = _num(size.get("w")), _num(size.get("d"))
            for k, rack in _items(room.get("racks")):
                at: Loc = (*at_room, "racks", k)
                unique(rack.get("name"), (*at, "name"))
                found += _outside(rack.get("position"), width, depth, (*at, "position"))
                height = _int(rack.get("height_u"))
                height = 42 if "height_u" not in rack else height
                used: dict[int, str] = {}
                for j, mounted in _items(rack.get("devices")):
                    where = f"rack {rack.get('name')!r}"
                    place_device(mounted.get("device"), (*at, "devices", j, "device"), where)
                    found += _units(mounted, height, used, (*at, "devices", j))
            for k, place in _items(room.get("places")):
                at = (*at_room, "places", k)
                unique(place.get("name"), (*at, "name"))
                found += _outside(place.get("position"), width, depth, (*at, "position"))
                devices = place.get("devices")
                for j, name in enumerate(devices if isinstance(devices, list) else []):
                    where = f"place {place.get('name')!r}"
                    place_device(name, (*at, "devices", j), where)
    return found


def _outside(position: object, width: float | None, depth: float | None, loc: Loc) -> list:
    if not isinstance(position, dict):
        return []
    found: list[tuple[Loc, str]] = []
    for key, limit, what in (("x", width, "w"), ("y", depth, "d")):
        value = _num(position.get(key))
        if value is not None and limit is not None and value > limit:
            message = f"is outside the room: {shown(value)} > size.{what} ({shown(limit)})"
            found.append(((*loc, key), message))
    return found


def _units(mounted: dict[str, Any], rack_u: int | None, used: dict[int, str], loc: Loc) -> list:
    u = _int(mounted.get("u"))
    height = _int(mounted.get("height_u", 1))
    if u is None or height is None or u < 1 or height < 1:
        return []  # the field check reports it
    top = u + height - 1
    name = mounted.get("device")
    if rack_u is not None and top > rack_u:
        span = f"U{u}" if height == 1 else f"U{u}-U{top}"
        return [((*loc, "u"), f"{span} is beyond the rack's {rack_u} U")]
    for unit in range(u, top + 1):
        if unit in used:
            return [((*loc, "u"), f"U{unit} is already taken by {used[unit]!r}")]
    for unit in range(u, top + 1):
        used[unit] = str(name)
    return []


__all__ = [
    "PLACE_KINDS",
    "Mounted",
    "Place",
    "Position",
    "Rack",
    "Room",
    "Site",
    "Size",
    "Spot",
    "cross_check",
    "spots",
]
