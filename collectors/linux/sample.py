"""What the poller calls: REFLECTOR frames in, typed samples and series out.

A fast frame (``"s"``, every poll) becomes a ``FastSample``; a slow frame (``"x"``,
every minute or so) a ``SlowSample``. ``fast_metrics``/``slow_metrics`` turn a
sample, and the previous one of the same kind, into series named as in
``mirror.model`` (``metric[instance]``). Rates divide by the host's own uptime
difference, so network jitter and late polls do not distort them; a missed poll
only makes the interval longer. A reboot between two samples (uptime went back,
or ``btime`` changed) gives no rates for that interval rather than negative ones.

Sources that a host may lack (load, net, disks, sensors, df, nvidia-smi) are
optional: when one is missing it is simply absent; when it is present but does not
parse, the sample still comes back and the reason is in ``problems`` so the poller
can report it once instead of losing the whole poll.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from collectors.frame import Frame
from collectors.linux import (
    df,
    diskstats,
    loadavg,
    meminfo,
    net_dev,
    nvidia_smi,
    osinfo,
    proc_stat,
    processes,
    sensors,
    uptime,
)
from collectors.linux.df import Filesystem
from collectors.linux.diskstats import SECTOR_BYTES, DiskCounters
from collectors.linux.loadavg import Load
from collectors.linux.meminfo import Memory
from collectors.linux.net_dev import NetCounters
from collectors.linux.nvidia_smi import Gpu
from collectors.linux.proc_stat import CpuStat, CpuTimes
from collectors.linux.processes import ProcStat
from collectors.linux.sensors import Temperature
from collectors.rates import counter_rate
from mirror.errors import ParseError
from mirror.metrics_catalogue import produced_by
from mirror.model import series_name

T = TypeVar("T")
# Series are stored to these places (0.01 %, 0.1 per second): finer than what the tick and
# counter deltas resolve over a 5 s poll, and it halves their size in storage (issue 3:
# a ratio's full float64 costs 8 bytes in mirror.storage.codec, 0.01 % costs 2).
PCT_PLACES = 2
RATE_PLACES = 1
_PID_STAT = re.compile(r"^/proc/(\d+)/stat$")
# uname -m values of 32-bit kernels, whose /proc/net/dev and /proc/diskstats
# counters are 32-bit unsigned longs.
_32BIT_ARCHS = re.compile(r"^(i[3-6]86|armv[5-7].*|arm|mips|mipsel|ppc|s390|sh4|m68k)$")

# Every metric name (without ``[instance]``) the series of a Linux host use.
METRICS: tuple[str, ...] = produced_by("linux")


@dataclass(frozen=True, slots=True)
class FastSample:
    uptime_s: float
    cpu: CpuStat
    memory: Memory
    load: Load | None
    net: dict[str, NetCounters]
    disks: dict[str, DiskCounters]
    temperatures: list[Temperature]
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SlowSample:
    uptime_s: float
    hostname: str | None
    os_name: str | None
    kernel: str | None
    arch: str | None
    cpu_model: str | None
    cpu_count: int | None
    clk_tck: int
    filesystems: list[Filesystem]
    gpus: list[Gpu]
    processes: dict[int, ProcStat]
    problems: tuple[str, ...] = ()


def counter_bits(arch: str | None) -> int:
    """Width of the kernel's ``unsigned long`` counters for a ``uname -m`` value."""
    return 32 if arch and _32BIT_ARCHS.match(arch) else 64


def parse_fast(frame: Frame) -> FastSample:
    if frame.kind != "s":
        raise ParseError(f"expected a fast 's' frame, got {frame.kind!r}")
    files, problems = frame.files, list[str]()
    for required in (uptime.SOURCE, proc_stat.SOURCE, meminfo.SOURCE):
        if required not in files:
            raise ParseError(f"fast frame lacks {required}")
    return FastSample(
        uptime_s=uptime.parse(files[uptime.SOURCE]).uptime_s,
        cpu=proc_stat.parse(files[proc_stat.SOURCE]),
        memory=meminfo.parse(files[meminfo.SOURCE]),
        load=_optional(loadavg.parse, files.get(loadavg.SOURCE), None, problems),
        net=_optional(net_dev.parse, files.get(net_dev.SOURCE), {}, problems),
        disks=_optional(diskstats.parse, files.get(diskstats.SOURCE), {}, problems),
        temperatures=_optional(
            sensors.parse, {p: t for p, t in files.items() if p.startswith("/sys/")}, [], problems
        ),
        problems=tuple(problems),
    )


