"""The Linux host kind: ``reflector.sh`` reads /proc and a few commands; ``sample`` parses."""

from __future__ import annotations

from typing import Any

from collectors.frame import Frame
from collectors.hostkind import HostKind, packaged_text, posix_launch
from collectors.linux.sample import (
    METRICS,
    FastSample,
    SlowSample,
    counter_bits,
    fast_metrics,
    parse_fast,
    parse_slow,
    slow_metrics,
)


class LinuxCollector:
    """Previous samples (for rates) and the kernel's counter width (from the slow sample)."""

    def __init__(self) -> None:
        self._prev_fast: FastSample | None = None
        self._prev_slow: SlowSample | None = None
        self._counter_bits = 64  # until the slow sample says the kernel is 32-bit

    def fast(self, frame: Frame) -> dict[str, float]:
        sample = parse_fast(frame)
        metrics = fast_metrics(self._prev_fast, sample, counter_bits=self._counter_bits)
        self._prev_fast = sample
        return metrics

    def slow(self, frame: Frame) -> tuple[dict[str, float], dict[str, Any]]:
        sample = parse_slow(frame)
        series, info = slow_metrics(self._prev_slow, sample)
        self._prev_slow = sample
        self._counter_bits = counter_bits(sample.arch)
        return series, info


KIND = HostKind(
    os="linux",
    uname="Linux",
    program=packaged_text(__package__, "reflector.sh"),
    launch=posix_launch,
    collector=LinuxCollector,
    metrics=METRICS,
)
