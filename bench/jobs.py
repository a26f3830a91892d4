"""Scheduled jobs (issue 18): 100 jobs due in the same second over 254 simulated hosts.

Two processes: the asyncssh simulator (its CPU is not EGO's) and, here, what `mirror serve`
runs for this: the poll loops of every simulated host (every 5 s, on their own SSH
connections) and the job scheduler on APScheduler with its job store in a SQLite database,
running each job's targets on new channels of those connections, audited.

Each job runs `uptime` on 10 of the hosts (1000 commands in all) and is due once, at the
same moment (a one-off `at:` a little after start-up, so nothing waits for a clock minute).
Reported: each job's start lateness (its run claimed, its audit entry written, after its
due time), each target's command start lateness (its result's end minus its duration,
after the due time), the time until every run ended, and the poll loops' lateness in the
10 s around the burst against the 10 s before it.

Run: .venv/bin/python bench/jobs.py [--hosts 254] [--jobs 100] [--per-job 10]
Target (issue 18): jobs start within 1 s of their time (p99), polls not later than usual.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import percentile, simulate, simulator  # noqa: E402
from lab import ensure_keys, lab_inventory, make_lab  # noqa: E402
from mirror.audit import AuditLog, command_results  # noqa: E402
from mirror.inventory import Inventory  # noqa: E402
from mirror.inventory.current import CurrentInventory  # noqa: E402
from mirror.jobs.history import job_runs  # noqa: E402
from mirror.storage import Store  # noqa: E402
from poller.commands import PollerConnections, SshCommandRunner  # noqa: E402
from poller.job_scheduler import JobScheduler  # noqa: E402
from poller.scheduler import Scheduler  # noqa: E402
from poller.ssh import KnownHosts  # noqa: E402

WARM_S = 20.0  # every poll loop connected and polling before the burst
WINDOW_S = 10.0


def inventory(hosts: int, jobs: int, per_job: int, key: Path, port: int, due: datetime) -> Any:
    data = lab_inventory(make_lab(hosts), key, port, connect_timeout_s=10)
    names = [h["name"] for h in data["hosts"]]
    data["jobs"] = {
        f"job-{i:03d}": {
            "command": "uptime",
            "targets": {"hosts": [names[(i * 7 + k) % len(names)] for k in range(per_job)]},
            "schedule": {"at": due.isoformat()},
            "concurrency": per_job,
            "timeout": 30,
        }
        for i in range(jobs)
    }
    return Inventory.from_dict(data)


async def measure(hosts: int, jobs: int, per_job: int, work: Path) -> dict[str, Any]:
    keys = work / "keys"
    _, client_key, _ = ensure_keys(keys)
    with simulator(__file__, hosts, keys) as port:
        due = datetime.fromtimestamp(round(time.time() + WARM_S), UTC)
        inv = inventory(hosts, jobs, per_job, client_key, port, due)
        store = Store.open(f"sqlite:///{work / 'mirror.db'}")
        store.upgrade()
        polls = Scheduler(
            inv.hosts_resolved(),
            KnownHosts(work / "known_hosts"),
            lambda _: None,
            interval_s=5.0,
            timeout_s=4.0,
            slow_every_s=30.0,
        )
        runner = SshCommandRunner(PollerConnections(polls.by_name))
        scheduler = JobScheduler(
            CurrentInventory(inv), runner, AuditLog(store.engine), store.engine
        )
        await polls.start()
        await scheduler.start()
        loop = asyncio.get_running_loop()
        lateness: list[tuple[float, float]] = []  # (wall time, lateness) of every poll
        seen = 0

        async def watch() -> None:
            nonlocal seen
            while True:
                await asyncio.sleep(0.2)
                fresh = list(polls.stats.lateness_s)[seen:]
                seen += len(fresh)
                now = time.time()
                lateness.extend((now, late) for late in fresh)

        watcher = loop.create_task(watch())
        try:
            await scheduler.until_runs_ended(jobs, WARM_S + 120)
            all_done = time.time()
            await asyncio.sleep(WINDOW_S / 2)
        finally:
            watcher.cancel()
            await scheduler.stop()
            await polls.stop()
            await runner.close()
        with store.engine.connect() as conn:
            runs = list(conn.execute(sa.select(job_runs)))
            results = list(conn.execute(sa.select(command_results)))
        store.close()
    due_s = due.timestamp()
    before = [late for at, late in lateness if due_s - WINDOW_S <= at < due_s]
    during = [late for at, late in lateness if due_s <= at < due_s + WINDOW_S]
    return {
        "job_start_s": [r.started_ms / 1000 - due_s for r in runs if r.started_ms],
        "target_start_s": [
            r.ts_ms / 1000 - r.duration_ms / 1000 - due_s for r in results
        ],  # ts_ms: when the result was stored, just after the command ended
        "ok": sum(r.state == "ok" for r in results),
        "results": len(results),
        "runs": len(runs),
        "all_done_s": all_done - due_s,
        "poll_before": before,
        "poll_during": during,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--hosts", type=int, default=254)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--per-job", type=int, default=10)
    parser.add_argument("--role", choices=["bench", "sim"], default="bench")
    parser.add_argument("--keys", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.role == "sim":
        asyncio.run(simulate(args.hosts, args.keys))
        return
    with tempfile.TemporaryDirectory(prefix="mirror-bench-jobs-") as tmp:
        m = asyncio.run(measure(args.hosts, args.jobs, args.per_job, Path(tmp)))
    print(
        f"\n{args.jobs} jobs due at the same second, each `uptime` on {args.per_job} of "
        f"{args.hosts} simulated hosts ({m['results']} commands), {os.cpu_count()} cores; "
        "the hosts polled every 5 s meanwhile; simulator in its own process\n"
    )
    header = f"{'what':34} {'n':>5} {'p50 s':>8} {'p99 s':>8} {'max s':>8}"
    print(header)
    print("-" * len(header))
    for label, key in (
        ("job start after its time", "job_start_s"),
        ("target command start after it", "target_start_s"),
        ("poll lateness, 10 s before", "poll_before"),
        ("poll lateness, 10 s from the due", "poll_during"),
    ):
        values = m[key]
        print(
            f"{label:34} {len(values):>5} {percentile(values, 50):>8.3f} "
            f"{percentile(values, 99):>8.3f} {max(values, default=float('nan')):>8.3f}"
        )
    print(
        f"\nruns {m['runs']}, results ok {m['ok']}/{m['results']}, "
        f"every run ended {m['all_done_s']:.2f} s after the due time"
    )
    p99 = percentile(m["job_start_s"], 99)
    print(f"target: job start p99 < 1 s: {'met' if p99 < 1 else 'NOT met'} ({p99:.3f} s)")


if __name__ == "__main__":
    main()
