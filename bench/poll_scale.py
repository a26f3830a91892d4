"""The poller at scale: N simulated hosts on loopback, every 5 s, storage included.

The simulator runs in its own process (its CPU is not the poller's); this process runs
exactly what `mirror serve` runs minus the HTTP server: one SSH connection and one
REFLECTOR channel per host, the per-host loops, parsing, rates and batched SQLite writes.
After every host has answered once (connections are set up), it measures for --seconds:
poller CPU (% of one core), RSS, poll latency p50/p99, schedule lateness p99, and what
was stored per second.

Run: .venv/bin/python bench/poll_scale.py [--hosts 254 1000] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import percentile, simulate, simulator
from lab import ensure_keys, lab_inventory, make_lab
from mirror.inventory import Inventory
from mirror.storage import Store
from poller.scheduler import Scheduler
from poller.ssh import KnownHosts
from poller.writer import BatchWriter

INTERVAL_S = 5.0


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def measure(
    hosts: int, seconds: float, keys: Path, work: Path, port: int
) -> dict[str, float]:
    _, client_key, _ = ensure_keys(keys)
    lab = make_lab(hosts)
    inventory = Inventory.from_dict(
        {
            "poll": {"interval_s": INTERVAL_S, "timeout_s": 4, "slow_every_s": 30},
            **lab_inventory(lab, client_key, port, user="bench", connect_timeout_s=20),
        }
    )
    store = Store.open(f"sqlite:///{work / f'scale-{hosts}.db'}")
    store.upgrade()
    writer = BatchWriter(store)
    values_stored = 0

    def on_result(result) -> None:  # type: ignore[no-untyped-def]
        nonlocal values_stored
        if result.snapshot is not None:
            values_stored += len(result.snapshot.metrics)
        writer.submit(result)

    scheduler = Scheduler(
        inventory.hosts_resolved(),
        KnownHosts(work / f"known_hosts-{hosts}"),
        on_result,
        interval_s=INTERVAL_S,
        timeout_s=4,
        slow_every_s=30,
    )
    writer_task = asyncio.create_task(writer.run())
    await scheduler.start()
    warm_deadline = time.monotonic() + 120
    while time.monotonic() < warm_deadline:
        await asyncio.sleep(1)
        if all(p.state == "up" for p in scheduler.pollers):
            break
    await asyncio.sleep(INTERVAL_S)  # one full round on warm connections
    up = sum(p.state == "up" for p in scheduler.pollers)
    scheduler.stats.clear()
    values_stored, written0 = 0, writer.written
    cpu0, wall0 = time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    values, polls = values_stored, writer.written - written0
    latency = list(scheduler.stats.latency_s)
    lateness = list(scheduler.stats.lateness_s)
    failed = sum(p.state != "up" for p in scheduler.pollers)
    await scheduler.stop()
    writer_task.cancel()
    await writer.flush()
    store.close()
    return {
        "hosts": hosts,
        "up": up,
        "failed_at_end": failed,
        "cpu_pct": cpu / wall * 100,
        "rss_mib": rss_mib(),
        "lat_p50_ms": percentile(latency, 50) * 1000,
        "lat_p99_ms": percentile(latency, 99) * 1000,
        "late_p99_ms": percentile(lateness, 99) * 1000,
        "polls_per_s": polls / wall,
        "values_per_s": values / wall,
    }


def run_one(hosts: int, seconds: float, keys: Path, work: Path) -> dict[str, float]:
    with simulator(__file__, hosts, keys) as port:
        return asyncio.run(measure(hosts, seconds, keys, work, port))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[254, 1000])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--role", choices=["bench", "sim"], default="bench")
    parser.add_argument("--keys", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # 1000 "recorded host key on first use" lines
    if args.role == "sim":
        asyncio.run(simulate(args.hosts[0], args.keys))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for n in args.hosts:
            rows.append(run_one(n, args.seconds, work / "keys", work))
    print(
        f"\nPoller at scale: {INTERVAL_S:g} s interval, {args.seconds:g} s measured, "
        f"{os.cpu_count()} cores, SQLite, simulator in another process\n"
    )
    header = (
        f"{'hosts':>5} {'up':>5} {'poller CPU %':>12} {'RSS MiB':>8} {'poll p50 ms':>11} "
        f"{'poll p99 ms':>11} {'late p99 ms':>11} {'polls/s':>8} {'values/s':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['hosts']:>5} {r['up']:>5} {r['cpu_pct']:>12.1f} {r['rss_mib']:>8.0f} "
            f"{r['lat_p50_ms']:>11.1f} {r['lat_p99_ms']:>11.1f} {r['late_p99_ms']:>11.1f} "
            f"{r['polls_per_s']:>8.1f} {r['values_per_s']:>9.0f}"
        )


if __name__ == "__main__":
    main()
