"""Alembic environment for SQLite and PostgreSQL.

`mirror db upgrade` (``Store.upgrade``) passes its open connection in
``config.attributes["connection"]``; run standalone, the URL comes from the ``sqlalchemy.url``
option or ``MIRROR_DATABASE_URL`` (default: the SQLite file in the data directory).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import mirror.alerts.history  # registers the alert tables on ``metadata`` (issue 12)
import mirror.alerts.push  # … and the Web Push subscriptions
import mirror.audit  # registers the audit tables on ``metadata`` (issue 6)
import mirror.auth.tables  # registers the auth tables on ``metadata``
import mirror.topology_pins  # noqa: F401 - … and the map's pinned positions (issue 14)
from mirror.settings import Settings
from mirror.storage.schema import metadata

config = context.config


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=metadata,
        compare_type=True,
        # SQLite cannot ALTER most things: batch mode copies the table instead.
        render_as_batch=True,
        **kwargs,
    )


def _url() -> str:
    from mirror.storage.store import database_url

    url = config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url
    return database_url(url).render_as_string(hide_password=False)


def run_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from mirror.storage.store import Store

    store = Store.open(_url())
    try:
        with store.engine.begin() as conn:
            _run(conn)
    finally:
        store.close()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
