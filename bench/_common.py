"""What the benchmarks share: percentiles, and the simulated lab in a process of its own
(so that its CPU is not counted as the measured process's)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lab import LabServer, ensure_keys, make_lab
from mirror.process import stop_process


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


async def simulate(hosts: int, keys: Path, port: int = 0) -> None:
    """Serve a lab of ``hosts`` on ``port`` (0: a free one) and say ``ready <port>``."""
    host_key, _, client_pub = ensure_keys(keys)
    server = LabServer(make_lab(hosts), port, host_key, client_pub)
    await server.start()
    print(f"ready {server.port}", flush=True)
    await asyncio.Event().wait()


@contextmanager
def simulator(script: str, hosts: int, keys: Path) -> Iterator[int]:
    """Run ``script --role sim`` (which calls :func:`simulate`); yields the lab's port."""
    sim = subprocess.Popen(
        [sys.executable, script, "--role", "sim", "--hosts", str(hosts), "--keys", str(keys)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sim.stdout is not None
        ready = sim.stdout.readline().split()
        if not ready or ready[0] != "ready":
            raise RuntimeError("simulator did not start")
        yield int(ready[1])
    finally:
        stop_process(sim)
