"""Stored command results are trimmed by the hourly retention job (MIRROR_RETENTION_COMMANDS);
the audit log itself is append-only and keeps every entry. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from mirror.audit import AuditLog
from mirror.control import HostResult, ResultState
from mirror.errors import ConfigError
from mirror.settings import Settings
from mirror.storage import Store
from mirror.storage.retention import Retention
from poller.jobs import retain
from tests.test_audit import store  # noqa: F401 - fixture: an upgraded store per database
from tests.test_storage import db_url, pg_url  # noqa: F401 - fixtures: SQLite and PostgreSQL

DAY_S = 86400.0
NOW_S = 1_800_000_000.0


def test_old_command_results_go_and_the_audit_log_stays(store: Store) -> None:  # noqa: F811
    results = [HostResult("web1", ResultState.OK, exit_status=0, stdout="up 3 days\n")]
    for run_id, age_days in (("old", 91), ("edge", 89), ("new", 1)):
        log = AuditLog(store.engine, clock=lambda age=age_days: NOW_S - age * DAY_S)
        log.record("alice", "session", "command", "web1", {"run_id": run_id}, "started")
        log.save_results(run_id, "alice", "uptime", results)

    deleted = retain(store, round(NOW_S * 1000), Retention(commands_s=90 * DAY_S))

    log = AuditLog(store.engine)
    assert deleted["commands"] == 1
    assert log.results("old") == []
    assert [r["stdout"] for r in log.results("edge") + log.results("new")] == ["up 3 days\n"] * 2
    assert len(log.entries()) == 3 and log.verify().ok  # nothing trimmed from the chain
    assert retain(store, round(NOW_S * 1000), Retention(commands_s=90 * DAY_S))["commands"] == 0


def test_the_retention_is_a_setting() -> None:
    base = {"MIRROR_DATA_DIR": "/tmp/x"}
    assert Retention.from_settings(Settings.from_env(base)).commands_s == 90 * DAY_S
    settings = Settings.from_env(base | {"MIRROR_RETENTION_COMMANDS": "2w"})
    assert Retention.from_settings(settings).commands_s == 14 * DAY_S
    with pytest.raises(ConfigError, match="MIRROR_RETENTION_COMMANDS"):
        Settings.from_env(base | {"MIRROR_RETENTION_COMMANDS": "forever"})