def parse_slow(frame: Frame) -> SlowSample:
    if frame.kind != "x":
        raise ParseError(f"expected a slow 'x' frame, got {frame.kind!r}")
    files, commands, problems = frame.files, frame.commands, list[str]()
    if uptime.SOURCE not in files:
        raise ParseError(f"slow frame lacks {uptime.SOURCE}")
    cpu = _optional(osinfo.parse_cpuinfo, files.get("/proc/cpuinfo"), None, problems)
    clk_tck = 100  # USER_HZ on every mainstream architecture, if getconf is missing
    status, out = commands.get("getconf", (1, ""))
    if status == 0 and out.strip().isdigit() and int(out) > 0:
        clk_tck = int(out)
    else:
        problems.append("getconf CLK_TCK failed; assuming 100")
    procs: dict[int, ProcStat] = {}
    bad_pids = 0
    for path, text in files.items():
        if _PID_STAT.match(path) and text:  # empty: the process exited while being read
            try:
                p = processes.parse(text)
                procs[p.pid] = p
            except ParseError:
                bad_pids += 1
    if bad_pids:
        problems.append(f"{bad_pids} /proc/<pid>/stat files did not parse")
    return SlowSample(
        uptime_s=uptime.parse(files[uptime.SOURCE]).uptime_s,
        hostname=_line(files.get("/proc/sys/kernel/hostname")),
        os_name=_optional(osinfo.parse_os_release, files.get("/etc/os-release"), None, problems),
        kernel=_line(files.get("/proc/sys/kernel/osrelease")),
        arch=_line(commands["uname"][1]) if commands.get("uname", (1,))[0] == 0 else None,
        cpu_model=cpu.model if cpu else None,
        cpu_count=cpu.count if cpu else None,
        clk_tck=clk_tck,
        filesystems=_command(df.parse, commands.get("df"), "df", [], problems, any_status=True),
        gpus=_command(nvidia_smi.parse, commands.get("nvidia-smi"), "nvidia-smi", [], problems),
        processes=procs,
        problems=tuple(problems),
    )


def fast_metrics(
    prev: FastSample | None, cur: FastSample, counter_bits: int = 64
) -> dict[str, float]:
    """Series of one fast poll. ``counter_bits=32`` for hosts with 32-bit kernels
    (see ``counter_bits(arch)``), so their net/disk counters may wrap."""
    m: dict[str, float] = {"uptime_s": cur.uptime_s}
    if cur.load is not None:
        m |= {"load.1": cur.load.load1, "load.5": cur.load.load5, "load.15": cur.load.load15}
    mem = cur.memory
    used = mem.total_bytes - mem.available_bytes
    m |= {
        "mem.total_bytes": mem.total_bytes,
        "mem.available_bytes": mem.available_bytes,
        "mem.used_bytes": used,
        "mem.cached_bytes": mem.cached_bytes,
        "mem.buffers_bytes": mem.buffers_bytes,
        "swap.total_bytes": mem.swap_total_bytes,
        "swap.used_bytes": mem.swap_total_bytes - mem.swap_free_bytes,
    }
    if mem.total_bytes > 0:
        m["mem.used_pct"] = round(used / mem.total_bytes * 100, PCT_PLACES)
    if mem.swap_total_bytes > 0:  # no swap: no percentage rather than a fake 0
        m["swap.used_pct"] = round(m["swap.used_bytes"] / mem.swap_total_bytes * 100, PCT_PLACES)
    for t in cur.temperatures:
        m[series_name("temp.celsius", t.label)] = t.celsius

    dt_s = _interval(prev, cur)
    if prev is None or dt_s is None:
        return m
    m |= _cpu_pct(prev.cpu.total, cur.cpu.total, None)
    for core in sorted(cur.cpu.cores.keys() & prev.cpu.cores.keys()):
        m |= _cpu_pct(prev.cpu.cores[core], cur.cpu.cores[core], core)
    for dev in sorted(cur.disks.keys() & prev.disks.keys()):
        a, b = prev.disks[dev], cur.disks[dev]
        rates = {
            "disk.read_bytes_per_s": _rate(a.sectors_read, b.sectors_read, dt_s, counter_bits),
            "disk.write_bytes_per_s": _rate(
                a.sectors_written, b.sectors_written, dt_s, counter_bits
            ),
            "disk.reads_per_s": _rate(a.reads_completed, b.reads_completed, dt_s, counter_bits),
            "disk.writes_per_s": _rate(a.writes_completed, b.writes_completed, dt_s, counter_bits),
            # io_ticks is printed as a 32-bit unsigned int on every kernel.
            "disk.busy_pct": _rate(a.io_ticks_ms, b.io_ticks_ms, dt_s, 32),
        }
        for name in ("disk.read_bytes_per_s", "disk.write_bytes_per_s"):
            sectors = rates[name]
            if sectors is not None:
                rates[name] = sectors * SECTOR_BYTES
        if rates["disk.busy_pct"] is not None:  # ms of I/O per s of wall time → %
            rates["disk.busy_pct"] = min(rates["disk.busy_pct"] / 10, 100.0)
        m |= {series_name(k, dev): _rounded(k, v) for k, v in rates.items() if v is not None}
    for iface in sorted(cur.net.keys() & prev.net.keys()):
        if iface == "lo":
            continue
        was, now = prev.net[iface], cur.net[iface]
        # Attribute access, not asdict(): asdict deep-copies and this runs on every poll.
        for key in NetCounters.__slots__:
            r = _rate(getattr(was, key), getattr(now, key), dt_s, counter_bits)
            if r is not None:
                m[series_name(f"net.{key}_per_s", iface)] = round(r, RATE_PLACES)
    return m


