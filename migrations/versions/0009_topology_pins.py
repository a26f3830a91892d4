"""Pinned node positions of the 2D topology map, per layer.

Revision ID: 0009_topology_pins
Revises: 0007_series_decimals
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_topology_pins"
down_revision: str | Sequence[str] | None = "0007_series_decimals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "topology_pins",
        sa.Column("layer", sa.String(16), nullable=False),
        sa.Column("node", sa.String(256), nullable=False),
        sa.Column("x", sa.Float, nullable=False),
        sa.Column("y", sa.Float, nullable=False),
        sa.Column("pinned_by", sa.String(128), nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("layer", "node", name="pk_topology_pins"),
    )


def downgrade() -> None:
    op.drop_table("topology_pins")
