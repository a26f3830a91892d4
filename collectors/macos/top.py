"""The CPU line of macOS ``top -l 2 -s 1 -n 0``: busy shares over the last second.

Source: top(1) of macOS 10.5+ in logging mode; each sample prints ``CPU usage: 3.33% user,
10.0% sys, 86.66% idle`` (percent of all CPUs). The first sample of a run counts from
boot, so the last line is the one kept. Units: percent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mirror.errors import ParseError

_CPU = re.compile(r"^CPU usage:\s*([\d.]+)% user,\s*([\d.]+)% sys,\s*([\d.]+)% idle", re.M)


@dataclass(frozen=True, slots=True)
class CpuShare:
    user_pct: float
    system_pct: float
    idle_pct: float


def parse(text: str) -> CpuShare:
    found = _CPU.findall(text)
    if not found:
        raise ParseError("top output has no 'CPU usage:' line")
    user, system, idle = (float(v) for v in found[-1])
    return CpuShare(user, system, idle)
