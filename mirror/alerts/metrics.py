"""The metrics a rule may name (without their ``[instance]``), so a typo is refused at load.

``mirror`` cannot import ``collectors``; tests/test_alerts_config.py checks that every
metric the collectors produce from their recorded fixtures is listed here.
"""

from __future__ import annotations

KNOWN_METRICS: frozenset[str] = frozenset(
    {
        "uptime_s",
        "uptime_seconds",  # SNMP sysUpTime
        "load.1",
        "load.5",
        "load.15",
        *(f"cpu.{f}_pct" for f in ("user", "system", "iowait", "steal", "idle", "busy")),
        "mem.total_bytes",
        "mem.available_bytes",
        "mem.used_bytes",
        "mem.cached_bytes",
        "mem.buffers_bytes",
        "mem.used_pct",
        "swap.total_bytes",
        "swap.used_bytes",
        "swap.used_pct",
        "temp.celsius",
        *(
            f"disk.{f}"
            for f in ("read_bytes_per_s", "write_bytes_per_s", "reads_per_s", "writes_per_s")
        ),
        "disk.busy_pct",
        *(
            f"net.{f}_per_s"
            for f in (
                "rx_bytes",
                "rx_packets",
                "rx_errors",
                "rx_drops",
                "tx_bytes",
                "tx_packets",
                "tx_errors",
                "tx_drops",
            )
        ),
        "net.oper_up",
        "net.speed_bps",
        "net.util_pct",
        "fs.size_bytes",
        "fs.used_bytes",
        "fs.used_pct",
        "gpu.util_pct",
        "gpu.mem_util_pct",
        "gpu.temp_celsius",
        "gpu.power_watts",
        "gpu.mem_used_bytes",
        "gpu.mem_total_bytes",
        "fan.rpm",
        "power.watts",
        "power.volts",
        "ping.up",
        "ping.rtt_min_ms",
        "ping.rtt_avg_ms",
        "ping.rtt_max_ms",
        "ping.jitter_ms",
        "ping.loss_pct",
    }
)
