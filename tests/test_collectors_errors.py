"""Garbage, truncated and odd input: each parser raises ParseError saying what is wrong,
and the sample layer keeps a poll when only an optional source is broken."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

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
    sample,
    sensors,
    uptime,
)
from mirror.errors import ParseError

FIXTURES = Path(__file__).parent / "fixtures" / "linux"
JC = FIXTURES / "jc"
GARBAGE = "<html><body>502 Bad Gateway</body></html>\n"


def head(path: Path, n_bytes: int) -> str:
    """A real capture cut off after ``n_bytes``, as a dropped connection leaves it."""
    return path.read_text()[:n_bytes]


CASES: list[tuple[str, Callable[[str], Any], str, str]] = [
    ("proc_stat garbage", proc_stat.parse, GARBAGE, "no 'cpu' total line"),
    ("proc_stat truncated", proc_stat.parse, head(JC / "proc_stat.out", 14), "needs at least 4"),
    ("proc_stat bad number", proc_stat.parse, "cpu  1 2 x 4\n", "'x' is not an integer"),
    (
        "proc_stat two captures",
        proc_stat.parse,
        # jc's stat2 as it was: two captures back to back (see jc/NOTE.md)
        (JC / "proc_stat.stat2-first.out").read_text()
        + (JC / "proc_stat.stat2-second.out").read_text(),
        "two 'cpu' total lines",
    ),
    ("meminfo garbage", meminfo.parse, GARBAGE, "lacks MemTotal"),
    ("meminfo truncated", meminfo.parse, head(JC / "meminfo.out", 30), "lacks MemFree"),
    ("meminfo bad number", meminfo.parse, "MemTotal: lots kB\n", "'lots' is not an integer"),
    ("loadavg garbage", loadavg.parse, GARBAGE, "is not a number"),
    ("loadavg truncated", loadavg.parse, "0.00 0.01", "needs at least 3"),
    ("uptime empty", uptime.parse, "", "empty"),
    ("uptime garbage", uptime.parse, GARBAGE, "is not a number"),
    ("uptime nan", uptime.parse, "nan 1.0\n", "not a non-negative number"),
    ("net_dev garbage", net_dev.parse, GARBAGE, "header lines"),
    ("net_dev truncated", net_dev.parse, head(JC / "net_dev.out", 330), "line not understood"),
    ("diskstats truncated", diskstats.parse, head(FIXTURES / "this-machine/diskstats.out", 570),
     "fields"),
    ("diskstats garbage", diskstats.parse, "   8 0 sda a b c d e f g h i j k\n", "not an integer"),
    ("pid_stat garbage", processes.parse, GARBAGE, "no '(comm)'"),
    ("pid_stat truncated", processes.parse, head(JC / "pid_stat.out", 60), "needs at least 24"),
    ("cpuinfo garbage", osinfo.parse_cpuinfo, GARBAGE, "no 'processor' entries"),
    ("os_release garbage", osinfo.parse_os_release, GARBAGE, "neither PRETTY_NAME nor NAME"),
    ("df garbage", df.parse, GARBAGE, "'Filesystem' header"),
    ("df empty", df.parse, "", "'Filesystem' header"),
    ("df truncated", df.parse, head(FIXTURES / "this-machine/df.pkt.out", 200),
     "df line not understood"),
    ("df human readable", df.parse,
     "Filesystem      Size  Used Avail Use% Mounted on\n/dev/sda2  20G  5.5G  14G  30% /\n",
     "human-readable"),
    ("nvidia_smi error text", nvidia_smi.parse,
     "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
     "fields, not 9"),
    ("nvidia_smi bad number", nvidia_smi.parse, "0, GPU, uuid, lots, 1, 2, 3, 4, 5\n",
     "utilization.gpu: 'lots' is not a number"),
]  # fmt: skip


@pytest.mark.parametrize(("parse", "text", "message"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_bad_input_raises_parse_error(parse: Callable[[str], Any], text: str, message: str) -> None:
    with pytest.raises(ParseError, match=re.escape(message)):
        parse(text)


def test_pid_stat_comm_with_parentheses_and_spaces() -> None:
    p = processes.parse("77 (a) b (c)) R 1 77 77 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 99 0 12 0\n")
    assert (p.pid, p.comm, p.state, p.utime_ticks, p.stime_ticks) == (77, "a) b (c)", "R", 5, 6)
    assert (p.starttime_ticks, p.rss_pages) == (99, 12)


def test_nvidia_smi_not_supported_values_are_none() -> None:
    (gpu,) = nvidia_smi.parse("1, Tesla K80, GPU-x, [Not Supported], 5, 11441, N/A, [N/A], 149.00")
    assert gpu.util_pct is None and gpu.temp_celsius is None and gpu.power_watts is None
    assert gpu.mem_total_bytes == 11441 * 1024 * 1024 and gpu.power_limit_watts == 149.0


def test_sensors_labels_duplicates_and_unreadable() -> None:
    files = {
        "/sys/class/hwmon/hwmon0/name": "nvme\n",
        "/sys/class/hwmon/hwmon0/temp1_input": "39850\n",
        "/sys/class/hwmon/hwmon0/temp1_label": "Composite\n",
        "/sys/class/hwmon/hwmon1/name": "nvme\n",
        "/sys/class/hwmon/hwmon1/temp1_input": "40850\n",
        "/sys/class/hwmon/hwmon1/temp1_label": "Composite\n",
        "/sys/class/hwmon/hwmon2/name": "iwlwifi_1\n",
        "/sys/class/hwmon/hwmon2/temp1_input": "",  # ENODATA while the radio is off
        "/sys/class/hwmon/hwmon10/name": "coretemp\n",
        "/sys/class/hwmon/hwmon10/temp1_input": "-5000\n",
        "/sys/class/thermal/thermal_zone0/type": "x86_pkg_temp\n",
        "/sys/class/thermal/thermal_zone0/temp": "55000\n",
    }
    got = [(t.label, t.celsius) for t in sensors.parse(files)]
    assert got == [
        ("nvme@hwmon0/Composite", 39.85),
        ("nvme@hwmon1/Composite", 40.85),
        ("coretemp/temp1", -5.0),
        ("thermal/x86_pkg_temp", 55.0),
    ]
    with pytest.raises(ParseError, match="hwmon0/temp1_input: 'hot' is not an integer"):
        sensors.parse({"/sys/class/hwmon/hwmon0/temp1_input": "hot\n"})


def test_diskstats_keeps_whole_disks_only() -> None:
    line = "{} 1 2 3 4 5 6 7 8 9 10 11\n"
    names = "sda sda1 nvme0n1 nvme0n1p2 mmcblk0 mmcblk0p1 mmcblk0boot0 loop3 ram0 zram0 dm-0 md127"
    got = diskstats.parse("".join(line.format(f"8 0 {n}") for n in names.split()))
    assert list(got) == ["sda", "nvme0n1", "mmcblk0", "dm-0", "md127"]


def test_fast_frame_requires_core_files() -> None:
    with pytest.raises(ParseError, match="fast frame lacks /proc/stat"):
        sample.parse_fast(Frame("s", {"/proc/uptime": "1.0 1.0\n", "/proc/meminfo": ""}))
    with pytest.raises(ParseError, match="expected a fast 's' frame"):
        sample.parse_fast(Frame("x"))


def test_fast_frame_survives_a_broken_optional_file() -> None:
    files = {
        "/proc/uptime": "100.00 150.00\n",
        "/proc/stat": "cpu  1 2 3 4 5 6 7 8 0 0\nbtime 1700000000\n",
        "/proc/meminfo": "MemTotal: 1000 kB\nMemFree: 500 kB\n",
        "/proc/net/dev": "truncat",
    }
    s = sample.parse_fast(Frame("s", files))
    assert s.net == {} and s.load is None and s.temperatures == []
    assert s.problems == ("/proc/net/dev does not start with its two header lines",)
    assert s.memory.available_bytes == 500 * 1024  # no MemAvailable: free + buffers + cached


def test_slow_frame_with_failing_commands() -> None:
    frame = Frame(
        "x",
        {"/proc/uptime": "100.00 150.00\n", "/proc/5/stat": "", "/proc/6/stat": "garbage"},
        {
            "getconf": (1, ""),
            "df": (1, ""),
            "nvidia-smi": (9, "NVIDIA-SMI has failed because it couldn't communicate"),
        },
    )
    s = sample.parse_slow(frame)
    assert s.clk_tck == 100 and s.filesystems == [] and s.gpus == [] and s.processes == {}
    assert s.problems == (
        "getconf CLK_TCK failed; assuming 100",
        "1 /proc/<pid>/stat files did not parse",
        "df exited with status 1",
        "nvidia-smi exited with status 9",
    )
    series, info = sample.slow_metrics(None, s)
    assert series == {} and info["problems"] == list(s.problems)
