"""Per-series declared precision (decimal places) for fixed-point storage of values.

Revision ID: 0007_series_decimals
Revises: 0004_audit
Create Date: 2026-12-05

TimescaleDB's narrow layout stores a value of a series with ``decimals`` d as the integer
``value × 10^d`` (in its double column): Timescale compresses such values far better than
arbitrary binary fractions. NULL (every series created before): values stored as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_series_decimals"
down_revision: str | Sequence[str] | None = "0006_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("series") as batch:
        batch.add_column(sa.Column("decimals", sa.SmallInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("series") as batch:
        batch.drop_column("decimals")
