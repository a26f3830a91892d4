"""Turn a snapshot into the text `mirror poll` prints. Pure: no I/O."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from mirror.model import PollStatus, Snapshot, split_series

_IEC = ("", "Ki", "Mi", "Gi", "Ti", "Pi")
_BITS = ("bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s")


def human_bytes(value: float, suffix: str = "B") -> str:
    """Sizes and disk rates in IEC binary units: "999 B", "1.5 KiB", "118 MiB" (one decimal
    below 100). The web UI's ``bytes`` (web/src/format.ts) prints the same text for a value."""
    v, unit = abs(value), 0
    while v >= 1024 and unit < len(_IEC) - 1:
        v /= 1024
        unit += 1
    digits = 0 if unit == 0 or v >= 100 else 1
    return f"{'-' if value < 0 else ''}{v:.{digits}f} {_IEC[unit]}{suffix}"


def human_bits_rate(bytes_per_s: float) -> str:
    """Network rates in decimal bits per second, as links are quoted: "12.0 kbit/s",
    "10.0 Mbit/s". The web UI's ``bitRate`` prints the same."""
    v, unit = abs(bytes_per_s * 8), 0
    while v >= 1000 and unit < len(_BITS) - 1:
        v /= 1000
        unit += 1
    digits = 0 if unit == 0 or v >= 100 else 1
    return f"{'-' if bytes_per_s < 0 else ''}{v:.{digits}f} {_BITS[unit]}"


def human_duration(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    return f"{days}d {hours}h {minutes}m" if days else f"{hours}h {minutes}m"


def by_instance(metrics: dict[str, float], prefix: str) -> dict[str, dict[str, float]]:
    """{"net.rx_bytes_per_s[eth0]": 1} → {"eth0": {"rx_bytes_per_s": 1}} for prefix "net"."""
    table: dict[str, dict[str, float]] = defaultdict(dict)
    for name, value in metrics.items():
        metric, instance = split_series(name)
        if instance is not None and metric.startswith(prefix + "."):
            table[instance][metric[len(prefix) + 1 :]] = value
    return dict(table)


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return [fmt.format(*headers), *(fmt.format(*r) for r in rows)]


def render_poll(status: PollStatus, snapshot: Snapshot | None) -> str:
    lines = [f"{status.host}: {status.state}" + (f" — {status.error}" if status.error else "")]
    if snapshot is None:
        return "\n".join(lines)
    m, info = snapshot.metrics, snapshot.info
    lines += _identity(info, m)
    get = m.get
    lines.append("")
    lines.append(
        f"CPU   {get('cpu.busy_pct', float('nan')):5.1f} % busy  "
        f"(user {get('cpu.user_pct', 0):.1f}  system {get('cpu.system_pct', 0):.1f}  "
        f"iowait {get('cpu.iowait_pct', 0):.1f}  steal {get('cpu.steal_pct', 0):.1f})"
    )
    cores = by_instance(m, "cpu")
    if cores:
        per_core = "  ".join(
            f"{c}:{v.get('busy_pct', 0):.0f}%" for c, v in sorted(cores.items(), key=_num)
        )
        lines.append(f"      per core  {per_core}")
    lines.append(f"Load  {get('load.1', 0):.2f} {get('load.5', 0):.2f} {get('load.15', 0):.2f}")
    if "mem.total_bytes" in m:
        lines.append(
            f"Mem   {human_bytes(get('mem.used_bytes', 0))} / {human_bytes(m['mem.total_bytes'])}"
            f" ({get('mem.used_pct', 0):.1f} %)   Swap {human_bytes(get('swap.used_bytes', 0))}"
            f" / {human_bytes(get('swap.total_bytes', 0))}"
        )
    if "uptime_s" in m:
        lines.append(f"Up    {human_duration(m['uptime_s'])}")
    lines += _section(
        "Filesystems",
        ["mount", "size", "used", "used %"],
        by_instance(m, "fs"),
        lambda k, v: [
            k,
            human_bytes(v.get("size_bytes", 0)),
            human_bytes(v.get("used_bytes", 0)),
            f"{v.get('used_pct', 0):.1f}",
        ],
    )
    lines += _section(
        "Network",
        ["interface", "rx/s", "tx/s", "err/s", "drop/s"],
        by_instance(m, "net"),
        lambda k, v: [
            k,
            human_bits_rate(v.get("rx_bytes_per_s", 0)),
            human_bits_rate(v.get("tx_bytes_per_s", 0)),
            f"{v.get('rx_errors_per_s', 0) + v.get('tx_errors_per_s', 0):.1f}",
            f"{v.get('rx_drops_per_s', 0) + v.get('tx_drops_per_s', 0):.1f}",
        ],
    )
    lines += _section(
        "Disks",
        ["device", "read/s", "write/s", "busy %"],
        by_instance(m, "disk"),
        lambda k, v: [
            k,
            human_bytes(v.get("read_bytes_per_s", 0)),
            human_bytes(v.get("write_bytes_per_s", 0)),
            f"{v.get('busy_pct', 0):.1f}",
        ],
    )
    lines += _section(
        "Temperatures",
        ["sensor", "°C"],
        by_instance(m, "temp"),
        lambda k, v: [k, f"{v.get('celsius', 0):.1f}"],
    )
    lines += _section(
        "GPUs",
        ["gpu", "util %", "memory", "°C", "W"],
        by_instance(m, "gpu"),
        lambda k, v: [
            k,
            f"{v.get('util_pct', 0):.0f}",
            f"{human_bytes(v.get('mem_used_bytes', 0))} / "
            f"{human_bytes(v.get('mem_total_bytes', 0))}",
            f"{v.get('temp_celsius', 0):.0f}",
            f"{v.get('power_watts', 0):.0f}",
        ],
    )
    top = info.get("top_cpu") or []
    if top:
        lines += ["", "Top processes by CPU"]
        lines += _table(
            ["pid", "name", "cpu %", "rss"],
            [
                [str(p["pid"]), str(p["name"]), f"{p['cpu_pct']:.1f}", human_bytes(p["rss_bytes"])]
                for p in top[:5]
            ],
        )
    return "\n".join(lines)


def _num(item: tuple[str, Any]) -> tuple[int, str]:
    key = item[0]
    return (int(key), "") if key.isdigit() else (1 << 30, key)


def _identity(info: dict[str, Any], metrics: dict[str, float]) -> list[str]:
    parts = [info.get(k) for k in ("hostname", "os", "kernel", "arch")]
    lines = ["  ".join(str(p) for p in parts if p)] if any(parts) else []
    if info.get("cpu_model"):
        lines.append(f"{info['cpu_model']} × {info.get('cpu_count', '?')}")
    return lines


def _section(
    title: str,
    headers: list[str],
    table: dict[str, dict[str, float]],
    row: Callable[[str, dict[str, float]], list[str]],
) -> list[str]:
    if not table:
        return []
    rows = [row(k, v) for k, v in sorted(table.items(), key=_num)]
    return ["", title, *_table(headers, rows)]
