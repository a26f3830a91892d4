"""Retention: each tier keeps its own age of data; old ranges go by primary-key range deletes.

Deletes run per host as ``DELETE … WHERE host_id = ? AND ts_ms < ?``: a range of the
(host_id, ts_ms) key, so their cost is the rows removed, not the table's size (SQLite reuses
the freed pages for new rows; PostgreSQL's autovacuum does the same). A tier never loses data
that the coarser tier has not absorbed yet: the cut stops at the coarser tier's watermark,
aligned to its buckets. On TimescaleDB the tables whose retention a policy already handles
(``add_retention_policy``, see ``timescale``) are skipped: dropping whole chunks is cheaper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from mirror.storage import timescale
from mirror.storage.rollup import COARSER, HOUR, MINUTE, RAW, bucket_start, watermarks

if TYPE_CHECKING:
    from mirror.settings import Settings
    from mirror.storage.store import Store


@dataclass(frozen=True, slots=True)
class Retention:
    """How long each tier keeps data, in seconds (defaults: 48 h, 30 days, 2 years)."""

    raw_s: float = 48 * 3600.0
    minute_s: float = 30 * 86400.0
    hour_s: float = 730 * 86400.0
    compress_after_s: float = 6 * 3600.0  # TimescaleDB: age at which raw chunks compress
    commands_s: float = 90 * 86400.0  # stored command results (mirror.audit.command_results)

    @classmethod
    def from_settings(cls, settings: Settings) -> Retention:
        return cls(
            settings.retention_raw_s,
            settings.retention_1m_s,
            settings.retention_1h_s,
            settings.compress_after_s,
            settings.retention_commands_s,
        )

    def keep_ms(self, tier: str) -> int:
        seconds = {"raw": self.raw_s, "1m": self.minute_s, "1h": self.hour_s}[tier]
        return round(seconds * 1000)


def cutoffs(now_ms: int, retention: Retention, marks: dict[str, int | None]) -> dict[str, int]:
    """Per tier, the time before which its rows may go (absent: nothing may go yet)."""
    out: dict[str, int] = {}
    for tier in (RAW, MINUTE, HOUR):
        cut = now_ms - retention.keep_ms(tier.name)
        coarser = COARSER.get(tier.name)
        if coarser is not None:
            mark = marks.get(coarser.name)
            if mark is None:
                continue
            cut = bucket_start(min(cut, mark), coarser.step_ms)
        out[tier.name] = cut
    return out


def apply_retention(store: Store, now_ms: int, retention: Retention) -> dict[str, int]:
    """Delete what each tier no longer keeps; rows deleted per tier."""
    deleted: dict[str, int] = {}
    with store.read_connection("reading watermarks") as conn:
        marks = watermarks(conn)
        managed = timescale.retention_managed(conn)
    for name, cut in cutoffs(now_ms, retention, marks).items():
        tier = {"raw": RAW, "1m": MINUTE, "1h": HOUR}[name]
        if tier.table.name in managed:
            continue
        total = 0
        with store.write_transaction("applying retention") as conn:
            t = tier.table
            for host_id in store.host_ids(conn):
                result = conn.execute(sa.delete(t).where(t.c.host_id == host_id, t.c.ts_ms < cut))
                total += max(result.rowcount or 0, 0)
        deleted[name] = total
    return deleted
