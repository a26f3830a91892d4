"""What a macOS host kind needs: the program, its launch, the parsers and the metrics.

Fast frame (``s``): ``sysctl`` (boot time, load, memory size, swap), ``date +%s``,
``vm_stat``, ``netstat -ibdn`` and ``top -l 2 -s 1 -n 0`` (CPU shares: macOS prints no
CPU ticks anywhere a shell can read them). Slow frame (``x``): identity ``sysctl`` values
and ``df -k``. The Linux kind's samples and metric names are kept: ``parse_fast`` returns
a ``MacFastSample`` whose ``base`` is a Linux ``FastSample`` (memory, swap, load, network)
and ``fast_metrics`` adds ``cpu.user_pct``/``cpu.system_pct``/``cpu.idle_pct``/
``cpu.busy_pct`` from ``top`` (no per-core, iowait or steal figures on macOS).

Memory as Activity Monitor's "available" is not printed anywhere; as psutil does, free +
inactive + speculative pages count as available, file-backed pages as cached.
Not read yet: disk I/O (``iostat`` prints no cumulative counters per disk), temperatures
(need ``powermetrics`` as root), per-process tops, GPUs.
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.bsd import df, netstat, sysctl
from collectors.bsd.frame_util import epoch, output, required, sysctl_values
from collectors.bsd.frame_util import program as bsd_program
from collectors.frame import Frame
from collectors.hostkind import sample_kind
from collectors.launch import Launch, reflector_launch
from collectors.linux.df import Filesystem
from collectors.linux.loadavg import Load
from collectors.linux.meminfo import Memory
from collectors.linux.net_dev import NetCounters
from collectors.linux.proc_stat import CpuStat, CpuTimes
from collectors.linux.sample import METRICS as LINUX_METRICS
from collectors.linux.sample import (
    PCT_PLACES,
    FastSample,
    SlowSample,
    _optional,  # the Linux kind's rule for optional sources, shared on purpose
    slow_metrics,
)
from collectors.linux.sample import fast_metrics as linux_fast_metrics
from collectors.macos import top, vm_stat
from collectors.macos.top import CpuShare
from mirror.errors import ParseError

NAME = "macos"
UNAME = ("Darwin",)
METRICS = (
    "uptime_s", "load.1", "load.5", "load.15", "cpu.busy_pct", "cpu.user_pct",
    "cpu.system_pct", "cpu.idle_pct", "mem.total_bytes", "mem.available_bytes",
    "mem.used_bytes", "mem.used_pct", "mem.cached_bytes", "swap.total_bytes",
    "swap.used_bytes", "swap.used_pct", "net.rx_bytes_per_s[IF]", "net.tx_bytes_per_s[IF]",
    "fs.size_bytes[MOUNT]", "fs.used_bytes[MOUNT]", "fs.used_pct[MOUNT]",
)  # fmt: skip
__all__ = ["slow_metrics"]
_NO_TICKS = CpuStat(total=CpuTimes(0, 0, 0, 0), cores={}, boot_time=None)


@dataclass(frozen=True, slots=True)
class MacFastSample:
    base: FastSample
    cpu: CpuShare | None


def program() -> str:
    return bsd_program("macos/macos.sh")


def launch() -> Launch:
    # macOS's bash is 3.2 (its `read -d ''` works); the program starts no file reads anyway.
    return reflector_launch(program(), prefer_bash=False)


def parse_fast(frame: Frame) -> MacFastSample:
    values, boot = sysctl_values(frame, "s")
    total = sysctl.integer(values, "hw.memsize")
    if total is None:
        raise ParseError("fast frame lacks hw.memsize")
    vm = vm_stat.parse(required(frame, "vm_stat"))
    problems: list[str] = []
    net: dict[str, NetCounters] = _optional(netstat.parse, output(frame, "netstat"), {}, problems)
    cpu = _optional(top.parse, output(frame, "top"), None, problems)
    swap_total, swap_used = sysctl.swapusage(values) or (0, 0)
    free = vm.bytes("Pages free")
    available = free + vm.bytes("Pages inactive") + vm.bytes("Pages speculative")
    load = sysctl.loadavg(values)
    base = FastSample(
        uptime_s=epoch(frame) - boot,
        cpu=CpuStat(total=_NO_TICKS.total, cores={}, boot_time=int(boot)),
        memory=Memory(
            total_bytes=total,
            free_bytes=free,
            available_bytes=min(available, total),
            buffers_bytes=0,
            cached_bytes=vm.bytes("File-backed pages"),
            swap_total_bytes=swap_total,
            swap_free_bytes=swap_total - swap_used,
        ),
        load=Load(*load) if load else None,
        net=net,
        disks={},
        temperatures=[],
        problems=tuple(problems),
    )
    return MacFastSample(base, cpu)


def fast_metrics(prev: MacFastSample | None, cur: MacFastSample) -> dict[str, float]:
    m = linux_fast_metrics(prev.base if prev else None, cur.base)
    if cur.cpu is not None:
        c = cur.cpu
        m |= {
            "cpu.user_pct": round(c.user_pct, PCT_PLACES),
            "cpu.system_pct": round(c.system_pct, PCT_PLACES),
            "cpu.idle_pct": round(c.idle_pct, PCT_PLACES),
            "cpu.busy_pct": round(max(0.0, 100 - c.idle_pct), PCT_PLACES),
        }
    return m


def parse_slow(frame: Frame) -> SlowSample:
    values, boot = sysctl_values(frame, "x")
    problems: list[str] = []
    filesystems: list[Filesystem] = _optional(
        df.parse, output(frame, "df", any_status=True), [], problems
    )
    version = values.get("kern.osproductversion")
    return SlowSample(
        uptime_s=epoch(frame) - boot,
        hostname=values.get("kern.hostname"),
        os_name=f"macOS {version}" if version else "macOS",
        kernel=values.get("kern.osrelease"),
        arch=values.get("hw.machine"),
        cpu_model=values.get("machdep.cpu.brand_string") or values.get("hw.model"),
        cpu_count=sysctl.integer(values, "hw.ncpu"),
        clk_tck=100,
        filesystems=filesystems,
        gpus=[],
        processes={},
        problems=tuple(problems),
    )


# The login-shell-proof launcher (collectors.launch: program on stdin) is not in the poller
# yet. The Linux rate code makes these series, so it may emit any name Linux declares.
KIND = sample_kind(
    "macos",
    "Darwin",
    program(),
    (parse_fast, fast_metrics, parse_slow, slow_metrics),
    METRICS + LINUX_METRICS,
)
