"""How samples are laid out in the database: one interface, two implementations.

``Store.open`` picks one layout when it opens the database (and again after ``upgrade``,
which may create TimescaleDB's): the *packed* layout (:mod:`mirror.storage.packed`: one row
per poll, the values packed in a blob, tiers rolled up by EGO's job) on SQLite, PostgreSQL
and an older TimescaleDB database; the *narrow* layout (:mod:`mirror.storage.timescale_layout`:
one row per value in a compressed hypertable, tiers as continuous aggregates) on a new
TimescaleDB database. The store, the query layer and the rollup job call this interface and
never ask which layout they have.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from mirror.storage.rollup import RollupReport, Tier
    from mirror.storage.store import Store

Point = tuple[int, int, float]  # (ts_ms, weight n, value)


@dataclass(frozen=True, slots=True)
class PollRow:
    """One poll to store: its host, time, and ``(series id, value)`` pairs."""

    host_id: int
    ts_ms: int
    values: list[tuple[int, float]]


class SeriesReader(Protocol):
    """One series of one host, read from any tier within one connection."""

    def read_raw(self, start: int, end: int) -> list[Point]: ...

    def read_tier(self, tier: Tier, start: int, end: int) -> list[Point]: ...


class Layout(Protocol):
    name: str  # "packed" or "narrow" (`mirror db info` says which)
    # Whether a tier's relation is complete up to now (TimescaleDB's real-time aggregates),
    # or final only up to its watermark, the rest coming from the finer tier.
    tiers_are_whole: bool

    def prepare(
        self, begin: Callable[[], AbstractContextManager[Connection]], rows: Sequence[PollRow]
    ) -> Any:
        """What :meth:`insert` needs beyond the ids (created where missing in a committed
        transaction of ``begin``'s, so a refused insert retried creates nothing)."""
        ...

    def insert(self, conn: Connection, rows: Sequence[PollRow], prepared: Any) -> None:
        """Store ``rows`` in ``conn``'s transaction; a (host, ts) already stored is kept."""
        ...

    def series_reader(
        self, conn: Connection, host_id: int, series_id: int, stat: str
    ) -> SeriesReader: ...

    def fleet(
        self, conn: Connection, name: str, start: int, end: int
    ) -> tuple[dict[str, list[Point]], dict[str, int]]:
        """Every host's 1-minute buckets ``(start ms, n, avg)`` of series ``name`` in
        ``[start, end]``, and the newest sample they hold (see :mod:`sparklines`)."""
        ...

    def roll_up_tier(self, store: Store, tier: Tier, until_ms: int) -> RollupReport:
        """Make ``tier`` final up to the last complete bucket before ``until_ms``."""
        ...
