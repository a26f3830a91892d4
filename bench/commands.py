"""Command fan-out: `uptime` on N simulated hosts at once, through the command runner.

The simulator runs in its own process (its CPU is not EGO's). Two cases per size:
``warm`` — the hosts' connections are already open, as in `mirror serve`, where commands
ride the poll loops' connections (a new channel each, no login); ``cold`` — the run opens
every connection itself (key exchange and login included), as `mirror run` does without
a server. Reported: time until all results are in, per-host p50/p99 (channel open to exit
status, connecting included when cold), and how many hosts answered.

Run: .venv/bin/python bench/commands.py [--hosts 254] [--rounds 5] [--parallel 256]
Target (issue 6): all 254 results in under 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mirror.control import CommandRequest, ResultState
from mirror.inventory import Inventory
from mirror.sim import LabServer, ensure_keys, make_lab
from poller.commands import OwnConnections, run_command
from poller.ssh import KnownHosts

PORT = 22079


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


async def simulate(hosts: int, keys: Path) -> None:
    host_key, _, client_pub = ensure_keys(keys)
    server = LabServer(make_lab(hosts), PORT, host_key, client_pub)
    await server.start()
    print("ready", flush=True)
    await asyncio.Event().wait()


def lab_inventory(hosts: int, client_key: Path) -> Inventory:
    ssh = {
        "user": "mirror",
        "port": PORT,
        "key_file": str(client_key),
        "agent": False,
        "trust_on_first_use": True,
        "connect_timeout_s": 10,
    }
    lab = make_lab(hosts)
    return Inventory.from_dict(
        {"defaults": {"ssh": ssh}, "hosts": [{"name": h.name, "address": h.address} for h in lab]}
    )


async def fan_out(
    source: OwnConnections, names: tuple[str, ...], parallel: int
) -> dict[str, float]:
    request = CommandRequest("uptime", names, timeout_s=30, concurrency=parallel)
    started = time.perf_counter()
    results = await run_command(source, request, lambda _: None)
    wall = time.perf_counter() - started
    per_host = [r.duration_s for r in results]
    return {
        "wall_s": wall,
        "p50_ms": percentile(per_host, 50) * 1000,
        "p99_ms": percentile(per_host, 99) * 1000,
        "ok": sum(r.state is ResultState.OK and "load average" in r.stdout for r in results),
    }


async def measure(hosts: int, rounds: int, parallel: int, keys: Path, work: Path) -> list[dict]:
    _, client_key, _ = ensure_keys(keys)
    inventory = lab_inventory(hosts, client_key)
    names = tuple(h.name for h in inventory.hosts_resolved())
    rows = []
    for i in range(rounds):
        known = KnownHosts(work / f"known_hosts_{i}")
        source = OwnConnections(inventory.hosts_resolved(), known)
        try:
            rows.append({"case": "cold", **await fan_out(source, names, parallel)})
            rows.append({"case": "warm", **await fan_out(source, names, parallel)})
        finally:
            await source.close()
    return rows


def run_one(hosts: int, rounds: int, parallel: int, keys: Path, work: Path) -> list[dict]:
    sim = subprocess.Popen(
        [sys.executable, __file__, "--role", "sim", "--hosts", str(hosts), "--keys", str(keys)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sim.stdout is not None
        if sim.stdout.readline().strip() != "ready":
            raise RuntimeError("simulator did not start")
        return asyncio.run(measure(hosts, rounds, parallel, keys, work))
    finally:
        sim.terminate()
        sim.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=254)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--parallel", type=int, default=256, help="concurrency limit")
    parser.add_argument("--role", choices=["bench", "sim"], default="bench")
    parser.add_argument("--keys", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # 254 "recorded host key on first use" lines
    if args.role == "sim":
        asyncio.run(simulate(args.hosts, args.keys))
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows = run_one(args.hosts, args.rounds, args.parallel, work / "keys", work)
    print(
        f"\nCommand fan-out: `uptime` on {args.hosts} simulated hosts, concurrency "
        f"{args.parallel}, {os.cpu_count()} cores, simulator in another process\n"
    )
    header = f"{'case':>5} {'round':>5} {'all in (s)':>10} {'p50 ms':>8} {'p99 ms':>8} {'ok':>5}"
    print(header)
    print("-" * len(header))
    for i, r in enumerate(rows):
        print(
            f"{r['case']:>5} {i // 2 + 1:>5} {r['wall_s']:>10.3f} {r['p50_ms']:>8.1f} "
            f"{r['p99_ms']:>8.1f} {r['ok']:>5}"
        )
    for case in ("cold", "warm"):
        walls = [r["wall_s"] for r in rows if r["case"] == case]
        print(f"{case}: worst all-in {max(walls):.3f} s (target < 2 s)")


if __name__ == "__main__":
    main()
