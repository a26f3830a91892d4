"""``/proc/loadavg``: run-queue load averages over 1, 5 and 15 minutes.

Source: ``/proc/loadavg`` (proc(5)), any Linux. Units: average number of runnable
(and, on Linux, uninterruptible) tasks; ``running``/``threads`` are counts of
scheduling entities, from the fourth field ``running/total``.
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.linux._util import to_float, to_int
from mirror.errors import ParseError

SOURCE = "/proc/loadavg"


@dataclass(frozen=True, slots=True)
class Load:
    load1: float
    load5: float
    load15: float
    running: int | None = None
    threads: int | None = None


def parse(text: str) -> Load:
    parts = text.split()
    if len(parts) < 3:
        raise ParseError(f"/proc/loadavg has {len(parts)} fields, needs at least 3")
    l1, l5, l15 = (to_float(p, "/proc/loadavg") for p in parts[:3])
    running = threads = None
    if len(parts) >= 4 and "/" in parts[3]:
        r, _, t = parts[3].partition("/")
        running, threads = to_int(r, "/proc/loadavg running"), to_int(t, "/proc/loadavg total")
    return Load(l1, l5, l15, running, threads)
