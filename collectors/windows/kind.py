"""What a Windows host kind needs: the program, its launch, the parsers and the metrics.

The program (``windows.ps1``) answers each request with one JSON object (``@@C json``):

* fast ``s``: ``now_ms``/``boot_ms`` (uptime), ``os`` (Win32_OperatingSystem memory and
  paging-file sizes in KiB), ``memory`` (Win32_PerfRawData_PerfOS_Memory ``AvailableBytes``,
  ``CacheBytes``), ``cpu`` (Win32_PerfRawData_PerfOS_Processor per CPU and ``_Total``:
  ``PercentUserTime``, ``PercentPrivilegedTime``, ``PercentIdleTime``, cumulative 100 ns
  units), ``net`` (Win32_PerfRawData_Tcpip_NetworkInterface cumulative bytes/packets/errors),
  ``disks`` (Win32_PerfRawData_PerfDisk_PhysicalDisk cumulative bytes and operations,
  ``PercentIdleTime`` against ``Timestamp_Sys100NS``), ``thermal`` (MSAcpi_ThermalZone-
  Temperature, tenths of a kelvin; only where the firmware and rights allow);
* slow ``x``: ``host`` (name, OS caption and version, architecture, logical CPUs),
  ``cpu_model``, ``volumes`` (Win32_LogicalDisk fixed disks: size and free bytes),
  ``services`` (Win32_Service name, state, start mode, exit code).

Everything becomes the Linux kind's ``FastSample``/``SlowSample``, so ``fast_metrics``/
``slow_metrics`` and the metric names are Linux's: ``cpu.busy_pct``, ``cpu.busy_pct[N]``,
``mem.used_bytes``, ``net.rx_bytes_per_s[IF]``, ``disk.read_bytes_per_s[DISK]``,
``fs.used_pct[C:]``. Services add ``services.failed``: automatic services not running
with a non-zero exit code.

Launch: OpenSSH for Windows runs the exec request with its default shell, cmd or
PowerShell; ``powershell -NoProfile -NonInteractive -EncodedCommand B64`` reads the same
in both. The encoded bootstrap reads the program (ASCII) from stdin, prints ``@@R <pid>``
and runs it, as ``collectors.launch.reflector_launch`` does on POSIX hosts.

**Not tested on a real Windows host**: no capture of these CIM classes' JSON was found
and no Windows machine is reachable here (see tests/fixtures/windows/README.md).
"""

from __future__ import annotations

import base64
import json
from importlib import resources
from typing import Any

from collectors.frame import Frame
from collectors.launch import NO_PROGRAM_STATUS, Launch
from collectors.linux.df import Filesystem
from collectors.linux.diskstats import SECTOR_BYTES, DiskCounters
from collectors.linux.meminfo import Memory
from collectors.linux.net_dev import NetCounters
from collectors.linux.proc_stat import CpuStat, CpuTimes
from collectors.linux.sample import FastSample, SlowSample, fast_metrics, slow_metrics
from collectors.linux.sensors import Temperature
from mirror.errors import ParseError

NAME = "windows"
UNAME = ("Windows",)  # no uname: detected when `uname -s` fails and `ver` answers
METRICS = (
    "uptime_s", "cpu.busy_pct", "cpu.user_pct", "cpu.system_pct", "cpu.idle_pct",
    "cpu.busy_pct[N]", "mem.total_bytes", "mem.available_bytes", "mem.used_bytes",
    "mem.used_pct", "mem.cached_bytes", "swap.total_bytes", "swap.used_bytes",
    "net.rx_bytes_per_s[IF]", "net.tx_bytes_per_s[IF]", "disk.read_bytes_per_s[DISK]",
    "disk.write_bytes_per_s[DISK]", "disk.busy_pct[DISK]", "temp.celsius[ZONE]",
    "fs.size_bytes[C:]", "fs.used_bytes[C:]", "fs.used_pct[C:]", "services.failed",
)  # fmt: skip
__all__ = ["fast_metrics", "slow_metrics"]
_TICKS_PER_MS = 10_000  # 100 ns units


def program() -> str:
    return resources.files("collectors").joinpath("windows/windows.ps1").read_text()


def launch() -> Launch:
    text = program()
    if not text.isascii():
        raise ValueError("windows.ps1 must stay ASCII: the bootstrap counts characters")
    boot = (
        f"$n={len(text)};$b=New-Object char[] $n;$r=0;"
        "while($r -lt $n){$k=[Console]::In.Read($b,$r,$n-$r);"
        f"if($k -le 0){{[Console]::Error.WriteLine('mirror: could not read the program "
        f"from stdin');exit {NO_PROGRAM_STATUS}}};$r+=$k}};"
        '[Console]::Out.Write("@@R $PID`n");[Console]::Out.Flush();'
        "Invoke-Expression (-join $b)"
    )
    encoded = base64.b64encode(boot.encode("utf-16-le")).decode()
    command = (
        f"powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand {encoded}"
    )
    return Launch(command, text.encode())


def _json(frame: Frame, kind: str) -> dict[str, Any]:
    if frame.kind != kind:
        raise ParseError(f"expected a {kind!r} frame, got {frame.kind!r}")
    status, text = frame.commands.get("json", (None, ""))
    if status != 0:
        raise ParseError(f"{kind!r} frame lacks its json section")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ParseError(f"windows REFLECTOR sent bad JSON: {exc}") from None
    if not isinstance(doc, dict) or "now_ms" not in doc or "boot_ms" not in doc:
        raise ParseError("windows REFLECTOR JSON lacks now_ms/boot_ms")
    return doc


