"""Keyed seals outside the database catch what the hash chain alone cannot: a chain rewritten
by someone with write access to the database (hashes recomputed), and the newest entries
deleted. On SQLite and PostgreSQL, through the library and through `mirror audit verify`."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from cli.main import main
from mirror.audit import AuditLog, audit_log, entry_hash
from mirror.audit_seal import AuditSeal
from mirror.auth.tables import auth_events
from mirror.storage import Store
from tests.test_audit import drop_guards, fill, store  # noqa: F401 - store: fixture
from tests.test_storage import db_url, pg_url  # noqa: F401 - fixtures


@pytest.fixture
def seal(tmp_path: Path) -> AuditSeal:
    return AuditSeal(tmp_path / "keys" / "audit.key", tmp_path / "audit.seals")


def rewrite_from(store: Store, entry_id: int, **values: str) -> None:  # noqa: F811
    """What an attacker with database access but no key does: edit, then rehash onwards."""
    drop_guards(store)
    with store.engine.begin() as conn:
        conn.execute(sa.update(audit_log).where(audit_log.c.id == entry_id).values(**values))
        rows = conn.execute(sa.select(audit_log).order_by(audit_log.c.id)).all()
        prev = rows[0].prev_hash
        for row in rows:
            digest = entry_hash(
                row.id,
                row.ts_ms,
                row.actor,
                row.via,
                row.action,
                row.target,
                row.detail,
                row.result,
                row.auth_event_id,
                prev,
            )
            conn.execute(
                sa.update(audit_log)
                .where(audit_log.c.id == row.id)
                .values(prev_hash=prev, hash=digest)
            )
            prev = digest


def test_sealed_log_verifies_and_the_key_is_private(store: Store, seal: AuditSeal) -> None:  # noqa: F811
    log = AuditLog(store.engine, seal=seal)
    fill(log, 4)
    report = log.verify()
    assert report.ok and report.sealed == 4, report
    assert "4 seals match" in report.text()
    assert seal.key_file.stat().st_mode & 0o077 == 0  # readable by EGO's user only
    key = seal.key_file.read_text().strip()
    with store.engine.connect() as conn:  # the key is nowhere in the database
        for row in conn.execute(sa.select(audit_log)):
            assert key not in str(tuple(row))


def test_a_rewritten_chain_passes_the_chain_but_not_the_seals(
    store: Store,  # noqa: F811
    seal: AuditSeal,
) -> None:
    fill(AuditLog(store.engine, seal=seal), 5)
    rewrite_from(store, 2, result="exit 0 (nothing to see)")
    assert AuditLog(store.engine).verify().ok  # the unkeyed chain is fooled
    report = AuditLog(store.engine, seal=seal).verify()
    assert not report.ok and "entry 2 is not the one sealed" in (report.reason or "")


def test_deleting_the_newest_entries_is_caught(store: Store, seal: AuditSeal) -> None:  # noqa: F811
    fill(AuditLog(store.engine, seal=seal), 5)
    drop_guards(store)
    with store.engine.begin() as conn:
        conn.execute(sa.delete(audit_log).where(audit_log.c.id >= 4))
    assert AuditLog(store.engine).verify().ok
    report = AuditLog(store.engine, seal=seal).verify()
    assert not report.ok and "entries 4-5 are gone" in (report.reason or ""), report


def test_a_seal_made_without_the_key_is_caught(store: Store, seal: AuditSeal) -> None:  # noqa: F811
    fill(AuditLog(store.engine, seal=seal), 2)
    forger = AuditSeal(seal.key_file.parent / "guess.key", seal.seal_file)
    forger.seal(9, "0" * 64)
    report = AuditLog(store.engine, seal=seal).verify()
    assert not report.ok and "line 3 is forged" in (report.reason or "")


def test_a_missing_key_is_reported_not_ignored(store: Store, seal: AuditSeal) -> None:  # noqa: F811
    fill(AuditLog(store.engine, seal=seal), 2)
    seal.key_file.unlink()
    report = AuditLog(store.engine, seal=AuditSeal(seal.key_file, seal.seal_file)).verify()
    assert not report.ok and "missing" in (report.reason or "")


def test_auth_events_are_append_only(store: Store) -> None:  # noqa: F811
    with store.engine.begin() as conn:
        conn.execute(sa.insert(auth_events).values(ts_ms=1, kind="login-ok", user_name="a"))
    for change in (sa.update(auth_events).values(user_name="b"), sa.delete(auth_events)):
        with (
            pytest.raises(sa.exc.DBAPIError, match="append-only"),
            store.engine.begin() as conn,
        ):
            conn.execute(change)


def test_cli_verify_uses_the_seals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "mirror.db"
    monkeypatch.setenv("MIRROR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MIRROR_DATABASE_URL", f"sqlite:///{db}")
    assert main(["audit", "list"]) == 0  # creates the database
    with Store.open(f"sqlite:///{db}") as store:  # noqa: F811
        fill(
            AuditLog(
                store.engine, seal=AuditSeal(tmp_path / "audit.key", tmp_path / "audit.seals")
            ),
            3,
        )
    assert main(["audit", "verify"]) == 0
    assert "3 seals match" in capsys.readouterr().out
    with Store.open(f"sqlite:///{db}") as store:
        rewrite_from(store, 1, actor="mallory")
    assert main(["audit", "verify"]) == 1
    assert "rewritten" in capsys.readouterr().out
