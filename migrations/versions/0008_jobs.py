"""Scheduled jobs (issue 18): the runs' history and APScheduler's persistent job store.

Revision ID: 0008_jobs
Revises: 0013_grafana_views (re-chained after merging main)
Create Date: 2026-12-05

``job_schedule`` has the layout of APScheduler 3's ``SQLAlchemyJobStore`` (id, next run
time as epoch seconds, the pickled job state): the store finds the table made here.
Each target's result of a run is a row of ``command_results`` under the run's id.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_jobs"
down_revision: str | Sequence[str] | None = "0013_grafana_views"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("job", sa.String(128), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(128), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("scheduled_ms", sa.BigInteger),
        sa.Column("started_ms", sa.BigInteger),
        sa.Column("ended_ms", sa.BigInteger),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("hosts", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_job_runs"),
        sa.UniqueConstraint("run_id", name="uq_job_runs_run_id"),
        sa.UniqueConstraint("job", "scheduled_ms", name="uq_job_runs_job_scheduled_ms"),
    )
    op.create_index("ix_job_runs_job", "job_runs", ["job"])
    op.create_table(
        "job_schedule",
        sa.Column("id", sa.Unicode(191), nullable=False),
        sa.Column("next_run_time", sa.Float(25)),
        sa.Column("job_state", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_job_schedule"),
    )
    op.create_index("ix_job_schedule_next_run_time", "job_schedule", ["next_run_time"])


def downgrade() -> None:
    op.drop_table("job_schedule")
    op.drop_index("ix_job_runs_job", "job_runs")
    op.drop_table("job_runs")
