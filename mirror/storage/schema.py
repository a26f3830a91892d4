"""Tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

One row per host per poll: ``samples(host_id, ts_ms)`` holds that poll's values packed by
:mod:`mirror.storage.codec`, in the order of a *layout* (the sorted list of the host's series
ids it carries). A host whose set of series is stable reuses one layout for every poll; a
new interface or mount makes a new layout. This costs a few bytes per value instead of a
row (and an index entry) per value: see issue 3's ≤ 8 bytes/sample target.

Rollup tiers ``rollup_1m`` and ``rollup_1h`` have the same shape keyed by (host_id, bucket
start): ``n`` polls went into the bucket; ``avg`` is one little-endian float32 per series in
layout order (fixed width, so a chart reads series *i* at byte ``4 * i`` without decoding
the row); ``stats`` is the codec's packing of ``min…, max…, last…`` (exact values). A series
absent from every poll of a bucket is NaN there. ``rollup_state`` holds each tier's watermark:
buckets before it are final; data written later than that (a late batch) lowers it again.

Timestamps are integer milliseconds since the Unix epoch. The migrations in ``migrations/``
create these tables; this module is what the code (and Alembic autogenerate) reads.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# JSON text on SQLite, jsonb on PostgreSQL; Python None is SQL NULL (not JSON null).
Json = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

hosts = sa.Table(
    "hosts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
)

series = sa.Table(
    "series",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("host_id", sa.Integer, sa.ForeignKey("hosts.id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    # Declared precision (fixedpoint.decimals): the narrow layout stores value × 10^decimals.
    sa.Column("decimals", sa.SmallInteger),
    sa.UniqueConstraint("host_id", "name"),
    sa.Index("ix_series_name", "name"),
)

layouts = sa.Table(
    "layouts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("host_id", sa.Integer, sa.ForeignKey("hosts.id"), nullable=False),
    # The key is a digest of ``series_ids`` because that text can outgrow a btree entry.
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("series_ids", sa.Text, nullable=False),  # "3,4,7,…": ascending series ids
    sa.UniqueConstraint("host_id", "digest"),
)

samples = sa.Table(
    "samples",
    metadata,
    # ts_ms first: on PostgreSQL an int8 after an int4 would cost 4 bytes of padding a row.
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    sa.Column("host_id", sa.Integer, sa.ForeignKey("hosts.id"), nullable=False),
    sa.Column("layout_id", sa.Integer, sa.ForeignKey("layouts.id"), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.PrimaryKeyConstraint("host_id", "ts_ms"),
    # The primary key is the table on SQLite: no rowid b-tree beside it.
    sqlite_with_rowid=False,
)

host_status = sa.Table(
    "host_status",
    metadata,
    sa.Column("host_id", sa.Integer, sa.ForeignKey("hosts.id"), primary_key=True),
    sa.Column("state", sa.String(32), nullable=False, server_default="pending"),
    sa.Column("error", sa.Text),
    sa.Column("ts_ms", sa.BigInteger),  # of the latest PollStatus
    sa.Column("duration_ms", sa.Float),
    sa.Column("metrics_ts_ms", sa.BigInteger),  # of the latest Snapshot
    sa.Column("metrics", Json),  # that snapshot's values, {series name: value}
    sa.Column("info", Json),  # the latest non-empty Snapshot.info
)


def _rollup_table(name: str) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("ts_ms", sa.BigInteger, nullable=False),  # bucket start
        sa.Column("host_id", sa.Integer, sa.ForeignKey("hosts.id"), nullable=False),
        sa.Column("layout_id", sa.Integer, sa.ForeignKey("layouts.id"), nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("avg", sa.LargeBinary, nullable=False),
        sa.Column("stats", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("host_id", "ts_ms"),
        sqlite_with_rowid=False,
    )


rollup_1m = _rollup_table("rollup_1m")
rollup_1h = _rollup_table("rollup_1h")

rollup_state = sa.Table(
    "rollup_state",
    metadata,
    sa.Column("tier", sa.String(8), primary_key=True),
    sa.Column("watermark_ms", sa.BigInteger),  # NULL: nothing rolled up yet
)
