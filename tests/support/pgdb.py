"""A new, empty database on the suite's PostgreSQL (the machine's server on 5432, reached
through its Unix socket), dropped afterwards."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from mirror.storage import database_url

PG_ADMIN_URL = os.environ.get(
    "MIRROR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@/test?host=/var/run/postgresql"
)


@contextmanager
def new_pg_database(prefix: str = "mirror_test", admin: str = PG_ADMIN_URL) -> Iterator[str]:
    """The URL of a database of its own, named ``prefix_<random>``, on the server ``admin``
    reaches (bench/storage.py names its own); fails, saying where it looked, when PostgreSQL
    is not there."""
    admin_url = database_url(admin)
    socket_dir = str(admin_url.query.get("host", ""))
    assert socket_dir.startswith("/") or (admin_url.host or "").startswith("127."), (
        "tests use a Unix socket or loopback only"
    )
    name = f"{prefix}_{secrets.token_hex(4)}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as e:
        engine.dispose()
        where = socket_dir or f"{admin_url.host}:{admin_url.port}"
        pytest.fail(f"PostgreSQL at {where} is needed: {e.orig}")
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
