"""Alert history (active and resolved alerts, acknowledgements), silences, Web Push subscriptions.

Revision ID: 0006_alerts
Revises: 0004_audit
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_alerts"
down_revision: str | Sequence[str] | None = "0005_auth_events_append_only"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("rule", sa.String(128), nullable=False),
        sa.Column("target", sa.String(128), nullable=False),
        sa.Column("instance", sa.String(256), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("labels", _JSON),
        sa.Column("value", sa.Float),
        sa.Column("since_ms", sa.BigInteger, nullable=False),
        sa.Column("fired_ms", sa.BigInteger),
        sa.Column("resolved_ms", sa.BigInteger),
        sa.Column("last_true_ms", sa.BigInteger, nullable=False),
        sa.Column("ack_by", sa.String(128)),
        sa.Column("ack_ms", sa.BigInteger),
        sa.Column("ack_comment", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
    )
    op.create_index("ix_alerts_resolved_ms", "alerts", ["resolved_ms"])
    op.create_index("ix_alerts_since_ms", "alerts", ["since_ms"])
    op.create_table(
        "alert_silences",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("matchers", _JSON, nullable=False),
        sa.Column("starts_ms", sa.BigInteger, nullable=False),
        sa.Column("ends_ms", sa.BigInteger, nullable=False),
        sa.Column("weekly", _JSON),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_silences"),
    )
    op.create_index("ix_alert_silences_ends_ms", "alert_silences", ["ends_ms"])
    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("user_name", sa.String(128), nullable=False),
        sa.Column("endpoint", sa.Text, nullable=False),
        sa.Column("p256dh", sa.String(256), nullable=False),
        sa.Column("auth", sa.String(64), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_push_subscriptions"),
        sa.UniqueConstraint("endpoint", name="uq_push_subscriptions_endpoint"),
    )


def downgrade() -> None:
    op.drop_table("push_subscriptions")
    op.drop_table("alert_silences")
    op.drop_table("alerts")
