"""A real TimescaleDB for tests.

First choice: a PostgreSQL 15 cluster of the suite's own (``pgserver``: initdb as user
postgres in a temporary folder, its Unix socket there, a free port on 127.0.0.1) with the
TimescaleDB that ``../shared/timescaledb/install.sh`` installs into PostgreSQL's files
(``scripts/setup.sh --test`` runs it), preloaded, telemetry off, with enough worker processes
for the scheduler and the policies. One cluster serves the whole session; each test gets a
database of its own. The machine's shared PostgreSQL server is never touched.

Fallback, where those files are absent: PGlite (PostgreSQL compiled to WASM) with the
timescaledb extension, served over the wire protocol on loopback by
``timescale/server.mjs`` (npm packages that ``scripts/setup.sh --test`` installs). It is one
in-memory database that serves one connection at a time, started per test; tests that need
the real server's background scheduler skip there. Which one ran is printed in the session
header (``pytest_report_header``) and in each skip.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from mirror.storage import Store
from tests.support.pgserver import PG_BIN, PgServer, start_pg

HERE = Path(__file__).resolve().parent / "timescale"
PORTS = range(55430, 55440)  # a fixed, unusual range: other servers on the machine stay clear
START_TIMEOUT_S = 60

# What install.sh puts in place (paths of Debian's postgresql-15).
INSTALLED = (
    PG_BIN.parent / "lib" / "timescaledb.so",
    Path("/usr/share/postgresql/15/extension/timescaledb.control"),
)
CLUSTER_SETTINGS = (
    "shared_preload_libraries=timescaledb",
    "timescaledb.telemetry_level=off",
    # Background workers: the launcher, one scheduler per database with the extension, and
    # the jobs running at once; PostgreSQL's default max_worker_processes (8) is too few
    # (what `mirror db info` asks for: background workers + parallel workers + 3).
    "max_worker_processes=40",
)
# Tests that check data run the jobs themselves (CALL run_job): a scheduler running the
# same jobs at moments of its choosing would make them depend on timing. Those that watch
# the scheduler get a cluster where it runs.
WORKERS = {
    False: "timescaledb.max_background_workers=0",
    True: "timescaledb.max_background_workers=24",
}


def cluster_missing() -> str | None:
    """Why the suite's own TimescaleDB cluster cannot start here, or None."""
    if not (PG_BIN / "initdb").exists():
        return f"PostgreSQL server binaries not found in {PG_BIN}"
    absent = [str(p) for p in INSTALLED if not p.exists()]
    if absent:
        return (
            f"TimescaleDB not installed ({', '.join(absent)} missing; "
            "run ../shared/timescaledb/install.sh as root, or scripts/setup.sh --test)"
        )
    return None


def pglite_missing() -> str | None:
    """Why the PGlite fallback cannot start here, or None."""
    if shutil.which("node") is None:
        return "node not found (the PGlite fallback runs on node)"
    if not (HERE / "node_modules" / "@unni-craftsman" / "pglite").is_dir():
        return f"npm packages not installed in {HERE} (run scripts/setup.sh --test)"
    return None


@dataclass
class TsdbCluster:
    """The suite's PostgreSQL cluster with TimescaleDB preloaded."""

    server: PgServer
    scheduler: bool

    def __post_init__(self) -> None:
        self._admin = sa.create_engine(self.server.url, isolation_level="AUTOCOMMIT")
        self.version = self._admin_scalar(
            "SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'"
        )

    def _admin_scalar(self, sql: str) -> Any:
        with self._admin.connect() as conn:
            return conn.scalar(sa.text(sql))

    @property
    def label(self) -> str:
        jobs = "scheduler on" if self.scheduler else "scheduler off"
        return (
            f"TimescaleDB {self.version} in the suite's PostgreSQL 15 cluster "
            f"({self.server.url}, {jobs})"
        )

    @contextmanager
    def database(self) -> Iterator[str]:
        """A new empty database (URL), dropped afterwards."""
        name = f"tsdb_{secrets.token_hex(4)}"
        with self._admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield sa.make_url(self.server.url).set(database=name).render_as_string(False)
        finally:
            with self._admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def stop(self) -> None:
        self._admin.dispose()
        self.server.destroy()


def start_cluster(*, scheduler: bool = False) -> TsdbCluster:
    server = start_pg((*CLUSTER_SETTINGS, WORKERS[scheduler]))
    try:
        return TsdbCluster(server, scheduler)
    except Exception:
        server.destroy()
        raise


@dataclass(frozen=True)
class Tsdb:
    """One empty TimescaleDB database for a test."""

    url: str
    real: bool  # the suite's cluster (True) or the PGlite fallback
    label: str


@dataclass
class PgliteServer:
    process: subprocess.Popen[str]
    port: int

    @property
    def url(self) -> str:
        # PGlite asks for a password and takes any; it has no TLS, so libpq must not ask.
        return f"postgresql://postgres:pglite@127.0.0.1:{self.port}/postgres?sslmode=disable"

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()  # the server stops when its stdin closes
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def start_pglite() -> PgliteServer:
    port = _free_port()
    process = subprocess.Popen(
        ["node", str(HERE / "server.mjs"), str(port)],
        cwd=HERE,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = PgliteServer(process, port)
    deadline = time.monotonic() + START_TIMEOUT_S
    assert process.stdout is not None
    # The server prints "ready PORT" once listening (readline blocks; the deadline bounds
    # the wait between lines, and a dead server ends the loop with EOF).
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith("ready"):
            return server
        if not line and process.poll() is not None:
            break
    server.stop()
    raise RuntimeError(f"PGlite TimescaleDB server did not start on port {port}")


def open_store(db: Tsdb | str) -> Store:
    """``Store.open`` for a test database. On PGlite psycopg must not prepare statements,
    because every client shares PGlite's one backend and a new connection reuses the names
    (_pg3_0…)."""
    url = db.url if isinstance(db, Tsdb) else db
    store = Store.open(url)
    if isinstance(db, Tsdb) and not db.real:
        sa.event.listen(store.engine, "connect", _no_prepare)
        store.engine.dispose()
    return store


def _no_prepare(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.prepare_threshold = None
