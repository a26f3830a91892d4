"""`mirror db backup` / `mirror db restore` through the CLI, into fresh real databases."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mirror.audit import AuditLog
from mirror.auth import AuthService
from mirror.model import HostState, PollStatus, Snapshot
from mirror.storage import Store, query
from mirror.storage.backup import backup_name, daily, rotate
from tests.support.pgdb import new_pg_database

ROOT = Path(__file__).resolve().parents[1]
T0 = 1_767_225_600.0


def mirror(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def fill(url: str) -> None:
    """Samples (two polls), an account with a token, audit entries: what a backup must keep."""
    with Store.open(url) as store:
        store.upgrade()
        for i in range(2):
            ts = T0 + 5 * i
            store.write(
                [Snapshot("nas", ts, {"cpu.busy_pct": 10.0 + i, "mem.used_bytes": 2**30 + i})],
                [PollStatus("nas", HostState.UP, ts, None, 3.0)],
            )
        auth = AuthService(store.engine)
        auth.add_user("owner", "correct horse battery", "admin")
        auth.create_token("grafana", "read", user="owner")
        audit = AuditLog(store.engine)
        audit.record("owner", "cli", "user.add", "owner", {"role": "admin"})


def contents(url: str) -> dict[str, object]:
    with Store.open(url) as store:
        points = query.series(store, "nas", "cpu.busy_pct", T0 - 1, T0 + 60).points
        users = [u["name"] for u in AuthService(store.engine).list_users()]
        tokens = [t.name for t in AuthService(store.engine).list_tokens()]
        report = AuditLog(store.engine).verify()
    return {"points": points, "users": users, "tokens": tokens, "audit": report.checked}


def test_sqlite_round_trip_through_the_cli(tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path / 'live' / 'mirror.db'}"
    fill(source)
    file = tmp_path / "out" / "nightly.sqlite"
    made = mirror({"MIRROR_DATABASE_URL": source}, "db", "backup", str(file))
    assert made.returncode == 0, made.stderr
    assert f"to {file}" in made.stdout

    fresh = f"sqlite:///{tmp_path / 'new' / 'mirror.db'}"
    restored = mirror({"MIRROR_DATABASE_URL": fresh}, "db", "restore", str(file))
    assert restored.returncode == 0, restored.stderr
    assert "audit log intact" in restored.stdout
    assert contents(fresh) == contents(source)
    assert contents(fresh)["points"], "no samples came back"


def test_restore_never_overwrites_data_silently(tmp_path: Path) -> None:
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    fill(f"sqlite:///{a}")
    fill(f"sqlite:///{b}")
    file = tmp_path / "a.sqlite"
    assert (
        mirror({"MIRROR_DATABASE_URL": f"sqlite:///{a}"}, "db", "backup", str(file)).returncode == 0
    )
    before = b.read_bytes()
    refused = mirror({"MIRROR_DATABASE_URL": f"sqlite:///{b}"}, "db", "restore", str(file))
    assert refused.returncode == 1
    assert "already holds data" in refused.stderr and "Traceback" not in refused.stderr
    assert b.read_bytes() == before

    replaced = mirror(
        {"MIRROR_DATABASE_URL": f"sqlite:///{b}"}, "db", "restore", str(file), "--replace"
    )
    assert replaced.returncode == 0, replaced.stderr
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("b.db.before-restore-")]
    assert len(kept) == 1 and f"kept as {kept[0]}" in replaced.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "neither a SQLite database nor a pg_dump archive"),
        (b"PK\x03\x04 a zip file", "neither a SQLite database nor a pg_dump archive"),
        (b"SQLite format 3\x00" + b"\xff" * 4000, "is not a SQLite database"),
    ],
)
def test_a_bad_backup_file_is_named_and_nothing_is_written(
    tmp_path: Path, content: bytes, message: str
) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(content)
    target = tmp_path / "target.db"
    done = mirror({"MIRROR_DATABASE_URL": f"sqlite:///{target}"}, "db", "restore", str(bad))
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not target.exists()


def test_daily_backups_keep_the_newest(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mirror.db'}"
    fill(url)
    folder = tmp_path / "backups"
    with Store.open(url) as store:
        for day in range(4):
            daily(store, folder, keep=2, now=T0 + day * 86400)
    names = sorted(p.name for p in folder.iterdir())
    assert names == [backup_name(T0 + 2 * 86400, "sqlite"), backup_name(T0 + 3 * 86400, "sqlite")]
    (folder / "notes.txt").write_text("mine")
    assert rotate(folder, 1) == [folder / names[0]]
    assert (folder / "notes.txt").exists()  # only files EGO named are rotated


@pytest.fixture
def two_pg_databases() -> Iterator[tuple[str, str]]:
    with new_pg_database("mirror_backup") as source, new_pg_database("mirror_backup") as fresh:
        yield source, fresh


def test_postgresql_round_trip_into_an_empty_database(
    two_pg_databases: tuple[str, str], tmp_path: Path
) -> None:
    source, fresh = two_pg_databases
    fill(source)
    file = tmp_path / "pg.pgdump"
    made = mirror({"MIRROR_DATABASE_URL": source}, "db", "backup", str(file))
    assert made.returncode == 0, made.stderr
    assert file.read_bytes().startswith(b"PGDMP")
    restored = mirror({"MIRROR_DATABASE_URL": fresh}, "db", "restore", str(file))
    assert restored.returncode == 0, restored.stderr
    assert contents(fresh) == contents(source)
    again = mirror({"MIRROR_DATABASE_URL": fresh}, "db", "restore", str(file))
    assert again.returncode == 1 and "is not empty" in again.stderr
    wrong = mirror(
        {"MIRROR_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}, "db", "restore", str(file)
    )
    assert wrong.returncode == 1 and "is a postgresql backup" in wrong.stderr
