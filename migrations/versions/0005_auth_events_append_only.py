"""auth_events is append-only too (the audit log takes its rows into its chain).

Revision ID: 0005_auth_events_append_only
Revises: 0004_audit
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005_auth_events_append_only"
down_revision: str | Sequence[str] | None = "0004_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFUSE = "auth_events is append-only"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION auth_events_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{_REFUSE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER auth_events_append_only BEFORE UPDATE OR DELETE ON auth_events "
            "FOR EACH ROW EXECUTE FUNCTION auth_events_refuse()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER auth_events_no_{event.lower()} BEFORE {event} ON auth_events "
                f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS auth_events_append_only ON auth_events")
        op.execute("DROP FUNCTION IF EXISTS auth_events_refuse()")
    else:
        op.execute("DROP TRIGGER IF EXISTS auth_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS auth_events_no_delete")
