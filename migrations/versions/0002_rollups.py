"""Rollup tiers (1-minute, 1-hour), their watermarks, and a BRIN index for time scans.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIERS = ("1m", "1h")


def upgrade() -> None:
    for tier in TIERS:
        name = f"rollup_{tier}"
        op.create_table(
            name,
            sa.Column("ts_ms", sa.BigInteger, nullable=False),
            sa.Column("host_id", sa.Integer, nullable=False),
            sa.Column("layout_id", sa.Integer, nullable=False),
            sa.Column("n", sa.Integer, nullable=False),
            sa.Column("avg", sa.LargeBinary, nullable=False),
            sa.Column("stats", sa.LargeBinary, nullable=False),
            sa.PrimaryKeyConstraint("host_id", "ts_ms", name=f"pk_{name}"),
            sa.ForeignKeyConstraint(["host_id"], ["hosts.id"], name=f"fk_{name}_host_id_hosts"),
            sa.ForeignKeyConstraint(
                ["layout_id"], ["layouts.id"], name=f"fk_{name}_layout_id_layouts"
            ),
            sqlite_with_rowid=False,
        )
    state = op.create_table(
        "rollup_state",
        sa.Column("tier", sa.String(8), nullable=False),
        sa.Column("watermark_ms", sa.BigInteger),
        sa.PrimaryKeyConstraint("tier", name="pk_rollup_state"),
    )
    op.bulk_insert(state, [{"tier": t, "watermark_ms": None} for t in TIERS])
    # The fleet overview looks one series name up across every host.
    op.create_index("ix_series_name", "series", ["name"])
    if op.get_bind().dialect.name == "postgresql":
        # Rows arrive in time order, so a BRIN index (a few pages for millions of rows) lets
        # time-range scans across all hosts (rollups, retention checks) skip old blocks.
        op.create_index("ix_samples_ts_ms_brin", "samples", ["ts_ms"], postgresql_using="brin")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_samples_ts_ms_brin", table_name="samples")
    op.drop_index("ix_series_name", table_name="series")
    for table in ("rollup_state", "rollup_1h", "rollup_1m"):
        op.drop_table(table)
