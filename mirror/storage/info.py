"""What `mirror db info` prints: back end, features in use, and each table's size and rows.

Row counts: ``count(*)`` reads a whole table, minutes for a big PostgreSQL ``samples``, so a
PostgreSQL table the planner believes holds ``exact_below`` rows or more is shown with the
planner's estimate (``pg_class.reltuples``, from the last VACUUM/ANALYZE; before any,
``pg_stat_user_tables.n_live_tup``; for a hypertable TimescaleDB's
``approximate_row_count``), marked "≈". SQLite counts exactly at no extra cost: the
``dbstat`` walk that measures the sizes sees every b-tree cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from mirror.storage import timescale, timescale_jobs, timescale_layout
from mirror.storage.rollup import watermarks

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from mirror.storage.store import Store

TABLES = ("samples", "rollup_1m", "rollup_1h", "layouts", "series", "hosts", "host_status")
# Below this many rows (by the planner's estimate) count(*) is cheap: counted exactly.
EXACT_ROWS_BELOW = 100_000


@dataclass(frozen=True, slots=True)
class TableInfo:
    name: str
    rows: int
    bytes: int | None  # table and its indexes; None where the database cannot say
    estimated: bool = False  # rows is the planner's estimate, not a count


@dataclass(frozen=True, slots=True)
class DbInfo:
    url: str
    backend: str  # "sqlite", "postgresql" or "timescaledb"
    version: str
    features: list[str] = field(default_factory=list)
    tables: list[TableInfo] = field(default_factory=list)
    watermarks: dict[str, int | None] = field(default_factory=dict)
    extension: str | None = None  # the TimescaleDB version, on "timescaledb"

    @property
    def backend_text(self) -> str:
        """ "PostgreSQL 15.20 with TimescaleDB 2.28.3", "SQLite 3.40.1", …"""
        if self.backend == "timescaledb":
            return f"PostgreSQL {self.version} with TimescaleDB {self.extension}"
        return f"{'SQLite' if self.backend == 'sqlite' else 'PostgreSQL'} {self.version}"

    def lines(self) -> list[str]:
        out = [
            f"database  {self.url}",
            f"backend   {self.backend_text}",
        ]
        # One feature a line: on TimescaleDB each carries its own sizes and policies.
        for i, feature in enumerate(self.features or ["none"]):
            out.append(f"{'features' if i == 0 else '':<9} {feature}")
        for tier, mark in sorted(self.watermarks.items(), reverse=True):
            when = _iso(mark) if mark is not None else "nothing rolled up yet"
            out.append(f"rollup    {tier} complete up to {when}")
        out.append(f"{'table':<12} {'rows':>14} {'bytes':>16} {'B/row':>8}")
        for t in self.tables:
            size = f"{t.bytes:,}" if t.bytes is not None else "?"
            per = f"{t.bytes / t.rows:.1f}" if t.bytes and t.rows else "-"
            rows = f"{'≈' if t.estimated else ''}{t.rows:,}"
            out.append(f"{t.name:<12} {rows:>14} {size:>16} {per:>8}")
        if any(t.estimated for t in self.tables):
            out.append("≈ the planner's estimate (as of the last VACUUM/ANALYZE), not a count")
        return out


def describe(store: Store, *, exact_below: int = EXACT_ROWS_BELOW) -> DbInfo:
    with store.read_connection("describing") as conn:
        if store.dialect == "sqlite":
            version = conn.scalar(sa.text("SELECT sqlite_version()"))
            features = [f"journal_mode={conn.scalar(sa.text('PRAGMA journal_mode'))}"]
            sizes, counts = _sqlite_sizes(conn)
            rows = {name: (counts.get(name, 0), False) for name in TABLES}
            backend = "sqlite"
            found = None
        else:
            version = str(conn.scalar(sa.text("SHOW server_version"))).split()[0]
            found = timescale.detect(conn)
            features = _pg_features(conn, found, exact_below)
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
            rows = _pg_rows(conn, found, exact_below)
        tables = [TableInfo(name, rows[name][0], sizes.get(name), rows[name][1]) for name in TABLES]
        marks = watermarks(conn)
    extension = found.installed if found is not None and backend == "timescaledb" else None
    return DbInfo(store.url, backend, str(version), features, tables, marks, extension)


def _sqlite_sizes(conn: Connection) -> tuple[dict[str, int], dict[str, int]]:
    """Bytes per table, indexes included, and rows per table, from one walk of ``dbstat``.

    A table's rows are the cells of its own b-tree: of the leaf pages in a rowid table
    (its interior cells only route), of every page in a WITHOUT ROWID table (an index
    b-tree: an interior cell is a row too)."""
    found = conn.execute(
        sa.text(
            "SELECT coalesce(m.tbl_name, d.name) AS t, sum(d.pgsize), "
            "sum(CASE WHEN d.name = m.tbl_name AND m.type = 'table' AND (d.pagetype = 'leaf' "
            "OR m.sql LIKE '%WITHOUT ROWID%') THEN d.ncell ELSE 0 END) "
            "FROM dbstat AS d LEFT JOIN sqlite_master AS m ON m.name = d.name GROUP BY t"
        )
    ).all()
    return {name: int(size) for name, size, _ in found}, {name: int(n) for name, _, n in found}


def _pg_rows(
    conn: Connection,
    found: timescale.Detected,
    exact_below: int,
    tables: tuple[str, ...] = TABLES,
) -> dict[str, tuple[int, bool]]:
    """Each table's ``(rows, estimated)``: counted below ``exact_below``, else estimated."""
    guesses = {
        # n_live_tup only before the first ANALYZE (reltuples -1, or 0 before PostgreSQL 14):
        # after it the counter can run ahead (speculative inserts of ON CONFLICT count).
        name: int(reltuples) if reltuples > 0 else int(live or 0)
        for name, reltuples, live in conn.execute(
            sa.text(
                "SELECT c.relname, c.reltuples, s.n_live_tup FROM pg_class AS c "
                "LEFT JOIN pg_stat_user_tables AS s ON s.relid = c.oid "
                "WHERE c.oid IN (SELECT to_regclass(t) FROM unnest(CAST(:tables AS text[])) AS t)"
            ),
            {"tables": list(tables)},
        )
    }
    if found.installed:
        # A hypertable's rows are in its chunks: the parent's own statistics say 0.
        approximate = sa.text("SELECT approximate_row_count(to_regclass(:t))")
        for name in timescale.hypertables(conn):
            if name in guesses:
                guesses[name] = int(conn.scalar(approximate, {"t": name}) or 0)
    out = {}
    for name in tables:
        if guesses.get(name, 0) >= exact_below:
            out[name] = (guesses[name], True)
        else:
            out[name] = (int(conn.scalar(sa.text(f'SELECT count(*) FROM "{name}"')) or 0), False)
    return out


