"""``mirror db backup`` / ``mirror db restore``: the whole database in one file.

One file holds everything EGO keeps: samples and their tiers, hosts, accounts, tokens (as
hashes), the audit log. SQLite is copied with its online backup API (a consistent copy while
EGO writes); PostgreSQL with ``pg_dump --format=custom`` and ``pg_restore``, TimescaleDB
included (``timescaledb_pre_restore``/``post_restore`` around the restore, as Timescale
documents). A password in the database URL goes to the tools in ``PGPASSWORD``, never on a
command line.

A restore never overwrites data silently: into SQLite it refuses an existing database with
hosts in it unless ``replace`` (then the old file is kept beside it as
``NAME.before-restore-<time>``); into PostgreSQL it wants an empty database. After a restore
the schema is brought to the latest migration, so EGO starts where the backup left off.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL

from mirror.errors import StorageError
from mirror.storage.store import Store, database_url

SUFFIX = {"sqlite": ".sqlite", "postgresql": ".pgdump"}
_TOOL_TIMEOUT_S = 3600


@dataclass(frozen=True, slots=True)
class Backup:
    path: Path
    size: int
    dialect: str
    seconds: float


def backup_name(now: float, dialect: str) -> str:
    """``mirror-20261205T130000Z.sqlite``: sorts by time, says what it holds."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"mirror-{stamp}{SUFFIX[dialect]}"


def backup(store: Store, dest: Path) -> Backup:
    """Write the database to ``dest`` (through a temporary file: a failed backup leaves no
    half file under that name)."""
    started = time.monotonic()
    dest = dest.expanduser()
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.partial")
    try:
        if store.dialect == "sqlite":
            _sqlite_backup(store, partial)
        elif store.dialect == "postgresql":
            _run_tool(
                ["pg_dump", "--format=custom", "--no-owner", f"--file={partial}"],
                store.engine.url,
                "pg_dump",
            )
        else:
            raise StorageError(f"cannot back up a {store.dialect} database")
        os.replace(partial, dest)
    except OSError as e:
        raise StorageError(f"writing the backup {dest}: {e.strerror or e}") from e
    finally:
        partial.unlink(missing_ok=True)
    return Backup(dest, dest.stat().st_size, store.dialect, time.monotonic() - started)


def restore(url: str, src: Path, *, replace: bool = False) -> Path | None:
    """Load ``src`` into the database at ``url``; the kept old SQLite file, if any."""
    src = src.expanduser()
    if not src.is_file():
        raise StorageError(f"no backup file at {src}")
    target = database_url(url)
    kind = _kind_of(src)
    dialect = target.get_backend_name()
    if kind != dialect:
        raise StorageError(f"{src} is a {kind} backup; the database at {_shown(url)} is {dialect}")
    if dialect == "sqlite":
        return _sqlite_restore(target, src, replace)
    _pg_restore(target, src)
    return None


def daily(store: Store, directory: Path, keep: int, now: float) -> Backup:
    """The running EGO's daily backup: a new file in ``directory``, then the oldest beyond
    ``keep`` deleted."""
    done = backup(store, directory / backup_name(now, store.dialect))
    rotate(directory, keep)
    return done


