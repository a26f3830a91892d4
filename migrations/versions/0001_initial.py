"""Initial schema: hosts, series, layouts, samples (one row per host per poll), host_status.

Revision ID: 0001
Revises:
Create Date: 2025-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "hosts",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hosts"),
        sa.UniqueConstraint("name", name="uq_hosts_name"),
    )
    op.create_table(
        "series",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("host_id", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_series"),
        sa.ForeignKeyConstraint(["host_id"], ["hosts.id"], name="fk_series_host_id_hosts"),
        sa.UniqueConstraint("host_id", "name", name="uq_series_host_id_name"),
    )
    op.create_table(
        "layouts",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("host_id", sa.Integer, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("series_ids", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_layouts"),
        sa.ForeignKeyConstraint(["host_id"], ["hosts.id"], name="fk_layouts_host_id_hosts"),
        sa.UniqueConstraint("host_id", "digest", name="uq_layouts_host_id_digest"),
    )
    op.create_table(
        "samples",
        # ts_ms first: on PostgreSQL an int8 after an int4 would cost 4 bytes of padding a row.
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.Column("host_id", sa.Integer, nullable=False),
        sa.Column("layout_id", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        # (host_id, ts_ms) is the range-scan index: one host's polls between two times.
        sa.PrimaryKeyConstraint("host_id", "ts_ms", name="pk_samples"),
        sa.ForeignKeyConstraint(["host_id"], ["hosts.id"], name="fk_samples_host_id_hosts"),
        sa.ForeignKeyConstraint(["layout_id"], ["layouts.id"], name="fk_samples_layout_id_layouts"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "host_status",
        sa.Column("host_id", sa.Integer, nullable=False),
        sa.Column("state", sa.String(32), nullable=False, server_default="pending"),
        sa.Column("error", sa.Text),
        sa.Column("ts_ms", sa.BigInteger),
        sa.Column("duration_ms", sa.Float),
        sa.Column("metrics_ts_ms", sa.BigInteger),
        sa.Column("metrics", Json),
        sa.Column("info", Json),
        sa.PrimaryKeyConstraint("host_id", name="pk_host_status"),
        sa.ForeignKeyConstraint(["host_id"], ["hosts.id"], name="fk_host_status_host_id_hosts"),
    )


def downgrade() -> None:
    for table in ("host_status", "samples", "layouts", "series", "hosts"):
        op.drop_table(table)
