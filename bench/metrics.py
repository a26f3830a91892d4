"""What /metrics costs for a fleet: answer time (p50/p99) and EGO's CPU per scrape.

EGO (the real app, uvicorn, SQLite) runs in a process of its own holding the latest poll of
``--hosts`` hosts: 40 series each (bench/storage.py's collector-shaped values) and the
identity and top-process info that a real Linux host's slow poll stores (the capture in
tests/fixtures/linux/this-machine/frames.bin). This process scrapes it ``--scrapes`` times,
one after the other, as Prometheus would, and reads the server's CPU seconds from /proc.
"core @15s" is that CPU per scrape over a 15-s interval.

    .venv/bin/python bench/metrics.py [--hosts 254] [--scrapes 200]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench._common import percentile
from bench.host_cost import proc_cpu_s


def captured_info() -> dict[str, Any]:
    """What a real host's slow poll stores beside its series (tests/fixtures' capture)."""
    from collectors.frame import parse_frame
    from collectors.linux.kind import KIND
    from tests.support.frames import split_frames

    capture = Path(__file__).resolve().parents[1] / "tests/fixtures/linux/this-machine/frames.bin"
    frames = [parse_frame(f) for f in split_frames(capture.read_bytes())]
    return KIND.collector().slow(next(f for f in frames if f.kind == "x"))[1]


def serve(hosts: int, work: Path) -> None:
    import uvicorn

    from api.app import create_app
    from api.metrics import STALE_AFTER_S
    from bench.storage import poll_values
    from mirror.auth import AuthService
    from mirror.inventory import Inventory
    from mirror.live import LiveHub
    from mirror.model import HostState, PollStatus, Snapshot
    from mirror.storage import Store

    store = Store.open(f"sqlite:///{work / 'mirror.db'}")
    store.upgrade()
    rng = random.Random(7)
    names = [f"h{i:03d}" for i in range(hosts)]
    info = captured_info()

    def poll() -> None:
        now = time.time()
        store.write(
            [Snapshot(n, now, poll_values(rng, i, 0), info) for i, n in enumerate(names)],
            [PollStatus(n, HostState.UP, now, None, 30.0) for n in names],
        )

    def keep_fresh() -> None:  # values older than STALE_AFTER_S are not exposed
        while True:
            time.sleep(STALE_AFTER_S / 3)
            poll()

    poll()
    threading.Thread(target=keep_fresh, daemon=True).start()
    inventory = Inventory.from_dict(
        {
            "groups": {"lab": {}},
            "hosts": [
                {"name": n, "address": f"127.78.{i // 250}.{i % 250 + 1}", "groups": ["lab"]}
                for i, n in enumerate(names)
            ],
        },
        "bench.yaml",
    )
    _, token = AuthService(store.engine).create_token("bench", "read")
    (work / "token").write_text(token)
    app = create_app(store, LiveHub(), inventory)
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["BENCH_PORT"]), log_level="warning")


def measure(hosts: int, scrapes: int) -> dict[str, float]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server = subprocess.Popen(
            [sys.executable, __file__, "--role", "serve", "--hosts", str(hosts), "--work", tmp],
            env={**os.environ, "BENCH_PORT": str(port)},
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(600):
                if (work / "token").exists():
                    try:
                        httpx.get(f"{base}/api/health", timeout=1)
                        break
                    except httpx.TransportError:
                        pass
                time.sleep(0.1)
            headers = {"Authorization": f"Bearer {(work / 'token').read_text()}"}
            with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
                for _ in range(5):  # warm up
                    client.get("/metrics").raise_for_status()
                before = proc_cpu_s(server.pid)
                times = []
                size = 0
                for _ in range(scrapes):
                    start = time.perf_counter()
                    answer = client.get("/metrics")
                    times.append((time.perf_counter() - start) * 1000)
                    answer.raise_for_status()
                    if b"mirror_cpu_busy_pct" not in answer.content:
                        raise SystemExit("bench: a scrape came back without the hosts' series")
                    size = len(answer.content)
                cpu = (proc_cpu_s(server.pid) - before) / scrapes
        finally:
            server.terminate()
            server.wait(10)
    return {
        "p50_ms": percentile(times, 50),
        "p99_ms": percentile(times, 99),
        "cpu_ms": cpu * 1000,
        "core_pct_15s": cpu / 15 * 100,
        "bytes": float(size),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=254)
    parser.add_argument("--scrapes", type=int, default=200)
    parser.add_argument("--role", default="bench", choices=["bench", "serve"])
    parser.add_argument("--work", type=Path)
    args = parser.parse_args()
    if args.role == "serve":
        serve(args.hosts, args.work)
        return
    row = measure(args.hosts, args.scrapes)
    print(f"/metrics, {args.hosts} hosts × 40 series, {args.scrapes} scrapes")
    print(f"{'p50 ms':>8} {'p99 ms':>8} {'CPU ms/scrape':>14} {'core @15s':>10} {'bytes':>9}")
    print(
        f"{row['p50_ms']:8.1f} {row['p99_ms']:8.1f} {row['cpu_ms']:14.1f} "
        f"{row['core_pct_15s']:9.2f}% {row['bytes']:9.0f}"
    )


if __name__ == "__main__":
    main()
