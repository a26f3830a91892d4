"""Rates, resets, wraps and missed polls: collectors.rates and collectors.linux.sample."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from collectors.frame import Frame, parse_frame
from collectors.linux import sample
from collectors.linux.diskstats import DiskCounters
from collectors.linux.net_dev import NetCounters
from collectors.linux.proc_stat import CpuStat, CpuTimes
from collectors.linux.processes import ProcStat, top_processes
from collectors.rates import counter_rate
from tests.support.frames import split_frames

FRAMES = Path(__file__).parent / "fixtures" / "linux" / "this-machine" / "frames.bin"


def real_frames() -> tuple[Frame, Frame]:
    fast, slow = (parse_frame(frame) for frame in split_frames(FRAMES.read_bytes()))
    return fast, slow


@pytest.fixture
def fast() -> sample.FastSample:
    return sample.parse_fast(real_frames()[0])


def later(
    s: sample.FastSample,
    dt_s: float,
    *,
    ticks: dict[str, int] | None = None,
    rx_bytes: int = 0,
    sectors_read: int = 0,
    io_ticks_ms: int = 0,
    boot_time_shift: int = 0,
) -> sample.FastSample:
    """``s`` moved ``dt_s`` seconds on, with the given counter increases."""
    total = dataclasses.replace(
        s.cpu.total, **{k: getattr(s.cpu.total, k) + v for k, v in (ticks or {}).items()}
    )
    boot = None if s.cpu.boot_time is None else s.cpu.boot_time + boot_time_shift
    eth0 = s.net["eth0"]
    vda = s.disks["vda"]
    return dataclasses.replace(
        s,
        uptime_s=s.uptime_s + dt_s,
        cpu=CpuStat(total=total, cores=s.cpu.cores, boot_time=boot),
        net={**s.net, "eth0": dataclasses.replace(eth0, rx_bytes=eth0.rx_bytes + rx_bytes)},
        disks={
            "vda": dataclasses.replace(
                vda,
                sectors_read=vda.sectors_read + sectors_read,
                io_ticks_ms=vda.io_ticks_ms + io_ticks_ms,
            )
        },
    )


# --- counter_rate ----------------------------------------------------------------------


def test_counter_rate_plain() -> None:
    assert counter_rate(1000, 6000, 5.0) == 1000.0


def test_counter_rate_needs_time_to_pass() -> None:
    assert counter_rate(1000, 6000, 0.0) is None
    assert counter_rate(1000, 6000, -5.0) is None


def test_counter_rate_32bit_wrap_is_counted() -> None:
    # 2**32 - 1000 → 4000: 5000 bytes in 5 s, across the wrap.
    assert counter_rate(2**32 - 1000, 4000, 5.0, wrap_bits=32) == 1000.0


def test_counter_rate_reset_is_not_a_wrap() -> None:
    assert counter_rate(10**12, 500, 5.0) is None  # 64-bit counter back to ~0: reset
    assert counter_rate(10**9, 500, 5.0, wrap_bits=32) is None  # implied +3.3 GB: reset
    assert counter_rate(2**32 - 1000, 4000, 5.0, wrap_bits=None) is None
    assert counter_rate(2**40, 4000, 5.0, wrap_bits=32) is None  # does not fit 32 bits


def test_counter_bits_from_arch() -> None:
    assert sample.counter_bits("armv7l") == 32
    assert sample.counter_bits("i686") == 32
    assert sample.counter_bits("x86_64") == 64
    assert sample.counter_bits("aarch64") == 64
    assert sample.counter_bits(None) == 64


# --- fast_metrics --------------------------------------------------------------------


def test_first_sample_has_gauges_only(fast: sample.FastSample) -> None:
    m = sample.fast_metrics(None, fast)
    assert m["mem.total_bytes"] == 25276510208
    assert not any(k.startswith(("cpu.", "net.", "disk.")) for k in m)


def test_rates_from_real_sample(fast: sample.FastSample) -> None:
    cur = later(
        fast,
        5.0,
        ticks={"user": 100, "nice": 50, "system": 100, "idle": 700, "iowait": 50},
        rx_bytes=5_000_000,
        sectors_read=10_240,
        io_ticks_ms=2_500,
    )
    m = sample.fast_metrics(fast, cur)
    assert m["cpu.user_pct"] == pytest.approx(15.0)
    assert m["cpu.system_pct"] == pytest.approx(10.0)
    assert m["cpu.iowait_pct"] == pytest.approx(5.0)
    assert m["cpu.idle_pct"] == pytest.approx(70.0)
    assert m["cpu.busy_pct"] == pytest.approx(25.0)
    assert m["net.rx_bytes_per_s[eth0]"] == pytest.approx(1_000_000)
    assert m["net.tx_bytes_per_s[eth0]"] == 0
    assert m["disk.read_bytes_per_s[vda]"] == pytest.approx(10_240 * 512 / 5)
    assert m["disk.busy_pct[vda]"] == pytest.approx(50.0)
    assert "net.rx_bytes_per_s[lo]" not in m
    # the cores did not move in this made-up interval: no per-core percentages
    assert "cpu.busy_pct[0]" not in m


def test_missed_poll_doubles_dt_and_keeps_the_rate(fast: sample.FastSample) -> None:
    one = sample.fast_metrics(fast, later(fast, 5.0, rx_bytes=5_000_000, sectors_read=1000))
    two = sample.fast_metrics(fast, later(fast, 10.0, rx_bytes=10_000_000, sectors_read=2000))
    assert two["net.rx_bytes_per_s[eth0]"] == pytest.approx(one["net.rx_bytes_per_s[eth0]"])
    assert two["disk.read_bytes_per_s[vda]"] == pytest.approx(one["disk.read_bytes_per_s[vda]"])


def test_reboot_uptime_back_gives_no_rates(fast: sample.FastSample) -> None:
    rebooted = dataclasses.replace(
        fast,
        uptime_s=12.0,
        net={"eth0": NetCounters(1000, 10, 0, 0, 500, 5, 0, 0)},
        disks={"vda": DiskCounters(10, 80, 0, 0, 4)},
    )
    m = sample.fast_metrics(fast, rebooted)
    assert not any(k.startswith(("cpu.", "net.", "disk.")) for k in m)
    assert all(v >= 0 for v in m.values())
    assert m["uptime_s"] == 12.0


def test_reboot_seen_by_btime_gives_no_rates(fast: sample.FastSample) -> None:
    # Uptime moved forward (long gap) but the host booted again: btime changed.
    m = sample.fast_metrics(fast, later(fast, 3600.0, rx_bytes=10, boot_time_shift=3000))
    assert not any(k.startswith(("cpu.", "net.")) for k in m)


def test_interface_counter_reset_drops_only_that_series(fast: sample.FastSample) -> None:
    cur = later(fast, 5.0, sectors_read=100)
    cur = dataclasses.replace(cur, net={**cur.net, "eth0": NetCounters(*[0] * 8)})
    m = sample.fast_metrics(fast, cur)
    assert "net.rx_bytes_per_s[eth0]" not in m
    assert m["disk.read_bytes_per_s[vda]"] > 0
    assert all(v >= 0 for v in m.values())


def test_32bit_host_net_counter_wrap(fast: sample.FastSample) -> None:
    before = dataclasses.replace(
        fast, net={"eth0": NetCounters(2**32 - 2_000_000, 0, 0, 0, 0, 0, 0, 0)}
    )
    after = dataclasses.replace(
        before,
        uptime_s=before.uptime_s + 2,
        net={"eth0": NetCounters(2_000_000, 0, 0, 0, 0, 0, 0, 0)},
    )
    assert sample.fast_metrics(before, after, counter_bits=32)["net.rx_bytes_per_s[eth0]"] == (
        pytest.approx(2_000_000)
    )
    assert "net.rx_bytes_per_s[eth0]" not in sample.fast_metrics(before, after)


def test_iowait_going_backwards_is_clamped() -> None:
    a = CpuTimes(100, 0, 100, 1000, 50)
    b = CpuTimes(150, 0, 150, 1400, 40)  # iowait fell by 10 (proc(5): it can)
    prev = sample.FastSample(10.0, CpuStat(a, {}, 1), _memory(), None, {}, {}, [])
    cur = dataclasses.replace(prev, uptime_s=15.0, cpu=CpuStat(b, {}, 1))
    m = sample.fast_metrics(prev, cur)
    assert m["cpu.iowait_pct"] == 0
    assert m["cpu.busy_pct"] == pytest.approx(20.0)
    assert all(0 <= v <= 100 for k, v in m.items() if k.startswith("cpu."))


def _memory():
    from collectors.linux.meminfo import Memory

    return Memory(1000, 500, 600, 0, 0, 0, 0)


# --- slow sample: processes ----------------------------------------------------------


def test_slow_metrics_top_cpu_from_two_samples() -> None:
    slow = sample.parse_slow(real_frames()[1])
    p1 = slow.processes[1]
    busier = dataclasses.replace(p1, utime_ticks=p1.utime_ticks + 150)
    cur = dataclasses.replace(
        slow, uptime_s=slow.uptime_s + 60, processes={**slow.processes, 1: busier}
    )
    series, info = sample.slow_metrics(slow, cur)
    assert info["top_cpu"][0] == {
        "pid": 1,
        "name": "process_api",
        "cpu_pct": 2.5,  # 150 ticks / 100 Hz / 60 s
        "rss_bytes": p1.rss_pages * 4096,
    }
    # The series is stored to 0.01 % (PCT_PLACES); info keeps df's full ratio.
    assert series["fs.used_pct[/]"] == 23.05
    assert info["filesystems"][0]["used_pct"] == pytest.approx(23.05114933125115)
    rebooted = dataclasses.replace(cur, uptime_s=5.0)
    assert sample.slow_metrics(slow, rebooted)[1]["top_cpu"] == []


def test_top_processes_pid_reuse_has_no_cpu() -> None:
    old = ProcStat(42, "old", "S", 1000, 1000, 10, starttime_ticks=500)
    new = ProcStat(42, "new", "R", 5, 5, 20, starttime_ticks=90_000)
    by_cpu, by_mem = top_processes({42: old}, {42: new}, 5.0, 100)
    assert by_cpu == []
    assert by_mem == [{"pid": 42, "name": "new", "cpu_pct": None, "rss_bytes": 20 * 4096}]


def test_top_processes_sorted_and_limited() -> None:
    prev = {p: ProcStat(p, f"p{p}", "S", 0, 0, p, 1) for p in range(1, 20)}
    cur = {p: ProcStat(p, f"p{p}", "S", p * 10, 0, p, 1) for p in range(1, 20)}
    by_cpu, by_mem = top_processes(prev, cur, 10.0, 100, n=3)
    assert [r["pid"] for r in by_cpu] == [19, 18, 17]
    assert by_cpu[0]["cpu_pct"] == 19.0
    assert [r["pid"] for r in by_mem] == [19, 18, 17]
