"""SNMP polling at scale: N simulated 48-port switches on loopback, every 5 s.

snmpsim (its own process, so its CPU is not counted) serves one generated 48-port switch
recording (+ 2 uplinks, a VLAN and a LAG interface; counters advance) on N loopback
addresses 127.77.2.1…N. This process runs what `mirror serve` runs for SNMP gear: one loop
per device, GETBULK walks, parsing, rates (storage excluded: see bench/poll_scale.py).
After every device has answered once (the first poll also walks the tables), it measures
for --seconds: this process's CPU (% of one core), polls and interfaces polled per second,
varbinds per second, poll latency p50/p99.

Run: .venv/bin/python bench/snmp_scale.py [--switches 20] [--seconds 30] [--interval 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lab.snmpsim import SnmpSim
from mirror.inventory import Inventory
from poller.host import PollResult
from poller.snmp import SnmpScheduler

PORT = 16177
PORTS = 48
COMMUNITY = "switch48"


def recording(ports: int = PORTS) -> str:
    """A managed switch: ports + 2 uplinks + a LAG + VLAN 1; HC octets advance (numeric)."""
    lines: list[tuple[tuple[int, ...], str]] = []

    def add(oid: str, tag: str, value: object) -> None:
        lines.append((tuple(map(int, oid.split("."))), f"{oid}|{tag}|{value}"))

    add("1.3.6.1.2.1.1.1.0", "4", "bench 48-port switch")
    add("1.3.6.1.2.1.1.3.0", "67:numeric", "rate=100,initial=100000")
    add("1.3.6.1.2.1.1.5.0", "4", "bench-switch")
    ifaces = [*range(1, ports + 3), 1000, 2000]
    for i in ifaces:
        name = f"ge-0/{i}" if i <= ports + 2 else ("lag1" if i == 1000 else "vlan1")
        for col, tag, value in (
            (2, "4", name), (3, "2", 6), (5, "66", 10**9), (6, "4x", f"0200000{i:05x}"),
            (7, "2", 1), (8, "2", 1 if i % 3 else 2), (10, "65", 1000), (11, "65", 10),
            (13, "65", 0), (14, "65", 0), (16, "65", 1000), (17, "65", 10), (19, "65", 0),
            (20, "65", 0),
        ):  # fmt: skip
            add(f"1.3.6.1.2.1.2.2.1.{col}.{i}", tag, value)
        for col, tag, value in (
            (1, "4", name), (6, "70:numeric", f"rate={1000 * i},initial=1000"),
            (7, "70", 12345), (10, "70:numeric", f"rate={500 * i},initial=1000"),
            (11, "70", 54321), (15, "66", 1000), (18, "4", f"desk {i}"),
        ):  # fmt: skip
            add(f"1.3.6.1.2.1.31.1.1.1.{col}.{i}", tag, value)
    for n in range(100):  # a MAC table of 100 hosts
        mac = ".".join(map(str, (2, 0, 0, 1, n // 256, n % 256)))
        add(f"1.3.6.1.2.1.17.4.3.1.2.{mac}", "2", 1 + n % ports)
    lines.sort()
    return "\n".join(line for _, line in lines) + "\n"


async def run(switches: int, seconds: float, interval: float) -> dict[str, float]:
    data = Path(tempfile.mkdtemp(prefix="mirror-snmpbench-"))
    (data / f"{COMMUNITY}.snmprec").write_text(recording())
    addresses = [f"127.77.2.{i}" for i in range(1, switches + 1)]
    with SnmpSim(data, [(a, PORT) for a in addresses]):
        inventory = Inventory.from_dict(
            {
                "snmp": [
                    {"name": f"sw{i}", "address": a, "port": PORT, "community_env": "BENCH_C",
                     "interval_s": interval}
                    for i, a in enumerate(addresses)
                ]
            }
        )  # fmt: skip
        results: list[tuple[float, PollResult]] = []
        scheduler = SnmpScheduler(
            inventory.snmp_resolved(),
            lambda r: results.append((time.monotonic(), r)),
            env={"BENCH_C": COMMUNITY},
        )
        await scheduler.start()
        # Wait until every device answered once (its first poll also walks the tables).
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            first_up = {r.status.host for _, r in results if r.snapshot is not None}
            if len(first_up) == switches:
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(interval)
        requests0 = sum(p._session.requests for p in scheduler.pollers if p._session)
        cpu0, wall0, n0 = time.process_time(), time.monotonic(), len(results)
        await asyncio.sleep(seconds)
        cpu1, wall1 = time.process_time(), time.monotonic()
        window = results[n0:]
        requests1 = sum(p._session.requests for p in scheduler.pollers if p._session)
        await scheduler.stop()
    ok = [r for _, r in window if r.snapshot is not None]
    ifaces = sum(sum(k.startswith("net.oper_up[") for k in r.snapshot.metrics) for r in ok)  # type: ignore[union-attr]
    latencies = sorted(r.status.duration_ms or 0 for _, r in window)
    elapsed = wall1 - wall0
    return {
        "switches": switches,
        "answered_before_window": len(first_up),
        "polls_per_s": len(window) / elapsed,
        "failed_polls": len(window) - len(ok),
        "interfaces_per_s": ifaces / elapsed,
        "requests_per_s": (requests1 - requests0) / elapsed,
        "cpu_pct_one_core": (cpu1 - cpu0) / elapsed * 100,
        "cpu_ms_per_poll": (cpu1 - cpu0) / max(1, len(window)) * 1000,
        "latency_p50_ms": statistics.median(latencies) if latencies else float("nan"),
        "latency_p99_ms": latencies[int(len(latencies) * 0.99) - 1] if latencies else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", type=int, nargs="+", default=[20])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=5.0)
    args = parser.parse_args()
    rows = [asyncio.run(run(n, args.seconds, args.interval)) for n in args.switches]
    keys = list(rows[0])
    print(" | ".join(keys))
    for row in rows:
        print(
            " | ".join(f"{row[k]:.1f}" if isinstance(row[k], float) else str(row[k]) for k in keys)
        )


if __name__ == "__main__":
    main()