def rotate(directory: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest backups EGO made in ``directory``; the deleted."""
    made = sorted(
        p for p in directory.glob("mirror-*") if p.suffix in SUFFIX.values() and p.is_file()
    )
    doomed = made[:-keep] if keep > 0 else made
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


# -- SQLite ----------------------------------------------------------------------------


def _sqlite_backup(store: Store, dest: Path) -> None:
    raw = store.engine.raw_connection()
    try:
        source = raw.driver_connection
        assert isinstance(source, sqlite3.Connection)
        _sqlite_copy(source, dest)
    except sqlite3.Error as e:
        raise StorageError(f"backing up {store.url}: {e}") from e
    finally:
        raw.close()


def _sqlite_restore(target: URL, src: Path, replace: bool) -> Path | None:
    if not target.database or target.database == ":memory:":
        raise StorageError("restore needs a SQLite database file, not an in-memory one")
    path = Path(target.database).expanduser()
    _check_sqlite_backup(src)
    kept = None
    if path.exists() and _has_hosts(path):
        if not replace:
            raise StorageError(
                f"{path} already holds data: stop EGO, then restore with --replace "
                "(the current file is kept beside it)"
            )
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        kept = path.with_name(f"{path.name}.before-restore-{stamp}")
        _sqlite_copy(path, kept)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.restoring")
    try:
        shutil.copyfile(src, partial)
        for side in ("-wal", "-shm"):  # the old file's journal must not meet the new file
            Path(f"{path}{side}").unlink(missing_ok=True)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    with Store.open(f"sqlite:///{path}") as store:
        store.upgrade()
    return kept


def _check_sqlite_backup(src: Path) -> None:
    try:
        with sqlite3.connect(f"file:{src}?mode=ro", uri=True) as conn:
            if conn.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                raise StorageError(f"{src} is damaged (SQLite integrity check failed)")
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as e:
        raise StorageError(f"{src} is not a SQLite database: {e}") from e
    if "alembic_version" not in tables:
        raise StorageError(f"{src} is a SQLite database but not one of EGO's")


def _has_hosts(path: Path) -> bool:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT EXISTS (SELECT 1 FROM hosts)").fetchone() == (1,)
    except sqlite3.DatabaseError:
        return path.stat().st_size > 0


def _sqlite_copy(source: sqlite3.Connection | Path, dest: Path) -> None:
    """A consistent copy of ``source`` (a connection, or a file opened read-only) in a new
    file ``dest``: SQLite's online backup, consistent even while another connection writes."""
    dest.unlink(missing_ok=True)
    if isinstance(source, Path):
        opened = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    else:
        opened = source
    copy = sqlite3.connect(dest)
    try:
        opened.backup(copy)
    finally:
        copy.close()
        if opened is not source:
            opened.close()


# -- PostgreSQL ------------------------------------------------------------------------


def _pg_restore(target: URL, src: Path) -> None:
    engine = sa.create_engine(target.set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as conn:
            tables = conn.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN "
                    "('pg_catalog', 'information_schema', '_timescaledb_catalog', "
                    "'_timescaledb_internal', '_timescaledb_config', '_timescaledb_cache', "
                    "'_timescaledb_functions', 'timescaledb_information', "
                    "'timescaledb_experimental')"
                )
            )
            if tables:
                raise StorageError(
                    f"the database at {_shown(target)} is not empty ({tables} tables): "
                    "restore into a new, empty database, then point MIRROR_DATABASE_URL at it"
                )
        listing = _run_tool(["pg_restore", "--list", str(src)], None, "pg_restore")
        timescale = "EXTENSION - timescaledb" in listing
        if timescale:
            with engine.begin() as conn:
                conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS timescaledb"))
                conn.execute(sa.text("SELECT timescaledb_pre_restore()"))
        try:
            _run_tool(
                ["pg_restore", "--no-owner", "--exit-on-error", str(src)], target, "pg_restore"
            )
        finally:
            if timescale:
                with engine.begin() as conn:
                    conn.execute(sa.text("SELECT timescaledb_post_restore()"))
    except sa.exc.SQLAlchemyError as e:
        raise StorageError(f"restoring into {_shown(target)}: {e.__class__.__name__}: {e}") from e
    finally:
        engine.dispose()
    with Store.open(target.render_as_string(hide_password=False)) as store:
        store.upgrade()


def _run_tool(argv: list[str], url: URL | None, tool: str) -> str:
    if shutil.which(argv[0]) is None:
        raise StorageError(
            f"{tool} not found: install PostgreSQL's client tools (postgresql-client)"
        )
    env = dict(os.environ)
    if url is not None:
        if url.password:
            env["PGPASSWORD"] = str(url.password)
        libpq = url.set(drivername="postgresql", password=None)
        argv = [*argv, f"--dbname={libpq.render_as_string(hide_password=False)}"]
    try:
        done = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=_TOOL_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as e:
        raise StorageError(f"{tool} did not finish in {_TOOL_TIMEOUT_S} s") from e
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        raise StorageError(f"{tool} failed: {reason}")
    return done.stdout


def _kind_of(src: Path) -> str:
    with src.open("rb") as f:
        head = f.read(16)
    if head.startswith(b"SQLite format 3"):
        return "sqlite"
    if head.startswith(b"PGDMP"):
        return "postgresql"
    raise StorageError(f"{src} is neither a SQLite database nor a pg_dump archive")


def _shown(url: URL | str) -> str:
    return (url if isinstance(url, URL) else database_url(url)).render_as_string(hide_password=True)