def _rows(doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
    rows = doc.get(key) or []
    if isinstance(rows, dict):  # ConvertTo-Json makes a one-item array an object
        rows = [rows]
    return [r for r in rows if isinstance(r, dict)]


def _int(row: dict[str, Any], key: str) -> int:
    value = row.get(key)
    if value is None:
        return 0
    try:
        return int(value)  # CIM uint64 values arrive as strings from some hosts
    except (TypeError, ValueError):
        raise ParseError(f"windows {key}: {str(value)[:40]!r} is not an integer") from None


def _uptime(doc: dict[str, Any]) -> float:
    return (_int(doc, "now_ms") - _int(doc, "boot_ms")) / 1000


def parse_fast(frame: Frame) -> FastSample:
    doc = _json(frame, "s")
    cores: dict[int, CpuTimes] = {}
    total: CpuTimes | None = None
    for row in _rows(doc, "cpu"):
        t = CpuTimes(
            user=_int(row, "PercentUserTime"), nice=0,
            system=_int(row, "PercentPrivilegedTime"), idle=_int(row, "PercentIdleTime"),
        )  # fmt: skip
        name = str(row.get("Name", ""))
        if name == "_Total":
            total = t
        elif name.isdigit():
            cores[int(name)] = t
    if total is None:
        raise ParseError("windows fast sample has no _Total processor row")
    os_row = doc.get("os") or {}
    mem_rows = _rows(doc, "memory")
    mem = mem_rows[0] if mem_rows else {}
    total_bytes = _int(os_row, "TotalVisibleMemorySize") * 1024
    swap_total = _int(os_row, "SizeStoredInPagingFiles") * 1024
    available = _int(mem, "AvailableBytes") or _int(os_row, "FreePhysicalMemory") * 1024
    net = {
        str(r["Name"]): NetCounters(
            rx_bytes=_int(r, "BytesReceivedPersec"),
            rx_packets=_int(r, "PacketsReceivedPersec"),
            rx_errors=_int(r, "PacketsReceivedErrors"),
            rx_drops=_int(r, "PacketsReceivedDiscarded"),
            tx_bytes=_int(r, "BytesSentPersec"),
            tx_packets=_int(r, "PacketsSentPersec"),
            tx_errors=_int(r, "PacketsOutboundErrors"),
            tx_drops=_int(r, "PacketsOutboundDiscarded"),
        )
        for r in _rows(doc, "net")
        if r.get("Name")
    }
    disks = {
        str(r["Name"]): DiskCounters(
            reads_completed=_int(r, "DiskReadsPersec"),
            sectors_read=_int(r, "DiskReadBytesPersec") // SECTOR_BYTES,
            writes_completed=_int(r, "DiskWritesPersec"),
            sectors_written=_int(r, "DiskWriteBytesPersec") // SECTOR_BYTES,
            # Busy time = elapsed - idle, both in 100 ns units since the counter started.
            io_ticks_ms=max(_int(r, "Timestamp_Sys100NS") - _int(r, "PercentIdleTime"), 0)
            // _TICKS_PER_MS,
        )
        for r in _rows(doc, "disks")
        if r.get("Name") and r.get("Name") != "_Total"
    }
    temps = [
        Temperature(str(r.get("InstanceName", "zone")), round(tenths_k / 10 - 273.15, 1))
        for r in _rows(doc, "thermal")
        if (tenths_k := _int(r, "CurrentTemperature")) > 0
    ]
    return FastSample(
        uptime_s=_uptime(doc),
        cpu=CpuStat(total=total, cores=cores, boot_time=_int(doc, "boot_ms") // 1000),
        memory=Memory(
            total_bytes=total_bytes,
            free_bytes=_int(os_row, "FreePhysicalMemory") * 1024,
            available_bytes=min(available, total_bytes),
            buffers_bytes=0,
            cached_bytes=_int(mem, "CacheBytes"),
            swap_total_bytes=swap_total,
            swap_free_bytes=_int(os_row, "FreeSpaceInPagingFiles") * 1024,
        ),
        load=None,  # Windows keeps no load average
        net=net,
        disks=disks,
        temperatures=temps,
    )


def parse_slow(frame: Frame) -> SlowSample:
    doc = _json(frame, "x")
    host = doc.get("host") or {}
    models = doc.get("cpu_model") or []
    if isinstance(models, str):
        models = [models]
    filesystems = [
        Filesystem(
            device=str(v.get("VolumeName") or v["DeviceID"]),
            fstype=v.get("FileSystem"),
            mount=str(v["DeviceID"]),
            size_bytes=_int(v, "Size"),
            used_bytes=_int(v, "Size") - _int(v, "FreeSpace"),
            available_bytes=_int(v, "FreeSpace"),
        )
        for v in _rows(doc, "volumes")
        if v.get("DeviceID") and _int(v, "Size") > 0
    ]
    return SlowSample(
        uptime_s=_uptime(doc),
        hostname=host.get("Name"),
        os_name=host.get("Caption"),
        kernel=host.get("Version"),
        arch=host.get("OSArchitecture"),
        cpu_model=str(models[0]).strip() if models else None,
        cpu_count=host.get("NumberOfLogicalProcessors"),
        clk_tck=100,
        filesystems=filesystems,
        gpus=[],
        processes={},
    )


def failed_services(frame: Frame) -> list[str]:
    """Automatic services that are not running and ended with an error."""
    doc = _json(frame, "x")
    return sorted(
        str(s.get("Name"))
        for s in _rows(doc, "services")
        if s.get("StartMode") == "Auto" and s.get("State") != "Running" and _int(s, "ExitCode") != 0
    )