def _pg_features(conn: Connection, found: timescale.Detected, exact_below: int) -> list[str]:
    features = [
        f"BRIN index on {table}.ts_ms"
        for (table,) in conn.execute(
            sa.text(
                "SELECT tablename FROM pg_indexes WHERE schemaname = 'public' "
                "AND indexdef LIKE '%USING brin (ts_ms)%' ORDER BY 1"
            )
        )
    ]
    if found.installed:
        features.append(f"timescaledb {found.installed}")
        if timescale_layout.in_use(conn):
            raw = timescale_layout.RAW
            rows, _ = _pg_rows(conn, found, exact_below, (raw,))[raw]
            features += timescale_layout.features(conn, rows)
            features += _job_lines(conn)
            return features
        features.append("layout packed: hypertables of the packed tables, no continuous aggregates")
        features += [f"hypertable {t}" for t in timescale.hypertables(conn)]
        features += [f"retention policy on {t}" for t in sorted(timescale.retention_managed(conn))]
    elif found.available and not found.preloaded:
        features.append(
            f"timescaledb {found.available} installed but not loaded: {timescale.PRELOAD_HINT}"
        )
    elif found.available:
        features.append(f"timescaledb {found.available} available, not enabled")
    else:
        features.append("timescaledb not available: plain PostgreSQL rollup/retention jobs")
    return features


def _job_lines(conn: Connection) -> list[str]:
    """TimescaleDB's jobs: how they ran, and what is wrong (failing, never run, workers)."""
    found = timescale_jobs.report(conn)
    runs = sum(j.total_runs for j in found.jobs)
    failures = sum(j.total_failures for j in found.jobs)
    workers = ", ".join(f"{k} {v}" for k, v in found.settings.items())
    out = [f"jobs: {len(found.jobs)} policies, {runs} runs, {failures} failed ({workers})"]
    out += [f"PROBLEM {p}" for p in found.problems]
    if found.problems:
        out.append(
            "  `mirror serve` runs failing or idle policies itself (CALL run_job) each minute"
        )
    return out


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")
