"""Alert evaluation cost and notification latency.

1. CPU: the default rules over 254 and 1000 hosts polled every 5 s, as EGO runs them — each
   writer batch (~0.25 s) feeds the fleet view and evaluates the hosts it carried, and the
   whole fleet is evaluated every 5 s. Hosts carry ~150 series each (8 cores, 3 interfaces,
   5 mounts, 2 disks, sensors, a GPU), half of them with an alert pending or firing
   somewhere. Reported: CPU seconds per 5 s of fleet time as a share of one core.
2. Latency: an engine and a notify dispatcher on the live hub (all 254 hosts publishing),
   Apprise delivering to a webhook receiver on 127.0.0.1. For each trial a host's poll
   completes a rule's window; measured from that poll's publication on the hub to the
   webhook receiving the message (group wait 0, so this is the time beyond the group wait).

Run: scripts/isolated.sh .venv/bin/python bench/alerts.py [--intervals 60] [--trials 100]
Targets (issue 12): ≤ 3 % of one core at 254 hosts; p99 < 1 s beyond the group wait.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import percentile
from mirror.alerts.engine import AlertEngine
from mirror.alerts.events import apply_events
from mirror.inventory import Inventory
from mirror.inventory.current import CurrentInventory
from mirror.live import LiveHub
from notify.dispatcher import Dispatcher
from tests.support.receivers import http_receiver

STEP_S = 5.0
BATCHES_PER_STEP = 20  # the writer flushes every 0.25 s


def inventory(hosts: int, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "poll": {"interval_s": STEP_S},
        "groups": {"lab": {}},
        "hosts": [
            {"name": f"h{i:04}", "address": f"127.90.{i // 250}.{i % 250 + 1}", "groups": ["lab"]}
            for i in range(hosts)
        ],
        **(extra or {}),
    }


def metrics(rng: random.Random, h: int) -> dict[str, float]:
    m: dict[str, float] = {"uptime_s": 1e6, "load.1": 1.0, "load.5": 0.9, "load.15": 0.8}
    for core in [None, *range(8)]:
        suffix = "" if core is None else f"[{core}]"
        busy = rng.uniform(0, 100)
        for field in ("user", "system", "iowait", "steal", "idle"):
            m[f"cpu.{field}_pct{suffix}"] = rng.uniform(0, 100)
        m[f"cpu.busy_pct{suffix}"] = busy
    m |= {"mem.total_bytes": 3.2e10, "mem.available_bytes": 1e10, "mem.used_bytes": 2.2e10}
    m |= {"mem.cached_bytes": 5e9, "mem.buffers_bytes": 1e8, "swap.total_bytes": 2e9}
    m |= {"swap.used_bytes": 1e7, "swap.used_pct": 0.5}
    m["mem.used_pct"] = 96.0 if h % 7 == 0 else rng.uniform(20, 80)  # some alert
    for iface in ("eth0", "eth1", "wlan0"):
        for key in ("rx_bytes", "rx_packets", "rx_errors", "rx_drops", "tx_bytes", "tx_packets"):
            m[f"net.{key}_per_s[{iface}]"] = rng.uniform(0, 1e6)
        m[f"net.rx_errors_per_s[{iface}]"] = 0.0
    for mount in ("/", "/boot", "/data", "/home", "/var"):
        m[f"fs.size_bytes[{mount}]"] = 1e12
        m[f"fs.used_bytes[{mount}]"] = 5e11
        m[f"fs.used_pct[{mount}]"] = 93.0 if (h % 5 == 0 and mount == "/data") else 50.0
    for disk in ("sda", "nvme0n1"):
        for key in ("read_bytes_per_s", "write_bytes_per_s", "reads_per_s", "writes_per_s"):
            m[f"disk.{key}[{disk}]"] = rng.uniform(0, 1e7)
        m[f"disk.busy_pct[{disk}]"] = rng.uniform(0, 100)
    for sensor in ("Package id 0", "Core 0", "Core 1", "Core 2", "Core 3", "nvme Composite"):
        m[f"temp.celsius[{sensor}]"] = rng.uniform(35, 70)
    for key in ("util_pct", "temp_celsius", "power_watts", "mem_used_bytes", "mem_total_bytes"):
        m[f"gpu.{key}[0]"] = rng.uniform(0, 80)
    return m


def cpu_share(hosts: int, intervals: int) -> dict[str, float]:
    rng = random.Random(hosts)
    current = CurrentInventory(Inventory.from_dict(inventory(hosts)))
    engine = AlertEngine(current, None, clock=lambda: 0.0)
    engine.configure()
    names = list(engine.view.targets)
    polls = [metrics(rng, h) for h in range(hosts)]  # each host's values (dicts reused)
    per_batch = -(-hosts // BATCHES_PER_STEP)
    now = 1_000_000.0
    evals = 0
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    for _ in range(intervals):
        for b in range(BATCHES_PER_STEP):
            batch = names[b * per_batch : (b + 1) * per_batch]
            t = now + b * STEP_S / BATCHES_PER_STEP
            events = [
                {"type": "host", "host": n, "ts": t, "state": "up", "metrics": polls[int(n[1:])]}
                for n in batch
            ]
            apply_events(engine.view, events)
            engine.step(t, set(batch))
            evals += 1
        now += STEP_S
        engine.step(now)
        evals += 1
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - wall0
    series = sum(len(p) for p in polls) / hosts
    return {
        "hosts": hosts,
        "series_per_host": series,
        "rules": len(engine.rules),
        "active_alerts": len(engine.alerts),
        "cpu_ms_per_5s": cpu / intervals * 1000,
        "core_pct": cpu / (intervals * STEP_S) * 100,
        "wall_ms_per_5s": wall / intervals * 1000,
        "evaluations_per_5s": evals / intervals,
    }


async def latency(trials: int, hosts: int) -> dict[str, float]:
    with http_receiver() as rx:
        os.environ["BENCH_HOOK_URL"] = f"json://127.0.0.1:{rx.port}/hook"
        extra = {
            # Full evaluations are rare here so that each alert fires on the poll itself.
            "alerts": {
                "evaluate_every_s": 600,
                "defaults": False,
                "rules": [{"name": "hot", "expr": "cpu.busy_pct > 95", "for": "1s"}],
            },
            "notify": {
                "channels": {"hook": {"url_env": "BENCH_HOOK_URL", "rate_per_min": 100000}},
                "routes": [{"channels": ["hook"], "group_wait": 0, "resolved": False}],
            },
        }
        current = CurrentInventory(Inventory.from_dict(inventory(hosts, extra)))
        hub = LiveHub()
        dispatcher = Dispatcher(current)
        engine = AlertEngine(current, None, dispatcher)
        tasks = [asyncio.create_task(engine.run(hub)), asyncio.create_task(dispatcher.run())]
        rng = random.Random(1)
        names = [f"h{i:04}" for i in range(hosts)]

        async def background() -> None:  # every host polled every 5 s, spread over the step
            while True:
                for i, name in enumerate(names):
                    event = {
                        "type": "host",
                        "host": name,
                        "ts": time.time(),
                        "state": "up",
                        "metrics": {"cpu.busy_pct": rng.uniform(5, 60)},
                    }
                    hub.publish(event)
                    if i % 13 == 12:
                        await asyncio.sleep(STEP_S / (hosts / 13))

        noise = asyncio.create_task(background())
        await asyncio.sleep(0.5)
        took: list[float] = []
        for trial in range(trials):
            name = f"t{trial}"  # the trial's own host, not in the background loop
            engine.view.configure([*engine.view.targets.values(), _target(name)], time.time())
            start = time.time()
            hub.publish(
                {
                    "type": "host",
                    "host": name,
                    "ts": start,
                    "state": "up",
                    "metrics": {"cpu.busy_pct": 99.0},
                }
            )
            await asyncio.sleep(1.05)  # pending for the whole 1 s window
            before = len(rx.got)
            sent = time.time()  # this poll completes the window
            hub.publish(
                {
                    "type": "host",
                    "host": name,
                    "ts": sent,
                    "state": "up",
                    "metrics": {"cpu.busy_pct": 99.0},
                }
            )
            while len(rx.got) == before or f"on {name}:" not in _text(rx.got[-1].body):
                await asyncio.sleep(0.002)
                if time.time() - sent > 10:
                    state = engine.alerts.get(("hot", name, ""))
                    raise RuntimeError(f"trial {trial}: no message in 10 s (alert: {state})")
            took.append(rx.got[-1].at - sent)
            hub.publish(
                {
                    "type": "host",
                    "host": name,
                    "ts": time.time(),
                    "state": "up",
                    "metrics": {"cpu.busy_pct": 1.0},
                }
            )
        noise.cancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(noise, *tasks, return_exceptions=True)
    return {
        "trials": trials,
        "p50_ms": percentile(took, 50) * 1000,
        "p99_ms": percentile(took, 99) * 1000,
        "max_ms": max(took) * 1000,
    }


def _target(name: str):  # type: ignore[no-untyped-def]
    from mirror.alerts.view import Target

    return Target(name, "host", ("lab",), (), None, STEP_S)


def _text(body: bytes) -> str:
    return str(json.loads(body).get("message", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--intervals", type=int, default=60, help="5 s steps of fleet time")
    parser.add_argument("--trials", type=int, default=100, help="latency trials (~1.1 s each)")
    args = parser.parse_args()
    print("Rule evaluation, default rules, one poll per host per 5 s")
    print(
        f"{'hosts':>6} {'series/host':>11} {'rules':>5} {'alerts':>6} {'evals/5s':>8} "
        f"{'CPU ms/5s':>9} {'% of a core':>11}"
    )
    for hosts in (254, 1000):
        r = cpu_share(hosts, args.intervals)
        print(
            f"{r['hosts']:>6} {r['series_per_host']:>11.0f} {r['rules']:>5} "
            f"{r['active_alerts']:>6} {r['evaluations_per_5s']:>8.0f} "
            f"{r['cpu_ms_per_5s']:>9.1f} {r['core_pct']:>10.2f}%"
        )
    print()
    print("Notification latency: the poll completing a for: window → webhook (group wait 0)")
    r = asyncio.run(latency(args.trials, 254))
    print(f"{'trials':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    print(f"{r['trials']:>6} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['max_ms']:>8.1f}")


if __name__ == "__main__":
    main()
