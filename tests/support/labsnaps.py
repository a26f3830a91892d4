"""Real collector snapshots from the simulated lab, on a clock the test controls.

Each simulated host (``lab.HostModel``) renders the frames the reflector would send
(``/proc`` files, ``df``, ``nvidia-smi``, sensors); the Linux collectors parse them and compute
the series exactly as the poller does (``poller/host.py``: fast every poll, slow every
``slow_every`` polls). The metrics are what EGO stores: integers (bytes) and floats
(percentages, rates, load, temperatures) mixed in one snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator

from collectors.frame import parse_frame
from collectors.linux.sample import (
    FastSample,
    SlowSample,
    counter_bits,
    fast_metrics,
    parse_fast,
    parse_slow,
    slow_metrics,
)
from lab import HostModel, make_lab
from mirror.model import Snapshot


class _Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def lab_polls(
    hosts: int, polls: int, start_ts: float, *, step_s: float = 5.0, slow_every: int = 6
) -> Iterator[list[Snapshot]]:
    """``polls`` fleet polls (one list of snapshots each) of ``hosts`` lab hosts."""
    clock = _Clock(start_ts)
    models = [
        HostModel(h, clock=clock, wall=clock)
        for h in make_lab(hosts, subnet="127.77.0.0/24", start=10, seed="storage")
    ]
    prev_fast: list[FastSample | None] = [None] * hosts
    prev_slow: list[SlowSample | None] = [None] * hosts
    slow_series: list[dict[str, float]] = [{} for _ in range(hosts)]
    bits = [64] * hosts
    for k in range(polls):
        clock.t = start_ts + k * step_s
        batch = []
        for i, model in enumerate(models):
            fast = parse_fast(parse_frame(model.fast_frame()))
            metrics = fast_metrics(prev_fast[i], fast, counter_bits=bits[i])
            prev_fast[i] = fast
            info = None
            if k % slow_every == 0:
                slow = parse_slow(parse_frame(model.slow_frame()))
                slow_series[i], info = slow_metrics(prev_slow[i], slow)
                prev_slow[i] = slow
                bits[i] = counter_bits(slow.arch)
            metrics.update(slow_series[i])
            batch.append(Snapshot(model.host.name, clock.t, metrics, info or {}))
        yield batch
