"""Stable SQL views for Grafana's PostgreSQL data source (PostgreSQL only).

Revision ID: 0013_grafana_views
Revises: 0007_series_decimals
Create Date: 2026-12-05

``metrics_raw`` (narrow layout), ``metrics_1m``, ``metrics_1h`` and ``metrics_latest``: one
row per host, series, time and value (mirror/storage/grafana.py, README "Grafana"). A new
TimescaleDB database gets the packed layout's views here and the narrow layout's when
``Store.upgrade`` enables TimescaleDB right after (both have the same columns). SQLite: none.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from mirror.storage import grafana

revision: str = "0013_grafana_views"
down_revision: str | Sequence[str] | None = "0009_topology_pins"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    grafana.create_views(op.get_bind())


def downgrade() -> None:
    grafana.drop_views(op.get_bind())