def slow_metrics(
    prev: SlowSample | None, cur: SlowSample
) -> tuple[dict[str, float], dict[str, Any]]:
    """Series for filesystems and GPUs, and the host's info (JSON-serialisable)."""
    m: dict[str, float] = {}
    filesystems = []
    for fs in cur.filesystems:
        m[series_name("fs.size_bytes", fs.mount)] = fs.size_bytes
        m[series_name("fs.used_bytes", fs.mount)] = fs.used_bytes
        row = asdict(fs)
        # Like df: reserved blocks count neither as used nor as available.
        if fs.used_bytes + fs.available_bytes > 0:
            row["used_pct"] = fs.used_bytes / (fs.used_bytes + fs.available_bytes) * 100
            m[series_name("fs.used_pct", fs.mount)] = round(row["used_pct"], PCT_PLACES)
        filesystems.append(row)
    for gpu in cur.gpus:
        for metric, value in (
            ("gpu.util_pct", gpu.util_pct),
            ("gpu.mem_used_bytes", gpu.mem_used_bytes),
            ("gpu.mem_total_bytes", gpu.mem_total_bytes),
            ("gpu.temp_celsius", gpu.temp_celsius),
            ("gpu.power_watts", gpu.power_watts),
        ):
            if value is not None:
                m[series_name(metric, gpu.index)] = value
    dt_s = _interval(prev, cur)
    baseline = prev.processes if prev is not None and dt_s is not None else None
    top_cpu, top_mem = processes.top_processes(baseline, cur.processes, dt_s or 0.0, cur.clk_tck)
    info: dict[str, Any] = {
        "hostname": cur.hostname,
        "os": cur.os_name,
        "kernel": cur.kernel,
        "arch": cur.arch,
        "cpu_model": cur.cpu_model,
        "cpu_count": cur.cpu_count,
        "uptime_s": cur.uptime_s,
        "filesystems": filesystems,
        "gpus": [asdict(g) for g in cur.gpus],
        "top_cpu": top_cpu,
        "top_mem": top_mem,
    }
    if cur.problems:
        info["problems"] = list(cur.problems)
    return m, info


def _interval(prev: FastSample | SlowSample | None, cur: FastSample | SlowSample) -> float | None:
    """Seconds between two samples on the host's clock; None across a reboot."""
    if prev is None:
        return None
    dt_s = cur.uptime_s - prev.uptime_s
    if dt_s <= 0:
        return None
    if isinstance(prev, FastSample) and isinstance(cur, FastSample):
        before, after = prev.cpu.boot_time, cur.cpu.boot_time
        # btime can move by a second as NTP slews the clock; a reboot moves it by more.
        if before is not None and after is not None and abs(after - before) > 2:
            return None
    return dt_s


def _cpu_pct(a: CpuTimes, b: CpuTimes, core: int | None) -> dict[str, float]:
    # iowait (and on some kernels idle) can step backwards (see proc(5), "iowait");
    # a negative delta is clamped so one odd field cannot make another exceed 100 %.
    # Written out field by field: this runs once per core per poll.
    user = max(b.user - a.user, 0) + max(b.nice - a.nice, 0)
    system = max(b.system - a.system, 0) + max(b.irq - a.irq, 0) + max(b.softirq - a.softirq, 0)
    iowait = max(b.iowait - a.iowait, 0)
    steal = max(b.steal - a.steal, 0)
    idle = max(b.idle - a.idle, 0)
    total = user + system + iowait + steal + idle
    if total <= 0:
        return {}
    scale = 100 / total
    names = _cpu_names(core)
    values = (user * scale, system * scale, iowait * scale, steal * scale, idle * scale)
    busy = 100 - values[4] - values[2]
    return {name: round(v, PCT_PLACES) for name, v in zip(names, (*values, busy), strict=True)}


@functools.cache
def _cpu_names(core: int | None) -> tuple[str, ...]:
    return tuple(
        series_name(f"cpu.{field}_pct", core)
        for field in ("user", "system", "iowait", "steal", "idle", "busy")
    )


def _rounded(name: str, value: float) -> float:
    return round(value, PCT_PLACES if name.endswith("_pct") else RATE_PLACES)


def _rate(prev: int, cur: int, dt_s: float, bits: int) -> float | None:
    return counter_rate(prev, cur, dt_s, wrap_bits=bits)


def _optional(parse: Callable[[Any], T], text: Any, default: T, problems: list[str]) -> T:
    if text is None:
        return default
    try:
        return parse(text)
    except ParseError as exc:
        problems.append(str(exc))
        return default


def _command(
    parse: Callable[[str], T],
    result: tuple[int, str] | None,
    name: str,
    default: T,
    problems: list[str],
    any_status: bool = False,
) -> T:
    if result is None:
        return default
    status, out = result
    # df exits 1 when one mount is unreadable but still prints the others.
    if status != 0 and not (any_status and out.strip()):
        problems.append(f"{name} exited with status {status}")
        return default
    return _optional(parse, out, default, problems)


def _line(text: str | None) -> str | None:
    return text.strip() or None if text is not None else None
