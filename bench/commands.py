"""Command fan-out: `mirror run --group lab -- uptime` on N simulated hosts, as a user runs it.

Three processes: the asyncssh simulator (its CPU is not EGO's), EGO (`mirror serve` polling
every simulated host every 5 s, as in daily use) and, for each round, the `mirror` CLI.
Two cases per round:

``ego``    — `mirror run` goes through EGO's API: each host's command is a new channel on
             the connection EGO's poll loop already holds (no login); output streams back
             over the run's WebSocket. Token from ``MIRROR_TOKEN``.
``direct`` — `mirror run --direct`: the CLI logs in to every host itself (TCP, key
             exchange, authentication), as it does when no EGO answers.

Reported: time until all results are in (the CLI process from start to exit, Python
start-up included; measured on its own too), per-host p50/p99 of ``duration_s`` (channel
open to exit status; EGO: no login to wait for), and how many hosts answered `uptime`.

Run: .venv/bin/python bench/commands.py [--hosts 254] [--rounds 5]
Target (issue 6): all 254 results in under 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import percentile, simulate, simulator  # noqa: E402
from lab import ensure_keys, lab_inventory, make_lab  # noqa: E402
from mirror.auth import AuthService  # noqa: E402
from mirror.process import stop_process  # noqa: E402
from mirror.storage import Store  # noqa: E402
from tests.support.sshd import free_port  # noqa: E402


def write_inventory(hosts: int, client_key: Path, sim_port: int, path: Path) -> None:
    data = lab_inventory(make_lab(hosts), client_key, sim_port, connect_timeout_s=10)
    data["groups"] = {"lab": {}}
    for host in data["hosts"]:
        host["groups"] = ["lab"]
    path.write_text(yaml.safe_dump(data))


def wait_until_up(url: str, token: str, hosts: int, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    headers = {"Authorization": f"Bearer {token}"}
    while time.monotonic() < deadline:
        try:
            listed = httpx.get(f"{url}/api/hosts", headers=headers, timeout=10).json()
            if isinstance(listed, list) and sum(h["state"] == "up" for h in listed) >= hosts:
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(1)
    raise RuntimeError(f"EGO did not see {hosts} hosts up within {timeout_s:g} s")


def cli_run(env: dict[str, str], *extra: str) -> dict[str, Any]:
    argv = [sys.executable, "-m", "cli", "run", *extra, "--json", "--group", "lab"]
    started = time.perf_counter()
    done = subprocess.run(
        [*argv, "--", "uptime"], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(f"mirror run failed ({done.returncode}): {done.stderr.strip()}")
    results = json.loads(done.stdout)
    per_host = [r["duration_s"] for r in results]
    return {
        "wall_s": wall,
        "p50_ms": percentile(per_host, 50) * 1000,
        "p99_ms": percentile(per_host, 99) * 1000,
        "ok": sum(r["state"] == "ok" and "load average" in r["stdout"] for r in results),
        "notice": done.stderr.strip().splitlines()[:1],
    }


def startup_s(env: dict[str, str]) -> float:
    """The CLI's own start-up (imports, argument parsing), part of every `mirror run`."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "cli", "run", "--help"],
        env=env, cwd=ROOT, capture_output=True, check=True,
    )  # fmt: skip
    return time.perf_counter() - started


def measure(hosts: int, rounds: int, work: Path) -> tuple[list[dict[str, Any]], float]:
    keys, data = work / "keys", work / "data"
    data.mkdir()
    _, client_key, _ = ensure_keys(keys)
    inventory = work / "inventory.yaml"
    store = Store.open(f"sqlite:///{data / 'mirror.db'}")
    store.upgrade()
    _, token = AuthService(store.engine).create_token("bench", "operate")
    store.close()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    base = {k: v for k, v in os.environ.items() if not k.startswith("MIRROR_")}
    env = base | {
        "MIRROR_DATA_DIR": str(data),
        "MIRROR_INVENTORY": str(inventory),
        "MIRROR_PORT": str(port),
        "MIRROR_SERVER": url,
        "MIRROR_TOKEN": token,
        "PYTHONPATH": str(ROOT),
    }
    with simulator(__file__, hosts, keys) as sim_port:
        write_inventory(hosts, client_key, sim_port, inventory)
        ego = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_until_up(url, token, hosts)
            rows = []
            for i in range(rounds):
                rows.append({"case": "ego", "round": i + 1, **cli_run(env)})
                rows.append({"case": "direct", "round": i + 1, **cli_run(env, "--direct")})
            return rows, startup_s(env)
        finally:
            stop_process(ego)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--hosts", type=int, default=254)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--role", choices=["bench", "sim"], default="bench")
    parser.add_argument("--keys", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.role == "sim":
        asyncio.run(simulate(args.hosts, args.keys))
        return
    with tempfile.TemporaryDirectory(prefix="mirror-bench-cmd-") as tmp:
        rows, startup = measure(args.hosts, args.rounds, Path(tmp))
    print(
        f"\n`mirror run --group lab -- uptime` on {args.hosts} simulated hosts "
        f"(default --parallel), {os.cpu_count()} cores; EGO polling them every 5 s; "
        "simulator in its own process\n"
    )
    header = f"{'case':>6} {'round':>5} {'all in (s)':>10} {'p50 ms':>8} {'p99 ms':>8} {'ok':>5}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['case']:>6} {r['round']:>5} {r['wall_s']:>10.3f} {r['p50_ms']:>8.1f} "
            f"{r['p99_ms']:>8.1f} {r['ok']:>5}"
        )
    print(f"\nCLI start-up alone (`mirror run --help`): {startup:.3f} s")
    for case in ("ego", "direct"):
        walls = sorted(r["wall_s"] for r in rows if r["case"] == case)
        p99 = max(r["p99_ms"] for r in rows if r["case"] == case)
        print(
            f"{case}: all in median {walls[len(walls) // 2]:.3f} s, worst {walls[-1]:.3f} s; "
            f"worst per-host p99 {p99:.1f} ms (target: all in < 2 s)"
        )
    notices = {n for r in rows if r["case"] == "ego" for n in r["notice"]}
    if notices:
        print(f"warning: the ego case printed {notices}: did it fall back?")


if __name__ == "__main__":
    main()
