"""``/proc/stat``: CPU time per state since boot, total and per core, and boot time.

Source: ``/proc/stat`` (proc(5)), any Linux since 2.6; fields after ``iowait``
appeared over time (irq/softirq 2.6.0, steal 2.6.11, guest 2.6.24, guest_nice
2.6.33), so missing trailing fields read as 0. Units: jiffies (USER_HZ ticks,
``getconf CLK_TCK``, 100 on every mainstream architecture); only ratios are used.
``guest``/``guest_nice`` are ignored because the kernel already counts them in
``user``/``nice``. ``boot_time``: unix seconds from the ``btime`` line.
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.linux._util import to_int
from mirror.errors import ParseError

SOURCE = "/proc/stat"
_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


@dataclass(frozen=True, slots=True)
class CpuTimes:
    user: int
    nice: int
    system: int
    idle: int
    iowait: int = 0
    irq: int = 0
    softirq: int = 0
    steal: int = 0


@dataclass(frozen=True, slots=True)
class CpuStat:
    total: CpuTimes
    cores: dict[int, CpuTimes]
    boot_time: int | None


def parse(text: str) -> CpuStat:
    total: CpuTimes | None = None
    cores: dict[int, CpuTimes] = {}
    boot_time: int | None = None
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        key = parts[0]
        if key == "btime" and len(parts) == 2:
            boot_time = to_int(parts[1], "/proc/stat btime")
        elif key == "cpu":
            if total is not None:
                raise ParseError("/proc/stat has two 'cpu' total lines")
            total = _times(parts)
        elif key.startswith("cpu") and key[3:].isdigit():
            core = int(key[3:])
            if core in cores:
                raise ParseError(f"/proc/stat has two {key!r} lines")
            cores[core] = _times(parts)
    if total is None:
        raise ParseError("/proc/stat has no 'cpu' total line")
    return CpuStat(total=total, cores=cores, boot_time=boot_time)


def _times(parts: list[str]) -> CpuTimes:
    values = [to_int(v, f"/proc/stat {parts[0]}") for v in parts[1 : 1 + len(_FIELDS)]]
    if len(values) < 4:
        raise ParseError(f"/proc/stat {parts[0]} line has {len(values)} fields, needs at least 4")
    return CpuTimes(*values)
