"""TimescaleDB: detection on the real PostgreSQL (which lacks it) and the SQL it would get.

TimescaleDB is in no package registry CI can use, so the statements are checked against the
documented API (create_hypertable/by_range, set_integer_now_func, ALTER TABLE … SET
(timescaledb.compress …), add_compression_policy, add_retention_policy) by inspection, and
``enable`` is run against a connection that records what it is asked to execute.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from mirror.storage import Store, timescale
from mirror.storage.retention import Retention
from tests.test_storage import pg_url  # noqa: F401 - fixture


def test_statements_follow_the_documented_api() -> None:
    sql = timescale.statements("2.17.2", Retention(raw_s=48 * 3600, compress_after_s=6 * 3600))
    text = "\n".join(sql)
    for table in ("samples", "rollup_1m", "rollup_1h"):
        assert re.search(
            rf"create_hypertable\('{table}', by_range\('ts_ms', \d+\), "
            r"create_default_indexes => FALSE, if_not_exists => TRUE, migrate_data => TRUE\)",
            text,
        )
        assert (
            f"set_integer_now_func('{table}', 'mirror_now_ms', replace_if_exists => TRUE)" in text
        )
    assert (
        "ALTER TABLE samples SET (timescaledb.compress, timescaledb.compress_segmentby = 'host_id',"
        " timescaledb.compress_orderby = 'ts_ms DESC')" in text
    )
    assert "add_compression_policy('samples', compress_after => BIGINT '21600000'" in text
    assert "add_retention_policy('samples', drop_after => BIGINT '172800000'" in text
    assert "add_retention_policy('rollup_1m', drop_after => BIGINT '2592000000'" in text
    assert "add_retention_policy('rollup_1h', drop_after => BIGINT '63072000000'" in text
    # Policies are set after compression is enabled, and the now() function before policies.
    assert text.index("mirror_now_ms() RETURNS bigint") < text.index("set_integer_now_func")
    assert text.index("timescaledb.compress,") < text.index("add_compression_policy")
    assert "continuous" not in text  # see the module docstring: a deliberate deviation


def test_older_timescale_gets_the_positional_create_hypertable() -> None:
    text = "\n".join(timescale.statements("2.11.0", Retention()))
    assert "create_hypertable('samples', 'ts_ms', chunk_time_interval => 21600000," in text
    assert "by_range" not in text


class _Recorder:
    """Stands in for a Connection on a server that has TimescaleDB available."""

    def __init__(self) -> None:
        self.dialect = sa.dialects.postgresql.dialect()
        self.executed: list[str] = []

    def scalar(self, stmt: Any, *args: Any) -> str | None:
        return "2.17.2" if "pg_available_extensions" in str(stmt) else None

    def execute(self, stmt: Any, *args: Any) -> None:
        self.executed.append(str(stmt))

    def begin_nested(self) -> Any:
        from contextlib import nullcontext

        return nullcontext()


def test_enable_issues_the_statements_when_timescale_is_available() -> None:
    conn = _Recorder()
    issued = timescale.enable(conn, Retention())  # type: ignore[arg-type]
    assert issued and conn.executed[0] == "CREATE EXTENSION IF NOT EXISTS timescaledb"
    assert conn.executed[1:] == issued


def test_plain_postgresql_is_detected_and_left_plain(pg_url: str) -> None:  # noqa: F811
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    with Store.open(pg_url) as store:
        assert store.upgrade() == []
        with store.engine.connect() as conn:
            found = timescale.detect(conn)
            assert found.installed is None
            assert timescale.retention_managed(conn) == set()
            brin = conn.scalar(
                sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_samples_ts_ms_brin'")
            )
    assert found.available is None, "this machine unexpectedly has TimescaleDB"
    assert "USING brin" in brin


@pytest.mark.parametrize("version", ["2.13.0", "2.28.1", "2.13.0-dev"])
def test_version_parsing(version: str) -> None:
    assert timescale._version(version) >= (2, 13)
