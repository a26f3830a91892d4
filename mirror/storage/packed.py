"""The packed layout: one row per poll, its values packed in one blob (:mod:`codec`).

A poll's values are stored in the order of a *layout* (the sorted series ids it carries,
stored once per host in ``layouts``); the 1-minute and 1-hour tiers are rolled up by EGO's
own job (:func:`rollup.roll_tier`) into rows of the same shape. Used on SQLite, PostgreSQL,
and TimescaleDB databases that held packed samples before (``timescale.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from mirror.storage import codec, sparklines
from mirror.storage.layout import Point, PollRow
from mirror.storage.rollup import RAW, RollupReport, Tier, avg_at, roll_tier, stat_at
from mirror.storage.schema import layouts, samples

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from mirror.storage.store import Store

LayoutKey = tuple[int, tuple[int, ...]]  # (host id, series ids in order)
# Per poll row: its layout key and its values in that order.
Prepared = list[tuple[LayoutKey, list[float]]]


def _digest(ids: tuple[int, ...]) -> tuple[str, str]:
    text = ",".join(map(str, ids))
    return hashlib.sha256(text.encode()).hexdigest(), text


def _parse_ids(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",")) if text else ()


class PackedLayout:
    name = "packed"
    tiers_are_whole = False

    def __init__(self, dialect: str, insert: Callable[[sa.Table], Any]) -> None:
        self.dialect = dialect
        self._insert = insert
        # Ids never change once committed, so they are cached for the life of the store.
        self._layout_ids: dict[LayoutKey, int] = {}
        self._layout_cols: dict[int, tuple[int, ...]] = {}

    # -- writing -------------------------------------------------------------------------

    def prepare(
        self, begin: Callable[[], AbstractContextManager[Connection]], rows: Sequence[PollRow]
    ) -> Prepared:
        prepared: Prepared = []
        for row in rows:
            pairs = sorted(row.values)
            key = (row.host_id, tuple(p[0] for p in pairs))
            prepared.append((key, [p[1] for p in pairs]))
        missing = sorted({key for key, _ in prepared if key not in self._layout_ids})
        if missing:
            new: dict[LayoutKey, int] = {}
            with begin() as conn:
                self._resolve(conn, missing, new)
            self._layout_ids.update(new)  # committed
        return prepared

    def insert(self, conn: Connection, rows: Sequence[PollRow], prepared: Prepared) -> None:
        conn.execute(
            self._insert(samples).on_conflict_do_nothing(index_elements=["host_id", "ts_ms"]),
            [
                {
                    "host_id": row.host_id,
                    "ts_ms": row.ts_ms,
                    "layout_id": self._layout_ids[key],
                    "data": codec.encode(values),
                }
                for row, (key, values) in zip(rows, prepared, strict=True)
            ],
        )

    # -- layouts -------------------------------------------------------------------------

    def layout_columns(self, conn: Connection, layout_id: int) -> tuple[int, ...]:
        """The series ids a layout packs, in order (cached: a committed layout never changes)."""
        cols = self._layout_cols.get(layout_id)
        if cols is None:
            text = conn.scalar(sa.select(layouts.c.series_ids).where(layouts.c.id == layout_id))
            cols = self._layout_cols[layout_id] = _parse_ids(text or "")
        return cols

    def load_layouts(self, conn: Connection, host_ids: Sequence[int]) -> dict[int, tuple[int, ...]]:
        """Every layout of ``host_ids`` (id -> series ids) in one query, cached."""
        found = {}
        for layout_id, text in conn.execute(
            sa.select(layouts.c.id, layouts.c.series_ids).where(
                layouts.c.host_id.in_(sa.bindparam("hosts", expanding=True))
            ),
            {"hosts": list(host_ids)},
        ):
            cols = self._layout_cols.get(layout_id)
            if cols is None:
                cols = self._layout_cols[layout_id] = _parse_ids(text)
            found[layout_id] = cols
        return found

    def layout_ids(self, conn: Connection, wanted: set[LayoutKey]) -> dict[LayoutKey, int]:
        """Ids for ``(host_id, series ids)`` layouts, creating missing ones in ``conn``'s
        transaction (those are not cached: the transaction may still roll back)."""
        found = {key: self._layout_ids[key] for key in wanted if key in self._layout_ids}
        missing = sorted(wanted - found.keys())
        if missing:
            new: dict[LayoutKey, int] = {}
            self._resolve(conn, missing, new)
            found |= new
        return found

    def _resolve(
        self, conn: Connection, pending: list[LayoutKey], new: dict[LayoutKey, int]
    ) -> None:
        params = {}
        for host_id, ids in pending:
            digest, text = _digest(ids)
            params[(host_id, digest)] = {"host_id": host_id, "digest": digest, "series_ids": text}
        select = sa.select(
            layouts.c.host_id, layouts.c.digest, layouts.c.series_ids, layouts.c.id
        ).where(
            layouts.c.host_id.in_(sa.bindparam("hosts", expanding=True)),
            layouts.c.digest.in_(sa.bindparam("digests", expanding=True)),
        )

        def find(keys: list[tuple[int, str]]) -> set[tuple[int, str]]:
            found = conn.execute(
                select,
                {"hosts": sorted({h for h, _ in keys}), "digests": sorted({d for _, d in keys})},
            )
            seen = set()
            for host_id, digest, text, id_ in found:
                if (host_id, digest) in params:
                    new[(host_id, _parse_ids(text))] = id_
                    seen.add((host_id, digest))
            return seen

        # Only layouts not there yet: ON CONFLICT still takes a sequence value per row.
        absent = sorted(params.keys() - find(list(params)))
        if absent:
            conn.execute(
                self._insert(layouts).on_conflict_do_nothing(index_elements=["host_id", "digest"]),
                [params[k] for k in absent],
            )
            find(absent)

    # -- reading -------------------------------------------------------------------------

    def series_reader(
        self, conn: Connection, host_id: int, series_id: int, stat: str
    ) -> _SeriesReader:
        return _SeriesReader(self, conn, host_id, series_id, stat)

    def fleet(
        self, conn: Connection, name: str, start: int, end: int
    ) -> tuple[dict[str, list[Point]], dict[str, int]]:
        return sparklines.read_fleet(self, conn, name, start, end)

    def roll_up_tier(self, store: Store, tier: Tier, until_ms: int) -> RollupReport:
        return roll_tier(store, self, tier, until_ms)


class _SeriesReader:
    def __init__(
        self, layout: PackedLayout, conn: Connection, host_id: int, series_id: int, stat: str
    ) -> None:
        self._layout = layout
        self._conn = conn
        self._host_id = host_id
        self._series_id = series_id
        self._stat = stat
        self._where: dict[int, tuple[int, int]] | None = None  # layout -> (index, width)

    def _layouts(self) -> dict[int, tuple[int, int]]:
        if self._where is None:
            self._where = {}
            for layout_id, cols in self._layout.load_layouts(self._conn, [self._host_id]).items():
                if self._series_id in cols:
                    self._where[layout_id] = (cols.index(self._series_id), len(cols))
        return self._where

    def read_raw(self, start: int, end: int) -> list[Point]:
        t = RAW.table
        where = self._layouts()
        if not where:
            return []
        rows = self._conn.execute(
            sa.select(t.c.ts_ms, t.c.layout_id, t.c.data)
            .where(t.c.host_id == self._host_id, t.c.ts_ms >= start, t.c.ts_ms <= end)
            .order_by(t.c.ts_ms)
        )
        out = []
        for ts, layout_id, data in rows:
            found = where.get(layout_id)
            if found is not None:
                out.append((ts, 1, codec.decode_one(bytes(data), found[1], found[0])))
        return out

    def read_tier(self, tier: Tier, start: int, end: int) -> list[Point]:
        t = tier.table
        where = self._layouts()
        if not where:
            return []
        blob = t.c.avg if self._stat == "avg" else t.c.stats
        rows = self._conn.execute(
            sa.select(t.c.ts_ms, t.c.layout_id, t.c.n, blob)
            .where(t.c.host_id == self._host_id, t.c.ts_ms >= start, t.c.ts_ms <= end)
            .order_by(t.c.ts_ms)
        )
        out = []
        stat = self._stat
        for ts, layout_id, n, data in rows:
            found = where.get(layout_id)
            if found is None:
                continue
            index, width = found
            v = avg_at(data, index) if stat == "avg" else stat_at(bytes(data), width, stat, index)
            if v == v:  # NaN: the series was absent (or unreadable) for the whole bucket
                out.append((ts, n, v))
        return out
