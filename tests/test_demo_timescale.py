"""`mirror demo` storing into TimescaleDB (``MIRROR_DATABASE_URL`` pointing at the suite's
cluster): the lab's live collector snapshots land in the narrow layout's hypertable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from mirror.auth import AuthService
from tests.support import tsdb as tsdb_support
from tests.support.sshd import free_port
from tests.test_demo import HEADERS, ROOT, get
from tests.test_demo_gear import _port_free_on_both


def test_demo_stores_into_timescaledb(tmp_path: Path, tsdb: tsdb_support.Tsdb) -> None:
    if not tsdb.real:
        pytest.skip(f"a demo process needs a server that takes many connections ({tsdb.label})")
    with tsdb_support.open_store(tsdb) as store:
        store.upgrade()
        HEADERS["Authorization"] = (
            f"Bearer {AuthService(store.engine).create_token('test_demo', 'read')[1]}"
        )
    port, sim_port = free_port(), free_port("127.77.0.10")
    env = {**os.environ, "MIRROR_DATA_DIR": str(tmp_path / "demo"), "MIRROR_DATABASE_URL": tsdb.url}
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "cli.main", "demo", "--hosts", "3", "--port", str(port),
            "--sim-port", str(sim_port), "--snmp-port", str(_port_free_on_both()),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    engine = sa.create_engine(tsdb.url)
    try:
        # 3 simulated hosts, this machine, the switch and the router: all in the hypertable.
        wanted = {"lab-01", "lab-02", "lab-03", "ego", "core-switch", "gateway"}
        hosts: set[str] = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not wanted <= hosts:
            time.sleep(1)
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            with engine.connect() as conn:
                hosts = set(
                    conn.scalars(
                        sa.text(
                            "SELECT DISTINCT h.name FROM points AS p "
                            "JOIN series AS s ON s.id = p.series_id "
                            "JOIN hosts AS h ON h.id = s.host_id"
                        )
                    )
                )
        assert wanted <= hosts, hosts
        with engine.connect() as conn:
            ints = conn.scalar(
                sa.text(
                    "SELECT count(*) FROM points AS p JOIN series AS s ON s.id = p.series_id "
                    "WHERE s.name = 'mem.total_bytes'"
                )
            )
        assert ints >= 4  # the integer series the collectors report are stored too
        health = json.loads(get(f"http://127.0.0.1:{port}/api/health"))
        assert health["storage"]["writable"] is True
        assert not [p for p in health["problems"] if "not writable" in p]
    finally:
        engine.dispose()
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    assert "Traceback" not in err, err
    assert "refused a batch" not in err, err
