"""What a FreeBSD host kind needs: the program, its launch, the parsers and the metrics.

Fast frame (``s``): ``sysctl`` (CPU ticks, memory pages, load, boot time, temperatures),
``date +%s`` (uptime = now - boot time), ``netstat -ibdnW``, ``swapinfo -k``. Slow frame
(``x``): identity ``sysctl`` values and ``df -k``. The samples are the Linux kind's
``FastSample``/``SlowSample``, so ``fast_metrics``/``slow_metrics`` and every metric name
(``cpu.busy_pct``, ``mem.used_bytes``, ``net.rx_bytes_per_s[em0]``, ``fs.used_pct[/]``) are
the same as on Linux. Not read yet: per-disk I/O (``devstat`` has no text form in the base
system short of ``iostat -x``), per-process tops, GPUs.

CPU: ``kern.cp_time`` is ``user nice sys intr idle`` in stathz ticks since boot
(``kern.cp_times``: the same per CPU); ``intr`` counts as irq. Memory: pages of
``vm.stats.vm``; available = free + inactive + cache (as ``top`` and the handbook count
them; laundry pages must be written out first and are not counted).
"""

from __future__ import annotations

from collectors.bsd import df, netstat, sysctl
from collectors.bsd.frame_util import epoch, output, swapinfo_used, sysctl_values
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
    FastSample,
    SlowSample,
    _optional,  # the Linux kind's rule for optional sources, shared on purpose
    fast_metrics,
    slow_metrics,
)
from collectors.linux.sensors import Temperature
from mirror.errors import ParseError

NAME = "freebsd"
UNAME = ("FreeBSD", "DragonFly")  # `uname -s` values this kind answers for
METRICS = (
    "uptime_s", "load.1", "load.5", "load.15", "cpu.busy_pct", "cpu.user_pct",
    "cpu.system_pct", "cpu.idle_pct", "cpu.busy_pct[N]", "mem.total_bytes",
    "mem.available_bytes", "mem.used_bytes", "mem.used_pct", "mem.cached_bytes",
    "swap.total_bytes", "swap.used_bytes", "swap.used_pct", "net.rx_bytes_per_s[IF]",
    "net.tx_bytes_per_s[IF]", "net.rx_packets_per_s[IF]", "temp.celsius[LABEL]",
    "fs.size_bytes[MOUNT]", "fs.used_bytes[MOUNT]", "fs.used_pct[MOUNT]",
)  # fmt: skip
__all__ = ["fast_metrics", "slow_metrics"]


def program() -> str:
    return bsd_program("freebsd/freebsd.sh")


def launch() -> Launch:
    # bash is rarely in FreeBSD's base system; /bin/sh reads nothing byte by byte here.
    return reflector_launch(program(), prefer_bash=False)


def parse_fast(frame: Frame) -> FastSample:
    values, boot = sysctl_values(frame, "s")
    problems: list[str] = []
    net: dict[str, NetCounters] = _optional(netstat.parse, output(frame, "netstat"), {}, problems)
    load = sysctl.loadavg(values)
    return FastSample(
        uptime_s=epoch(frame) - boot,
        cpu=_cpu(values, int(boot)),
        memory=_memory(values, output(frame, "swapinfo"), problems),
        load=Load(*load) if load else None,
        net=net,
        disks={},
        temperatures=_temperatures(values),
        problems=tuple(problems),
    )


def parse_slow(frame: Frame) -> SlowSample:
    values, boot = sysctl_values(frame, "x")
    problems: list[str] = []
    filesystems: list[Filesystem] = _optional(
        df.parse, output(frame, "df", any_status=True), [], problems
    )
    ostype, release = values.get("kern.ostype"), values.get("kern.osrelease")
    return SlowSample(
        uptime_s=epoch(frame) - boot,
        hostname=values.get("kern.hostname"),
        os_name=f"{ostype} {release}" if ostype and release else ostype,
        kernel=release,
        arch=values.get("hw.machine"),
        cpu_model=values.get("hw.model"),
        cpu_count=sysctl.integer(values, "hw.ncpu"),
        clk_tck=100,
        filesystems=filesystems,
        gpus=[],
        processes={},
        problems=tuple(problems),
    )


def _times(ticks: list[int], what: str) -> CpuTimes:
    if len(ticks) != 5:
        raise ParseError(f"sysctl {what} has {len(ticks)} values, not 5")
    user, nice, system, intr, idle = ticks
    return CpuTimes(user=user, nice=nice, system=system, idle=idle, irq=intr)


def _cpu(values: dict[str, str], boot: int) -> CpuStat:
    total = sysctl.integers(values, "kern.cp_time")
    if total is None:
        raise ParseError("fast frame lacks kern.cp_time")
    per = sysctl.integers(values, "kern.cp_times") or []
    if len(per) % 5:
        raise ParseError(f"sysctl kern.cp_times has {len(per)} values, not 5 per CPU")
    cores = {i: _times(per[i * 5 : i * 5 + 5], "kern.cp_times") for i in range(len(per) // 5)}
    return CpuStat(total=_times(total, "kern.cp_time"), cores=cores, boot_time=boot)


def _memory(values: dict[str, str], swap_text: str | None, problems: list[str]) -> Memory:
    page = sysctl.integer(values, "vm.stats.vm.v_page_size") or sysctl.integer(
        values, "hw.pagesize"
    )
    count = sysctl.integer(values, "vm.stats.vm.v_page_count")
    if page is None or count is None:
        raise ParseError("fast frame lacks hw.pagesize or vm.stats.vm.v_page_count")

    def pages(name: str) -> int:
        return (sysctl.integer(values, f"vm.stats.vm.v_{name}_count") or 0) * page

    swap_total = sysctl.integer(values, "vm.swap_total") or 0
    swap_total, swap_used = _optional(swapinfo_used, swap_text, (swap_total, 0), problems)
    free = pages("free")
    return Memory(
        total_bytes=count * page,
        free_bytes=free,
        available_bytes=free + pages("inactive") + pages("cache"),
        buffers_bytes=0,
        cached_bytes=pages("inactive") + pages("cache"),
        swap_total_bytes=swap_total,
        swap_free_bytes=swap_total - swap_used,
    )


def _temperatures(values: dict[str, str]) -> list[Temperature]:
    found = []
    for name, raw in values.items():
        if name.endswith(".temperature") and (c := sysctl.celsius(raw)) is not None:
            label = name.removesuffix(".temperature").replace("dev.cpu.", "cpu")
            found.append(Temperature(label.replace("hw.acpi.thermal.", ""), c))
    return found


# The login-shell-proof launcher (collectors.launch: program on stdin) is not in the poller
# yet. The Linux rate code makes these series, so it may emit any name Linux declares.
KIND = sample_kind(
    "freebsd",
    "FreeBSD",
    program(),
    (parse_fast, fast_metrics, parse_slow, slow_metrics),
    METRICS + LINUX_METRICS,
)
