"""Sweep of a loopback /24: `mirror sweep` vs `fping -g` (default and `-i 1`), same run.

    .venv/bin/python bench/sweep.py            # needs root (raw ICMP, unshare) and fping

Two cases, median wall time of 5 runs each:
- all answer: 127.77.0.0/24 on this machine's loopback (every 127.x answers);
- 10 answer, 244 dead: inside a network namespace this script makes, where only
  127.77.0.1-10 are local and the rest of the /24 is routed to lo without answering.
`mirror sweep` is timed as a whole process (Python start-up included) and as the sweep
alone (what EGO's loop pays). fping uses `-r 0 -t 1000` (one probe, the same 1 s timeout).
Nothing leaves loopback.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SUBNET = "127.77.0.0/24"
RUNS = 5
FPING = ["fping", "-q", "-a", "-g", SUBNET, "-r", "0", "-t", "1000"]


def timed(argv: list[str]) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, cwd=REPO)
    elapsed = time.perf_counter() - started
    if argv[0] == "fping":
        answered = len(done.stdout.split())
    else:
        answered = len(json.loads(done.stdout)["sweeps"][0]["found"])
    return elapsed, answered


def sweep_only() -> tuple[float, int]:
    sys.path.insert(0, str(REPO))
    from poller.icmp import detect_icmp, sweep

    access = detect_icmp()
    result = asyncio.run(sweep(ipaddress.ip_network(SUBNET), privileged=access.privileged))
    return result.duration_s, len(result.answering)


def measure() -> list[tuple[str, float, int]]:
    mirror = [sys.executable, "-m", "cli", "sweep", SUBNET, "--json", "--no-dns"]
    # no inventory: a path under a folder that does not exist (/nonexistent itself can)
    mirror += ["-i", "/nonexistent-mirror-bench/inventory.yaml"]
    cases = {
        "mirror sweep (whole process)": lambda: timed(mirror),
        "mirror sweep (sweep only, in-process)": sweep_only,
        "fping -g (default -i 10)": lambda: timed(FPING),
        "fping -g -i 1": lambda: timed([*FPING, "-i", "1"]),
    }
    rows = []
    for name, run in cases.items():
        times, answered = [], 0
        for _ in range(RUNS):
            elapsed, answered = run()
            times.append(elapsed)
        rows.append((name, statistics.median(times), answered))
    return rows


def in_namespace() -> list[tuple[str, float, int]]:
    setup = [
        "set -e",
        "ip link set lo up",
        "ip addr del 127.0.0.1/8 dev lo",
        "ip addr add 127.0.0.1/32 dev lo",
        *(f"ip addr add 127.77.0.{i}/32 dev lo" for i in range(1, 11)),
        f"ip route add {SUBNET} dev lo",
        f"exec {shlex.quote(sys.executable)} {shlex.quote(__file__)} --measure-json",
    ]
    done = subprocess.run(
        ["unshare", "-n", "sh", "-c", "\n".join(setup)], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"namespace run failed: {done.stderr}")
    return [tuple(row) for row in json.loads(done.stdout)]  # type: ignore[misc]


def main() -> None:
    if "--measure-json" in sys.argv:
        print(json.dumps(measure()))
        return
    if os.geteuid() != 0:
        raise SystemExit("run as root: raw ICMP sockets and `unshare -n`")
    print(f"Sweep of {SUBNET}, median wall time of {RUNS} runs each\n")
    print(f"| {'case':<14} | {'tool':<38} | {'answered':>8} | {'median s':>8} |")
    print(f"|{'-' * 16}|{'-' * 40}|{'-' * 10}|{'-' * 10}|")
    for case, rows in (("all answer", measure()), ("10 up, 244 dead", in_namespace())):
        for name, median, answered in rows:
            print(f"| {case:<14} | {name:<38} | {answered:>8} | {median:>8.3f} |")


if __name__ == "__main__":
    main()
