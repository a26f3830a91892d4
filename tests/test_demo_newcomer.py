"""What a newcomer does beside `mirror demo`: the printed token, and the CLI from the same
folder finding the demo's data (a real demo process, real HTTP, the real CLI)."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

from tests.support.sshd import free_port
from tests.test_demo_gear import _port_free_on_both

MIRROR = [sys.executable, "-m", "cli.main"]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIRROR_")}
    env["HOME"] = str(home)  # the default data folder, ~/.local/share/mirror-stage, is here
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    return env


def _mirror(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*MIRROR, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def _get(url: str, token: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0  # not listening yet


def test_the_cli_beside_the_demo_finds_its_data(tmp_path: Path) -> None:
    project, home = tmp_path / "project", tmp_path / "home"
    project.mkdir()
    env = _env(home)
    port, sim_port = free_port(), free_port("127.77.0.10")
    demo = subprocess.Popen(
        [
            *MIRROR,
            "demo",
            "--hosts",
            "3",
            "--port",
            str(port),
            "--sim-port",
            str(sim_port),
            "--snmp-port",
            str(_port_free_on_both()),
        ],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    banner: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert demo.stdout is not None
        for line in demo.stdout:
            banner.append(line)
            if "Ctrl-C stops it" in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(40), "".join(banner)
        text = "".join(banner)
        # A ready read-only token, and the README's curl line with it.
        token = re.search(r"API token\s+(mst_\S+)", text)
        assert token, text
        token_file = project / ".mirror-demo" / "api-token"
        assert token_file.read_text().strip() == token.group(1)
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert '$(cat .mirror-demo/api-token)" http://127.0.0.1:' in text
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while _get(f"{base}/api/health") != 200 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert _get(f"{base}/api/hosts", token.group(1)) == 200
        assert _get(f"{base}/api/hosts") == 401

        # From the project folder, with no MIRROR_* set: the demo's database, said aloud.
        demo_db = f"sqlite:///{project / '.mirror-demo' / 'mirror.db'}"
        info = _mirror(["db", "info"], project, env)
        assert info.returncode == 0, info.stderr
        assert f"database  {demo_db}" in info.stdout
        assert "using the running demo's data" in info.stderr and demo_db in info.stderr
        audit = _mirror(["audit", "list"], project, env)
        assert audit.returncode == 0 and "auth.user-added" in audit.stdout, audit.stderr
        # `mirror run` reaches the demo's EGO (its port, a token minted in its database).
        run = _mirror(["run", "--host", "lab-01", "--", "uname"], project, env)
        assert run.returncode == 0 and "Linux" in run.stdout, run.stdout + run.stderr
        assert "no EGO" not in run.stderr.lower()
        # An explicit database wins over the demo's.
        other = {**env, "MIRROR_DATA_DIR": str(tmp_path / "other")}
        mine = _mirror(["db", "info"], project, other)
        assert "using the running demo" not in mine.stderr and demo_db not in mine.stdout
        assert mine.returncode == 1 and f"no database at sqlite:///{tmp_path}/other/" in mine.stderr
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=20)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait()
    # Stopped: the mark is gone, and the CLI says loudly that its database is empty.
    assert not (project / ".mirror-demo" / "demo.json").exists()
    after = _mirror(["db", "info"], project, env)
    assert "using the running demo" not in after.stderr
    default_db = home / ".local/share/mirror-stage/mirror.db"
    assert after.returncode == 1 and f"no database at sqlite:///{default_db}" in after.stderr
    empty = _mirror(["audit", "list"], project, env)  # creates the database, as before
    assert empty.stdout == "" and "holds no audit entries yet" in empty.stderr
    assert str(default_db) in empty.stderr
    upgraded = _mirror(["db", "info"], project, env)
    assert upgraded.returncode == 0 and "holds no hosts or samples yet" in upgraded.stderr


def test_a_mark_left_by_a_dead_demo_is_ignored(tmp_path: Path) -> None:
    from mirror import demo_mark

    gone = subprocess.Popen(["true"])
    gone.wait()
    (tmp_path / demo_mark.DEMO_DIR).mkdir()
    mark = demo_mark.DemoMark(
        pid=gone.pid,
        data_dir=str(tmp_path / demo_mark.DEMO_DIR),
        database_url="sqlite:///x.db",
        inventory="inv.yaml",
        bind_host="127.0.0.1",
        bind_port=8077,
        web_url="http://127.0.0.1:8077/",
    )
    demo_mark.write(mark)
    assert demo_mark.running(tmp_path) is None
    demo_mark.write(replace(mark, pid=os.getpid()))  # a live one
    assert demo_mark.running(tmp_path) == replace(mark, pid=os.getpid())
    env = {"MIRROR_PORT": "9000"}
    assert demo_mark.adopt(env, tmp_path) is not None
    assert env["MIRROR_DATABASE_URL"] == "sqlite:///x.db" and env["MIRROR_PORT"] == "9000"
    assert demo_mark.adopt({"MIRROR_DATABASE_URL": "sqlite:///mine.db"}, tmp_path) is None
