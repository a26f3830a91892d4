"""What `mirror db info` prints: back end, features in use, and each table's size and rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from mirror.storage import timescale
from mirror.storage.rollup import watermarks

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from mirror.storage.store import Store

TABLES = ("samples", "rollup_1m", "rollup_1h", "layouts", "series", "hosts", "host_status")


@dataclass(frozen=True, slots=True)
class TableInfo:
    name: str
    rows: int
    bytes: int | None  # table and its indexes; None where the database cannot say


@dataclass(frozen=True, slots=True)
class DbInfo:
    url: str
    backend: str  # "sqlite", "postgresql" or "timescaledb"
    version: str
    features: list[str] = field(default_factory=list)
    tables: list[TableInfo] = field(default_factory=list)
    watermarks: dict[str, int | None] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [
            f"database  {self.url}",
            f"backend   {self.backend} {self.version}",
            f"features  {', '.join(self.features) or 'none'}",
        ]
        for tier, mark in sorted(self.watermarks.items(), reverse=True):
            when = _iso(mark) if mark is not None else "nothing rolled up yet"
            out.append(f"rollup    {tier} complete up to {when}")
        out.append(f"{'table':<12} {'rows':>14} {'bytes':>16} {'B/row':>8}")
        for t in self.tables:
            size = f"{t.bytes:,}" if t.bytes is not None else "?"
            per = f"{t.bytes / t.rows:.1f}" if t.bytes and t.rows else "-"
            out.append(f"{t.name:<12} {t.rows:>14,} {size:>16} {per:>8}")
        return out


def describe(store: Store) -> DbInfo:
    with store.read_connection("describing") as conn:
        if store.dialect == "sqlite":
            version = conn.scalar(sa.text("SELECT sqlite_version()"))
            features = [f"journal_mode={conn.scalar(sa.text('PRAGMA journal_mode'))}"]
            sizes = _sqlite_sizes(conn)
            backend = "sqlite"
        else:
            version = conn.scalar(sa.text("SHOW server_version"))
            found = timescale.detect(conn)
            features = _pg_features(conn, found)
            sizes = {
                name: conn.scalar(
                    sa.text("SELECT pg_total_relation_size(to_regclass(:t))"), {"t": name}
                )
                for name in TABLES
            }
            if found.installed:
                for name in timescale.hypertables(conn):
                    sizes[name] = conn.scalar(
                        sa.text("SELECT hypertable_size(to_regclass(:t))"), {"t": name}
                    )
            backend = "timescaledb" if found.installed else "postgresql"
        tables = [
            TableInfo(name, conn.scalar(sa.text(f'SELECT count(*) FROM "{name}"')), sizes.get(name))
            for name in TABLES
        ]
        marks = watermarks(conn)
    return DbInfo(store.url, backend, str(version), features, tables, marks)


def _sqlite_sizes(conn: Connection) -> dict[str, int]:
    """Bytes per table, indexes included (the ``dbstat`` virtual table)."""
    rows = conn.execute(
        sa.text(
            "SELECT coalesce(m.tbl_name, d.name) AS t, sum(d.pgsize) FROM dbstat AS d "
            "LEFT JOIN sqlite_master AS m ON m.name = d.name GROUP BY t"
        )
    )
    return {name: int(size) for name, size in rows}


def _pg_features(conn: Connection, found: timescale.Detected) -> list[str]:
    features = []
    brin = conn.scalar(
        sa.text("SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_samples_ts_ms_brin'")
    )
    if brin:
        features.append("BRIN index on samples.ts_ms")
    if found.installed:
        features.append(f"timescaledb {found.installed}")
        features += [f"hypertable {t}" for t in timescale.hypertables(conn)]
        features += [f"retention policy on {t}" for t in sorted(timescale.retention_managed(conn))]
    elif found.available:
        features.append(f"timescaledb {found.available} available, not enabled")
    else:
        features.append("timescaledb not available: plain PostgreSQL rollup/retention jobs")
    return features


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")
