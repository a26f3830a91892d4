"""Pinned positions of nodes on the 2D topology map, one set per layer, kept in the database.

A pin is where someone dragged a node: the map's automatic layout leaves pinned nodes where
they are. Positions are view state that changes with every drag, so they live in the
database (``topology_pins``) rather than in ``inventory.yaml``, which is the owner's config.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from mirror.storage.schema import metadata

LAYERS = ("physical", "l2", "l3")
MAX_PINS_PER_CHANGE = 2000
MAX_COORDINATE = 1e6

topology_pins = sa.Table(
    "topology_pins",
    metadata,
    sa.Column("layer", sa.String(16), primary_key=True),
    sa.Column("node", sa.String(256), primary_key=True),
    sa.Column("x", sa.Float, nullable=False),
    sa.Column("y", sa.Float, nullable=False),
    sa.Column("pinned_by", sa.String(128), nullable=False),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
)


class BadPin(ValueError):
    """A pin change that is refused as a whole (nothing written)."""


@dataclass(frozen=True, slots=True)
class Pin:
    x: float
    y: float


def check(layer: str, pins: Mapping[str, tuple[float, float] | None]) -> None:
    if layer not in LAYERS:
        raise BadPin(f"unknown layer {layer!r} (one of {', '.join(LAYERS)})")
    if len(pins) > MAX_PINS_PER_CHANGE:
        raise BadPin(f"at most {MAX_PINS_PER_CHANGE} pins in one change")
    for node, where in pins.items():
        if not node or len(node) > 256:
            raise BadPin("a node name is 1 to 256 characters")
        if where is None:
            continue
        if not all(math.isfinite(v) and abs(v) <= MAX_COORDINATE for v in where):
            raise BadPin(f"pin of {node!r}: x and y are finite numbers within ±{MAX_COORDINATE:g}")


class TopologyPins:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, layer: str) -> dict[str, Pin]:
        query = sa.select(topology_pins).where(topology_pins.c.layer == layer)
        with self._engine.connect() as conn:
            return {r.node: Pin(r.x, r.y) for r in conn.execute(query)}

    def change(
        self, layer: str, pins: Mapping[str, tuple[float, float] | None], who: str
    ) -> dict[str, Pin]:
        """Set (a position) or remove (None) each node's pin on ``layer``; all or nothing."""
        check(layer, pins)
        now = round(time.time() * 1000)
        table = topology_pins
        with self._engine.begin() as conn:
            if pins:
                where = sa.and_(table.c.layer == layer, table.c.node.in_(list(pins)))
                conn.execute(sa.delete(table).where(where))
            rows = [
                {"layer": layer, "node": node, "x": float(xy[0]), "y": float(xy[1]),
                 "pinned_by": who, "updated_ms": now}
                for node, xy in pins.items()
                if xy is not None
            ]  # fmt: skip
            if rows:
                conn.execute(sa.insert(table), rows)
        return self.get(layer)
