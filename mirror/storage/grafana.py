"""Stable SQL views for Grafana's PostgreSQL data source (README "Grafana").

One row per host, series, time and value, the same columns whichever layout stores them:

=================  ==========================================================================
``metrics_raw``    every poll (the narrow layout only: see below)
``metrics_1m``     1-minute averages, ``n`` polls each
``metrics_1h``     1-hour averages, ``n`` polls each
``metrics_latest`` each host's newest values (both layouts, from ``host_status``)
=================  ==========================================================================

Columns: ``time`` (timestamptz, for display), ``ts_ms`` (bigint: filter on it,
``ts_ms BETWEEN $__unixEpochFrom()::bigint*1000 AND $__unixEpochTo()::bigint*1000``, which
reaches the tables' keys and TimescaleDB's chunk exclusion where a filter on ``time`` cannot),
``host``,
``metric`` (``net.rx_bytes_per_s``), ``instance`` (``eth0``; ``''`` for host-wide series),
``series`` (``net.rx_bytes_per_s[eth0]``), ``value`` (double precision) and, on the tiers,
``n``.

- **Narrow layout** (TimescaleDB, a new database): ``points`` and its continuous aggregates
  ``points_1m``/``points_1h`` (real-time: the unrefreshed tail is in), fixed-point values
  divided back by ``10^series.decimals``.
- **Packed layout** (plain PostgreSQL, or TimescaleDB on a database that began plain): the
  rollup tiers' ``avg`` column is one little-endian float32 per series in layout order, which
  SQL decodes (:data:`FLOAT4LE`); a series absent from a bucket (NaN) has no row. The raw
  polls are zlib-compressed rows that SQL cannot open, so ``metrics_raw`` does not exist on
  this layout: Grafana reads ``metrics_1m`` (filled by EGO's rollup job up to its watermark,
  about a minute behind).

Migration ``0013_grafana_views`` creates them; enabling the narrow layout (timescale.py)
replaces them with its own. Column names, order and types never change under a Grafana
dashboard: a change is a new view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from mirror.storage import timescale_layout

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

TIERS = ("1m", "1h")
VIEWS = ("metrics_raw", "metrics_1m", "metrics_1h", "metrics_latest")

# float32 (little-endian) at byte ``off`` of ``b`` as double precision; NULL for NaN and ±inf.
# One SQL expression, IMMUTABLE: the planner inlines it into the view.
FLOAT4LE = """
CREATE OR REPLACE FUNCTION mirror_float4le(b bytea, off integer) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT CASE
  WHEN e = 255 THEN NULL
  WHEN e = 0 THEN (1 - 2 * s) * m * 2::double precision ^ -149
  ELSE (1 - 2 * s) * (1 + m / 8388608.0::double precision) * 2::double precision ^ (e - 127)
END
FROM (SELECT (w >> 31) & 1 AS s, (w >> 23) & 255 AS e, w & 8388607 AS m
      FROM (SELECT get_byte(b, off)::bigint | (get_byte(b, off + 1)::bigint << 8)
                 | (get_byte(b, off + 2)::bigint << 16) | (get_byte(b, off + 3)::bigint << 24)
                   AS w) AS word) AS parts
$$
"""

_NAMES = (
    "h.name AS host, split_part(s.name, '[', 1) AS metric, "
    r"coalesce(substring(s.name from '\[(.*)\]$'), '') AS instance, s.name AS series"
)


def _narrow_raw() -> str:
    return (
        "CREATE OR REPLACE VIEW metrics_raw AS SELECT "
        "to_timestamp(p.ts_ms / 1000.0) AS time, p.ts_ms, "
        f"{_NAMES}, "
        "(p.value / 10::double precision ^ coalesce(s.decimals, 0)) AS value "
        "FROM points AS p JOIN series AS s ON s.id = p.series_id "
        "JOIN hosts AS h ON h.id = s.host_id"
    )


def _narrow_tier(tier: str) -> str:
    return (
        f"CREATE OR REPLACE VIEW metrics_{tier} AS SELECT "
        "to_timestamp(p.ts_ms / 1000.0) AS time, p.ts_ms, "
        f"{_NAMES}, "
        "(p.avg / 10::double precision ^ coalesce(s.decimals, 0)) AS value, p.n::bigint AS n "
        f"FROM points_{tier} AS p JOIN series AS s ON s.id = p.series_id "
        "JOIN hosts AS h ON h.id = s.host_id"
    )


def _packed_tier(tier: str) -> str:
    return (
        f"CREATE OR REPLACE VIEW metrics_{tier} AS SELECT time, ts_ms, host, metric, instance, "
        "series, value, n FROM (SELECT "
        "to_timestamp(r.ts_ms / 1000.0) AS time, r.ts_ms, "
        f"{_NAMES}, "
        "mirror_float4le(r.avg, 4 * (l.i::integer - 1)) AS value, r.n::bigint AS n "
        f"FROM rollup_{tier} AS r JOIN layouts AS ly ON ly.id = r.layout_id "
        "CROSS JOIN LATERAL unnest(string_to_array(ly.series_ids, ',')::integer[]) "
        "WITH ORDINALITY AS l(series_id, i) "
        "JOIN series AS s ON s.id = l.series_id JOIN hosts AS h ON h.id = r.host_id"
        ") AS v WHERE value IS NOT NULL"
    )


LATEST = (
    "CREATE OR REPLACE VIEW metrics_latest AS SELECT "
    "to_timestamp(st.metrics_ts_ms / 1000.0) AS time, st.metrics_ts_ms AS ts_ms, "
    "h.name AS host, split_part(m.key, '[', 1) AS metric, "
    r"coalesce(substring(m.key from '\[(.*)\]$'), '') AS instance, m.key AS series, "
    "(m.value #>> '{}')::double precision AS value "
    "FROM host_status AS st JOIN hosts AS h ON h.id = st.host_id "
    "CROSS JOIN LATERAL jsonb_each(st.metrics) AS m "
    "WHERE jsonb_typeof(st.metrics) = 'object' AND jsonb_typeof(m.value) = 'number'"
)


def statements(narrow: bool) -> list[str]:
    """The views for one layout (idempotent: ``CREATE OR REPLACE``)."""
    if narrow:
        return [_narrow_raw(), *(_narrow_tier(t) for t in TIERS), LATEST]
    return [FLOAT4LE, *(_packed_tier(t) for t in TIERS), LATEST]


def create_views(conn: Connection) -> list[str]:
    """Create or replace the views for the layout in use (PostgreSQL only); the SQL run."""
    if conn.dialect.name != "postgresql":
        return []
    issued = statements(timescale_layout.in_use(conn))
    for sql in issued:
        conn.execute(sa.text(sql))
    return issued


def drop_views(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        return
    for view in VIEWS:
        conn.execute(sa.text(f"DROP VIEW IF EXISTS {view}"))
    conn.execute(sa.text("DROP FUNCTION IF EXISTS mirror_float4le(bytea, integer)"))
