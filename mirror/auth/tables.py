"""Auth tables (SQLAlchemy Core), on the storage schema's ``metadata`` so migrations see them.

Only digests of tokens are stored (see ``crypto``). Times are integer milliseconds since the
Unix epoch, as in the rest of the schema.
"""

from __future__ import annotations

import sqlalchemy as sa

from mirror.storage.schema import metadata

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    # The TOTP seed has to be readable to check a code; it never leaves EGO after enrolment.
    sa.Column("totp_secret", sa.String(64), nullable=False),
    sa.Column("totp_last_step", sa.BigInteger),  # a code of this step or earlier is a replay
    sa.Column("role", sa.String(16), nullable=False),  # viewer | operator | admin
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("expires_ms", sa.BigInteger, nullable=False),
    sa.Column("last_seen_ms", sa.BigInteger, nullable=False),
    sa.Column("address", sa.String(64)),
    sa.Column("user_agent", sa.String(256)),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(16), nullable=False),  # shown in lists to tell tokens apart
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id")),
    sa.Column("scope", sa.String(16), nullable=False),  # read | operate
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("expires_ms", sa.BigInteger),
    sa.Column("last_used_ms", sa.BigInteger),
    sa.Column("revoked_ms", sa.BigInteger),
)

login_links = sa.Table(
    "login_links",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("expires_ms", sa.BigInteger, nullable=False),
    sa.Column("used_ms", sa.BigInteger),
)

auth_events = sa.Table(
    "auth_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ts_ms", sa.BigInteger, nullable=False, index=True),
    # login-ok, login-failed, login-limited, logout, link-used, token-used, token-refused,
    # token-created, token-revoked, user-added, session-refused
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("user_name", sa.String(64)),
    sa.Column("address", sa.String(64)),
    sa.Column("detail", sa.Text),  # why it failed (wrong-password, replayed-totp, …), token id
)
