"""TimescaleDB, when the database has it: detected at run time, never assumed.

``mirror db upgrade`` (``Store.upgrade``) calls :func:`enable` after the migrations. When the
``timescaledb`` extension is installed in the database, or can be (``pg_available_extensions``),
it picks one of two layouts and issues its statements, written against Timescale's
documented API (docs.timescale.com / tigerdata.com, "api/latest"):

- a database without packed samples (a new one), on TimescaleDB >= 2.13, gets the narrow
  layout of :mod:`mirror.storage.timescale_layout`: a compressed raw hypertable of
  ``(ts_ms, series_id, value)`` rows and *continuous aggregates* for the 1-minute and
  1-hour tiers, each with a refresh and a retention policy (issue 3 as written);
- a database that already holds packed samples (it was plain PostgreSQL when it started),
  or an older TimescaleDB, keeps the packed layout and gets :func:`statements`:
  ``create_hypertable`` on ``samples``, ``rollup_1m`` and ``rollup_1h`` (integer ``ts_ms``,
  ``migrate_data`` for rows already there, no default time index: the ``(host_id, ts_ms)``
  key serves every query), ``set_integer_now_func`` (policies need a "now" in ms),
  compression of ``samples`` segmented by ``host_id`` (a packed row is one host's poll) and
  a retention policy per table. A continuous aggregate cannot be made there, as SQL cannot
  aggregate a packed blob: ``rollup.roll_up`` computes those tiers. Moving such a database
  to the narrow layout is a dump of its series and a reload into a new database;
  `mirror db info` says which layout is in use.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from mirror.storage.retention import Retention

from mirror.storage import timescale_layout
from mirror.storage.timescale_layout import NOW_FUNC, NOW_FUNC_SQL, Policy

log = logging.getLogger(__name__)

# Chunk widths (ms): a chunk of the raw table holds 6 h of 254 hosts × 5 s ≈ 1.1 M rows.
CHUNK_MS = {"samples": 6 * 3600_000, "rollup_1m": 7 * 86400_000, "rollup_1h": 90 * 86400_000}
_RETENTION_TIER = {"samples": "raw", "rollup_1m": "1m", "rollup_1h": "1h"}


@dataclass(frozen=True, slots=True)
class Detected:
    installed: str | None  # extension version installed in this database
    available: str | None  # version the server could install (pg_available_extensions)
    # In shared_preload_libraries: without it CREATE EXTENSION is a FATAL that closes the
    # connection, so it is checked before trying.
    preloaded: bool = False


class NotLoaded(Exception):
    """The server has TimescaleDB but did not load it; the connection that tried is gone."""


PRELOAD_HINT = (
    "add timescaledb to shared_preload_libraries in postgresql.conf "
    "(shared_preload_libraries = 'timescaledb') and restart PostgreSQL; "
    "until then EGO stores in plain PostgreSQL tables"
)


def detect(conn: Connection) -> Detected:
    """What TimescaleDB this PostgreSQL database has (nothing on SQLite)."""
    if conn.dialect.name != "postgresql":
        return Detected(None, None)
    installed = conn.scalar(
        sa.text("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
    )
    available = conn.scalar(
        sa.text("SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'")
    )
    preload = conn.scalar(sa.text("SELECT current_setting('shared_preload_libraries')")) or ""
    preloaded = "timescaledb" in [p.strip().strip('"') for p in str(preload).split(",")]
    return Detected(installed, available, preloaded)


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def statements(version: str, retention: Retention) -> list[str]:
    """The SQL that turns the schema into hypertables with compression and retention."""
    new_api = _version(version) >= (2, 13)
    out = [
        "CREATE EXTENSION IF NOT EXISTS timescaledb",
        NOW_FUNC_SQL,
    ]
    for table, chunk in CHUNK_MS.items():
        if new_api:
            out.append(
                f"SELECT create_hypertable('{table}', by_range('ts_ms', {chunk}), "
                "create_default_indexes => FALSE, if_not_exists => TRUE, migrate_data => TRUE)"
            )
        else:
            out.append(
                f"SELECT create_hypertable('{table}', 'ts_ms', chunk_time_interval => {chunk}, "
                "create_default_indexes => FALSE, if_not_exists => TRUE, migrate_data => TRUE)"
            )
        out.append(
            f"SELECT set_integer_now_func('{table}', '{NOW_FUNC}', replace_if_exists => TRUE)"
        )
    out.append(
        "ALTER TABLE samples SET (timescaledb.compress, "
        "timescaledb.compress_segmentby = 'host_id', timescaledb.compress_orderby = 'ts_ms DESC')"
    )
    # A changed setting alters the job in place (timescale_layout.sync_policies).
    return out + [p.add_sql() for p in policies(retention)]


def policies(retention: Retention) -> list[Policy]:
    """The packed layout's policies: compression of samples, retention of each table."""
    compress = Policy(
        "compression", "samples", (("compress_after", round(retention.compress_after_s * 1000)),)
    )
    return [compress] + [
        Policy("retention", table, (("drop_after", retention.keep_ms(tier)),))
        for table, tier in _RETENTION_TIER.items()
    ]


def enable(conn: Connection, retention: Retention) -> list[str]:
    """Apply :func:`statements` when TimescaleDB is there; the statements run (or [])."""
    found = detect(conn)
    version = found.installed or found.available
    if version is None:
        return []
    if found.installed is None:
        refused = _create_extension(conn)
        if refused is not None:
            log.warning("TimescaleDB %s cannot be enabled: %s", version, refused)
            return []
    if narrow_layout(conn, version):
        wanted = timescale_layout.policies(retention)
        issued = timescale_layout.statements(retention)
    else:
        wanted = policies(retention)
        issued = statements(version, retention)
    issued = timescale_layout.sync_policies(conn, wanted, issued)
    for sql in issued:
        conn.execute(sa.text(sql))
    return issued


def _create_extension(conn: Connection) -> str | None:
    """CREATE EXTENSION in a savepoint; why it failed, or None.

    Without ``shared_preload_libraries`` the server answers with a FATAL that closes the
    connection: that is :class:`NotLoaded`, and the caller goes on with a new connection."""
    try:
        with conn.begin_nested():
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS timescaledb"))
    except sa.exc.DBAPIError as e:
        reason = (str(e.orig).splitlines() or [type(e.orig).__name__])[0]
        if e.connection_invalidated or "preload" in reason:
            raise NotLoaded(reason) from e
        return reason
    return None


def narrow_layout(conn: Connection, version: str) -> bool:
    """Whether to use (or keep) the narrow layout: it is there already, or nothing packed is."""
    if timescale_layout.in_use(conn):
        return True
    if _version(version) < timescale_layout.MIN_VERSION:
        return False
    return conn.scalar(sa.text("SELECT EXISTS (SELECT 1 FROM samples)")) is False


def hypertables(conn: Connection) -> list[str]:
    if conn.dialect.name != "postgresql" or detect(conn).installed is None:
        return []
    return list(
        conn.scalars(sa.text("SELECT hypertable_name FROM timescaledb_information.hypertables"))
    )


def retention_managed(conn: Connection) -> set[str]:
    """Tables whose retention a TimescaleDB policy does (so our job leaves them alone)."""
    if conn.dialect.name != "postgresql" or detect(conn).installed is None:
        return set()
    return set(
        conn.scalars(
            sa.text(
                "SELECT hypertable_name FROM timescaledb_information.jobs "
                "WHERE proc_name = 'policy_retention'"
            )
        )
    )
