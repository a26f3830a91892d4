"""``/proc/uptime``: seconds since boot.

Source: ``/proc/uptime`` (proc(5)), any Linux. Units: seconds (two decimals).
``idle_s`` is summed over all CPUs, so it can exceed ``uptime_s``. The uptime is
the host's own monotonic clock (CLOCK_BOOTTIME), which is what rates are divided by:
network delay between EGO and the host does not distort it.
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.linux._util import to_float
from mirror.errors import ParseError

SOURCE = "/proc/uptime"


@dataclass(frozen=True, slots=True)
class Uptime:
    uptime_s: float
    idle_s: float | None = None


def parse(text: str) -> Uptime:
    parts = text.split()
    if not parts:
        raise ParseError("/proc/uptime is empty")
    uptime_s = to_float(parts[0], "/proc/uptime")
    if not uptime_s >= 0:  # also rejects "nan"
        raise ParseError(f"/proc/uptime is not a non-negative number: {parts[0]!r}")
    idle_s = to_float(parts[1], "/proc/uptime idle") if len(parts) > 1 else None
    return Uptime(uptime_s, idle_s)
