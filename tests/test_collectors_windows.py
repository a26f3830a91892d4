"""Windows kind (collectors/windows): the launch text, and the parsers on JSON WRITTEN HERE
(no real capture exists; see tests/fixtures/windows/README.md)."""

from __future__ import annotations

import base64
import json
import re

import pytest

from collectors.frame import parse_frame
from collectors.windows import kind
from mirror.errors import ParseError
from tests.support.frames import command_frame

BOOT_MS = 1_700_000_000_000


def _fast(now_s: float, busy_ticks: int, rx: int) -> bytes:
    # 2 CPUs; per CPU per second 10_000_000 ticks of 100 ns. Written here, not captured.
    t = int(now_s * 10_000_000)
    cpus = [
        {"Name": str(i), "PercentUserTime": busy_ticks, "PercentPrivilegedTime": 0,
         "PercentIdleTime": t - busy_ticks, "Timestamp_Sys100NS": t}
        for i in range(2)
    ]  # fmt: skip
    cpus.append({"Name": "_Total", "PercentUserTime": 2 * busy_ticks,
                 "PercentPrivilegedTime": 0, "PercentIdleTime": 2 * (t - busy_ticks)})  # fmt: skip
    doc = {
        "now_ms": BOOT_MS + int(now_s * 1000), "boot_ms": BOOT_MS,
        "os": {"TotalVisibleMemorySize": 16 * 1024 * 1024, "FreePhysicalMemory": 4 * 1024 * 1024,
               "SizeStoredInPagingFiles": 2 * 1024 * 1024, "FreeSpaceInPagingFiles": 1024 * 1024},
        "memory": {"AvailableBytes": str(8 * 1024**3), "CacheBytes": 1024**3},
        "cpu": cpus,
        "net": [{"Name": "Intel[R] Ethernet I219-LM", "BytesReceivedPersec": rx,
                 "BytesSentPersec": 0}],
        "disks": [{"Name": "0 C:", "DiskReadBytesPersec": rx, "PercentIdleTime": t // 2,
                   "Timestamp_Sys100NS": t}, {"Name": "_Total"}],
        "thermal": {"InstanceName": "ACPI\\ThermalZone\\TZ00_0", "CurrentTemperature": 3132},
    }  # fmt: skip
    return command_frame("s", [("json", 0, json.dumps(doc))])


def test_fast_samples_make_linux_metrics() -> None:
    a = kind.parse_fast(parse_frame(_fast(100, busy_ticks=0, rx=0)))
    b = kind.parse_fast(parse_frame(_fast(110, busy_ticks=25_000_000, rx=1_024_000)))
    assert b.uptime_s == 110 and b.memory.total_bytes == 16 * 1024**3
    assert b.memory.available_bytes == 8 * 1024**3  # a uint64 that came as a string
    assert b.temperatures[0].celsius == round(3132 / 10 - 273.15, 1)
    m = kind.fast_metrics(a, b)
    assert m["cpu.busy_pct"] == 25.0 and m["cpu.busy_pct[1]"] == 25.0
    assert m["net.rx_bytes_per_s[Intel[R] Ethernet I219-LM]"] == 102_400.0
    assert m["disk.read_bytes_per_s[0 C:]"] == 102_400.0
    assert m["disk.busy_pct[0 C:]"] == 50.0
    assert m["swap.used_bytes"] == 1024**3
    assert "load.1" not in m  # Windows keeps no load average; none is made up


def test_slow_sample_and_services() -> None:
    doc = {
        "now_ms": BOOT_MS + 5000, "boot_ms": BOOT_MS,
        "host": {"Name": "DESKTOP-1", "Caption": "Microsoft Windows 11 Pro",
                 "Version": "10.0.22631", "OSArchitecture": "64-bit",
                 "NumberOfLogicalProcessors": 8},
        "cpu_model": "Intel(R) Core(TM) i7 ",
        "volumes": [{"DeviceID": "C:", "FileSystem": "NTFS", "Size": 1000, "FreeSpace": 250}],
        "services": [
            {"Name": "Spooler", "State": "Stopped", "StartMode": "Auto", "ExitCode": 1067},
            {"Name": "wuauserv", "State": "Stopped", "StartMode": "Manual", "ExitCode": 0},
            {"Name": "sshd", "State": "Running", "StartMode": "Auto", "ExitCode": 0},
        ],
    }  # fmt: skip
    frame = parse_frame(command_frame("x", [("json", 0, json.dumps(doc))]))
    s = kind.parse_slow(frame)
    assert (s.hostname, s.cpu_model, s.cpu_count) == ("DESKTOP-1", "Intel(R) Core(TM) i7", 8)
    metrics, _info = kind.slow_metrics(None, s)
    assert metrics["fs.used_pct[C:]"] == 75.0
    assert kind.failed_services(frame) == ["Spooler"]


def test_bad_json_is_a_clear_error() -> None:
    with pytest.raises(ParseError, match="bad JSON"):
        kind.parse_fast(parse_frame(command_frame("s", [("json", 0, "{oops")])))
    with pytest.raises(ParseError, match="_Total"):
        kind.parse_fast(parse_frame(command_frame("s", [("json", 0, '{"now_ms":1,"boot_ms":0}')])))
    with pytest.raises(ParseError, match="json section"):
        kind.parse_slow(parse_frame(command_frame("x", [])))


def test_launch_reads_the_same_in_cmd_and_powershell() -> None:
    plan = kind.launch()
    head, encoded = plan.command.rsplit(" ", 1)
    assert head.startswith("powershell -NoProfile -NonInteractive")
    # base64 only: nothing cmd (& | < > ^ % ") or PowerShell ($ ` ;) could read.
    assert re.fullmatch(r"[A-Za-z0-9+/=]+", encoded)
    boot = base64.b64decode(encoded).decode("utf-16-le")
    assert f"$n={len(plan.stdin)};" in boot and "@@R $PID" in boot
    assert plan.stdin.decode() == kind.program()
