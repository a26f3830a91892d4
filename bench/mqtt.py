"""What Home Assistant publishing costs: EGO's CPU for a fleet's state messages over MQTT.

A real Mosquitto on loopback (started here); the bridge (bridge/mqtt.py) follows a live hub
fed with ``--hosts`` host events every ``--interval`` s (bench/storage.py's values, 40
series each), for ``--seconds``; a subscriber counts what arrives. CPU is this process's
(the bridge, and feeding the hub, which is a queue put per event); the subscriber that
counts what arrives is mosquitto_sub, a process of its own.

    .venv/bin/python bench/mqtt.py [--hosts 254] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.storage import poll_values
from bridge.mqtt import MqttBridge, MqttSettings
from mirror.events import HostPoll
from mirror.live import LiveHub
from tests.support.mosquitto import running_broker


def events(hosts: int, k: int) -> list[HostPoll]:
    rng = random.Random(k)
    return [
        HostPoll(
            host=f"h{i:03d}",
            state="up",
            error=None,
            ts=time.time(),
            duration_ms=30.0,
            metrics=poll_values(rng, i, k),
            info=None,
        )
        for i in range(hosts)
    ]


async def measure(hosts: int, seconds: float, interval: float, port: int) -> dict[str, float]:
    hub = LiveHub(queue_size=4 * hosts)
    bridge = MqttBridge(hub, MqttSettings("127.0.0.1", port), lambda: [])
    task = asyncio.create_task(bridge.run())
    while not bridge.connected:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    rounds = int(seconds / interval)
    batches = [events(hosts, k) for k in range(rounds)]
    start_cpu, start = time.process_time(), time.monotonic()
    for k, batch in enumerate(batches):
        for e in batch:
            hub.publish(e)
        await asyncio.sleep(max(0.0, start + (k + 1) * interval - time.monotonic()))
    cpu = time.process_time() - start_cpu
    wall = time.monotonic() - start
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return {"published": bridge.published, "core_pct": cpu / wall * 100, "sent": hosts * rounds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=254)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_broker(Path(tmp)) as broker:
        port = broker.port
        # The subscriber is a process of its own (mosquitto_sub): its CPU is not EGO's.
        received = Path(tmp) / "received"
        with received.open("w") as out:
            sub = subprocess.Popen(
                ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", "mirror/+/state"],
                stdout=out,
            )
        try:
            row = asyncio.run(measure(args.hosts, args.seconds, args.interval, port))
            time.sleep(1.0)
        finally:
            sub.terminate()
            sub.wait(10)
        row["received"] = len(received.read_text().splitlines())
    print(
        f"MQTT for Home Assistant: {args.hosts} hosts every {args.interval:g} s, {args.seconds:g} s"
    )
    print(f"{'events':>8} {'published':>10} {'received':>9} {'EGO core':>9}")
    print(
        f"{row['sent']:8.0f} {row['published']:10.0f} {row['received']:9.0f}"
        f" {row['core_pct']:8.2f}%"
    )


if __name__ == "__main__":
    main()
