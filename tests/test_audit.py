"""The audit log: chain, verify, tamper detection, auth events, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from cli.main import main
from mirror.audit import GENESIS, AuditLog, audit_log
from mirror.auth import AuthService
from mirror.control import HostResult, ResultState
from mirror.storage import Store
from tests.test_storage import db_url, pg_url  # noqa: F401 - fixtures: SQLite and PostgreSQL


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:  # noqa: F811 - db_url is the imported fixture
    s = Store.open(db_url)
    s.upgrade()
    yield s
    s.close()


def fill(log: AuditLog, n: int = 5) -> None:
    for i in range(n):
        log.record(
            "alice", "session", "command", f"web{i}", {"command": "uptime", "n": i}, "exit 0"
        )


def drop_guards(store: Store) -> None:
    """What someone with write access to the database could do first."""
    with store.engine.begin() as conn:
        if store.dialect == "postgresql":
            conn.execute(sa.text("DROP TRIGGER audit_log_append_only ON audit_log"))
        else:
            conn.execute(sa.text("DROP TRIGGER audit_log_no_update"))
            conn.execute(sa.text("DROP TRIGGER audit_log_no_delete"))


def test_entries_are_chained_and_verify(store: Store) -> None:
    log = AuditLog(store.engine)
    fill(log)
    entries = log.entries(limit=10)
    assert [e.id for e in entries] == [5, 4, 3, 2, 1]
    assert entries[-1].prev_hash == GENESIS
    assert all(a.prev_hash == b.hash for a, b in itertools.pairwise(entries))
    assert entries[0].detail == {"command": "uptime", "n": 4}
    report = log.verify()
    assert report.ok and report.checked == 5 and report.head_hash == entries[0].hash
    assert [e.target for e in log.entries(target="web3")] == ["web3"]
    assert log.entries(action="wol") == []


def test_database_refuses_edits(store: Store) -> None:
    fill(AuditLog(store.engine), 2)
    for statement in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with (
            pytest.raises(sa.exc.DatabaseError, match="append-only"),
            store.engine.begin() as conn,
        ):
            conn.execute(sa.text(statement))


def test_edited_row_is_named(store: Store) -> None:
    log = AuditLog(store.engine)
    fill(log)
    drop_guards(store)
    with store.engine.begin() as conn:
        conn.execute(sa.update(audit_log).where(audit_log.c.id == 3).values(result="exit 1"))
    report = log.verify()
    assert not report.ok and report.broken_id == 3
    assert "changed" in (report.reason or "")


def test_rehashed_row_is_caught_by_the_next(store: Store) -> None:
    """Editing a row and fixing its own hash still breaks the link from the next entry."""
    log = AuditLog(store.engine)
    fill(log)
    drop_guards(store)
    with store.engine.begin() as conn:
        conn.execute(sa.update(audit_log).where(audit_log.c.id == 2).values(hash="f" * 64))
    report = log.verify()
    assert not report.ok and report.broken_id == 2


def test_deleted_row_is_named(store: Store) -> None:
    log = AuditLog(store.engine)
    fill(log)
    drop_guards(store)
    with store.engine.begin() as conn:
        conn.execute(sa.delete(audit_log).where(audit_log.c.id == 2))
    report = log.verify()
    assert not report.ok and report.broken_id == 2
    assert "missing" in (report.reason or "")


def test_auth_events_join_the_chain(store: Store) -> None:
    auth = AuthService(store.engine)
    log = AuditLog(store.engine)
    log.record("alice", "session", "command", "web1", None, "exit 0")
    _, secret = auth.create_token("ci", "read")
    assert auth.check_token(secret, "127.0.0.1") is not None
    assert auth.check_token("mst_wrong", "127.0.0.1") is None
    kinds = [e.action for e in log.entries(action="auth.")]
    assert kinds == ["auth.token-used", "auth.token-created"]
    assert log.verify().ok
    assert log.ingest_auth_events() == 0  # taken once


def test_second_writer_taking_the_same_auth_event_keeps_one_entry(store: Store) -> None:
    """EGO and a CLI each hold an AuditLog on one database; both may reach one auth event."""
    auth = AuthService(store.engine)
    ego, cli = AuditLog(store.engine), AuditLog(store.engine)
    auth.create_token("ci", "read")
    taken = ego.entries(action="auth.")
    assert len(taken) == 1
    event = taken[0]
    # The CLI read the event before EGO logged it: its append must not fail on the unique id.
    again = cli._append(event.actor, "auth", event.action, None, None, None, 1)
    assert again.id == event.id
    assert len(cli.entries(action="auth.")) == 1
    assert cli.verify().ok


def test_command_results_are_stored(store: Store) -> None:
    log = AuditLog(store.engine)
    result = HostResult("web1", ResultState.FAILED, 3, None, 0.5, "out", "err", 3, 3, False)
    log.save_results("run1", "alice", "false", [result])
    [row] = log.results("run1")
    assert row["exit_status"] == 3 and row["stdout"] == "out" and row["state"] == "failed"


def test_cli_audit_list_and_verify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "mirror.db"
    monkeypatch.setenv("MIRROR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MIRROR_DATABASE_URL", f"sqlite:///{db}")
    with Store.open(f"sqlite:///{db}") as store:
        store.upgrade()
        fill(AuditLog(store.engine), 3)
    assert main(["audit", "verify"]) == 0
    assert "intact: 3 entries" in capsys.readouterr().out
    assert main(["audit", "list", "--target", "web1"]) == 0
    out = capsys.readouterr().out
    assert "alice" in out and "web1" in out and "web2" not in out
    with Store.open(f"sqlite:///{db}") as store:
        drop_guards(store)
        with store.engine.begin() as conn:
            conn.execute(sa.delete(audit_log).where(audit_log.c.id == 2))
    assert main(["audit", "verify"]) == 1
    assert "BROKEN at entry 2" in capsys.readouterr().out
