"""`mirror demo` as the README's first command runs it: a real process, real HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.sshd import free_port
from tests.test_demo_gear import _port_free_on_both

ROOT = Path(__file__).resolve().parents[1]


HEADERS: dict[str, str] = {}  # set by the test: the API needs a token (issue 5)


def get(url: str) -> bytes:
    request = urllib.request.Request(url, headers=HEADERS)
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.read()


def _read_token(data_dir: Path) -> str:
    """A token in the demo's own database, made before it starts (it keeps existing users)."""
    from mirror.auth import AuthService
    from mirror.storage import Store

    with Store.open(f"sqlite:///{data_dir / 'mirror.db'}") as store:
        store.upgrade()
        return AuthService(store.engine).create_token("test_demo", "read")[1]


def test_demo_serves_this_machine_and_the_lab(tmp_path: Path) -> None:
    port, sim_port = free_port(), free_port("127.77.0.10")
    env = {**os.environ, "MIRROR_DATA_DIR": str(tmp_path / "demo")}
    HEADERS["Authorization"] = f"Bearer {_read_token(tmp_path / 'demo')}"
    env.pop("MIRROR_DATABASE_URL", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli.main",
            "demo",
            "--hosts",
            "8",
            "--port",
            str(port),
            "--sim-port",
            str(sim_port),
            "--snmp-port",
            str(_port_free_on_both()),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    started, first_answer_s = time.monotonic(), None
    try:
        hosts: list[dict] = []
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            time.sleep(0.5)
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            try:
                hosts = json.loads(get(f"{base}/api/hosts"))
            except OSError:
                continue
            first_answer_s = first_answer_s or time.monotonic() - started
            if len(hosts) == 11 and all(h["state"] == "up" for h in hosts):
                break
        states = {h["name"]: h["state"] for h in hosts}
        # 8 simulated hosts, this machine, and the simulated switch and router (SNMP).
        assert len(states) == 11 and set(states.values()) == {"up"}, states
        assert first_answer_s is not None and first_answer_s < 10, first_answer_s
        kinds = {h["name"]: h["kind"] for h in hosts}
        assert kinds["core-switch"] == kinds["gateway"] == "snmp"
        topology = json.loads(get(f"{base}/api/topology"))
        links = {
            frozenset((e["node"], e["port"]) for e in (link["a"], link["b"])): link
            for link in topology["links"]
        }
        for i in range(1, 9):  # lab-0i cabled to the switch (documented: lab-05 on port 6)
            port = f"Gi1/0/{6 if i == 5 else i}"
            assert links[frozenset({("core-switch", port), (f"lab-0{i}", "eth0")})]
        # The room: the cable check finds the one cable documented on the wrong port.
        world = json.loads(get(f"{base}/api/world"))
        assert len(world["sites"][0]["rooms"][0]["racks"]) == 2
        assert sum(d["placed"] for d in world["devices"]) == 11
        deadline = time.monotonic() + 20
        while True:  # the host ports (eth0) are known after each host's first poll
            check = json.loads(get(f"{base}/api/world/cables/check"))
            if len(check["lines"]) == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        [line] = check["lines"]
        assert "cables[5] 'P-05': wrong-port: documented lab-05:eth0 — core-switch:Gi1/0/6" in line
        drift = subprocess.run(
            [sys.executable, "-m", "cli.main", "cables", "check", "-i",
             str(tmp_path / "demo" / "inventory.yaml")],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert drift.returncode == 1 and drift.stdout.splitlines() == [line], drift
        uplink = links[frozenset({("core-switch", "Te1/1/1"), ("gateway", "ether1")})]
        assert sorted(uplink["sources"]) == ["cable", "lldp"] and uplink["label"]
        ego = next(h for h in hosts if h["name"] == "ego")
        assert ego["local"] and ego["metrics"]["mem.total_bytes"] > 0
        assert "<table" in get(f"{base}/").decode() or b"<html" in get(f"{base}/")
        assert json.loads(get(f"{base}/api/health"))["status"] == "ok"
        inventory = (tmp_path / "demo" / "inventory.yaml").read_text()
        assert "127.77.0." in inventory
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    assert "MIRROR STAGE demo" in out
    assert "Traceback" not in err, err
