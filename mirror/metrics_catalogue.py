"""Every metric a series may be named after (``metric[instance]`` without the instance):
its unit, its kind and the collectors that produce it.

The one list for every room: the Linux host kind declares its metrics from it
(``collectors/linux/sample.py``), alert rules are checked against it at load
(``mirror/alerts/config.py``), and tests/test_metrics_catalogue.py fails when a collector
emits a name that is not here. ``mirror`` imports no collector, so the list lives here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["gauge", "rate"]  # as read, or per second from a counter's change


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    # "bytes", "bytes/s", "/s", "%", "s", "h", "ms", "°C", "W", "V", "rpm", "bit/s";
    # "" for a count, a load average or a 0/1 state
    unit: str
    kind: Kind
    sources: tuple[str, ...]  # the collectors that produce it (folders of collectors/, "icmp")


_HOSTS = ("linux", "freebsd", "macos", "windows")  # the REFLECTOR host kinds
_NET = tuple(f"{d}_{c}" for d in ("rx", "tx") for c in ("bytes", "packets", "errors", "drops"))


def _rate_unit(field: str) -> str:
    return "bytes/s" if field.endswith("bytes") else "/s"


def _net_sources(field: str) -> tuple[str, ...]:
    if field in ("rx_bytes", "tx_bytes"):
        return ("linux", "snmp", "freebsd", "macos", "windows")
    return ("linux", "snmp", "freebsd") if field == "rx_packets" else ("linux", "snmp")


CATALOGUE: tuple[Metric, ...] = (
    Metric("uptime_s", "s", "gauge", _HOSTS),
    Metric("uptime_seconds", "s", "gauge", ("snmp",)),  # sysUpTime
    Metric("load.1", "", "gauge", ("linux", "freebsd", "macos")),
    Metric("load.5", "", "gauge", ("linux", "freebsd", "macos")),
    Metric("load.15", "", "gauge", ("linux", "freebsd", "macos")),
    Metric("mem.total_bytes", "bytes", "gauge", (*_HOSTS, "snmp")),
    Metric("mem.available_bytes", "bytes", "gauge", _HOSTS),
    Metric("mem.used_bytes", "bytes", "gauge", (*_HOSTS, "snmp")),
    Metric("mem.cached_bytes", "bytes", "gauge", _HOSTS),
    Metric("mem.buffers_bytes", "bytes", "gauge", ("linux",)),
    Metric("mem.used_pct", "%", "gauge", (*_HOSTS, "snmp")),
    Metric("swap.total_bytes", "bytes", "gauge", (*_HOSTS, "snmp")),
    Metric("swap.used_bytes", "bytes", "gauge", (*_HOSTS, "snmp")),
    Metric("swap.used_pct", "%", "gauge", ("linux", "freebsd", "macos")),
    Metric("temp.celsius", "°C", "gauge", ("linux", "freebsd", "windows", "snmp")),
    *(Metric(f"cpu.{f}_pct", "%", "rate", ("linux",)) for f in ("iowait", "steal")),
    *(
        Metric(f"cpu.{f}_pct", "%", "rate", (*_HOSTS, *(("snmp",) if f == "busy" else ())))
        for f in ("user", "system", "idle", "busy")
    ),
    *(
        Metric(f"disk.{f}_per_s", _rate_unit(f), "rate", ("linux", "windows"))
        for f in ("read_bytes", "write_bytes")
    ),
    *(Metric(f"disk.{f}_per_s", "/s", "rate", ("linux",)) for f in ("reads", "writes")),
    Metric("disk.busy_pct", "%", "rate", ("linux", "windows")),
    *(Metric(f"net.{f}_per_s", _rate_unit(f), "rate", _net_sources(f)) for f in _NET),
    Metric("net.oper_up", "", "gauge", ("snmp",)),
    Metric("net.speed_bps", "bit/s", "gauge", ("snmp",)),
    Metric("net.util_pct", "%", "rate", ("snmp",)),
    Metric("fs.size_bytes", "bytes", "gauge", (*_HOSTS, "snmp")),
    Metric("fs.used_bytes", "bytes", "gauge", (*_HOSTS, "snmp")),
    Metric("fs.used_pct", "%", "gauge", (*_HOSTS, "snmp")),
    Metric("gpu.util_pct", "%", "gauge", ("linux",)),
    Metric("gpu.mem_used_bytes", "bytes", "gauge", ("linux",)),
    Metric("gpu.mem_total_bytes", "bytes", "gauge", ("linux",)),
    Metric("gpu.temp_celsius", "°C", "gauge", ("linux",)),
    Metric("gpu.power_watts", "W", "gauge", ("linux",)),
    Metric("fan.rpm", "rpm", "gauge", ("snmp",)),
    Metric("power.watts", "W", "gauge", ("snmp",)),
    Metric("power.volts", "V", "gauge", ("snmp",)),
    Metric("ping.up", "", "gauge", ("icmp",)),
    Metric("ping.rtt_min_ms", "ms", "gauge", ("icmp",)),
    Metric("ping.rtt_avg_ms", "ms", "gauge", ("icmp",)),
    Metric("ping.rtt_max_ms", "ms", "gauge", ("icmp",)),
    Metric("ping.jitter_ms", "ms", "gauge", ("icmp",)),
    Metric("ping.loss_pct", "%", "gauge", ("icmp",)),
    Metric("services.failed", "", "gauge", ("services", "windows")),
    Metric("service.up", "", "gauge", ("services",)),
    Metric("service.restarts", "", "gauge", ("services",)),
    Metric("updates.pending", "", "gauge", ("services",)),
    Metric("updates.security", "", "gauge", ("services",)),
    Metric("reboot.pending", "", "gauge", ("services",)),
    Metric("smart.healthy", "", "gauge", ("smart",)),
    Metric("smart.temp_celsius", "°C", "gauge", ("smart",)),
    Metric("smart.power_on_hours", "h", "gauge", ("smart",)),
    *(
        Metric(f"smart.{f}", "", "gauge", ("smart",))
        for f in ("reallocated_sectors", "pending_sectors", "offline_uncorrectable", "media_errors")
    ),
    Metric("smart.nvme_used_pct", "%", "gauge", ("smart",)),
    Metric("smart.nvme_spare_pct", "%", "gauge", ("smart",)),
    Metric("container.cpu_pct", "%", "rate", ("containers",)),
    Metric("container.mem_bytes", "bytes", "gauge", ("containers",)),
    Metric("container.mem_limit_bytes", "bytes", "gauge", ("containers",)),
    Metric("container.read_bytes_per_s", "bytes/s", "rate", ("containers",)),
    Metric("container.write_bytes_per_s", "bytes/s", "rate", ("containers",)),
)
BY_NAME: dict[str, Metric] = {m.name: m for m in CATALOGUE}
NAMES: frozenset[str] = frozenset(BY_NAME)


def produced_by(source: str) -> tuple[str, ...]:
    """The names ``source`` (a folder of ``collectors/``, or ``icmp``) produces, in order."""
    return tuple(m.name for m in CATALOGUE if source in m.sources)
