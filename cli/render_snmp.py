"""What `mirror poll --host DEVICE` prints for an SNMP device. Pure: no I/O."""

from __future__ import annotations

from typing import Any

from cli.render import _table, by_instance, human_bits_rate, human_bytes, human_duration
from mirror.model import PollStatus, Snapshot


def _speed(bps: float | None) -> str:
    if not bps:
        return "-"
    return f"{bps / 1e9:g}G" if bps >= 1e9 else f"{bps / 1e6:g}M"


def render_device(status: PollStatus, snapshot: Snapshot | None) -> str:
    lines = [f"{status.host}: {status.state}" + (f" — {status.error}" if status.error else "")]
    if snapshot is None:
        return "\n".join(lines)
    m, info = snapshot.metrics, snapshot.info
    system: dict[str, Any] = info.get("system") or {}
    ident = [system.get("name"), system.get("descr"), system.get("location")]
    lines.append("  ".join(str(p) for p in ident if p))
    if "uptime_seconds" in m:
        lines.append(f"Up    {human_duration(m['uptime_seconds'])}")
    if "cpu.busy_pct" in m:
        lines.append(f"CPU   {m['cpu.busy_pct']:5.1f} % busy")
    if "mem.total_bytes" in m:
        used = human_bytes(m.get("mem.used_bytes", 0))
        lines.append(f"Mem   {used} / {human_bytes(m['mem.total_bytes'])}")
    ifaces = by_instance(m, "net")
    meta = {i["name"]: i for i in info.get("interfaces", [])}
    rows = []
    for name, i in meta.items():
        v = ifaces.get(name, {})
        rows.append(
            [
                name,
                "up" if v.get("oper_up") else (i.get("oper") or "-"),
                _speed(v.get("speed_bps")),
                human_bits_rate(v.get("rx_bytes_per_s", 0)),
                human_bits_rate(v.get("tx_bytes_per_s", 0)),
                f"{v['util_pct']:.1f}" if "util_pct" in v else "-",
                f"{v.get('rx_errors_per_s', 0) + v.get('tx_errors_per_s', 0):.1f}",
                (i.get("alias") or "")[:24],
            ]
        )
    if rows:
        headers = ["interface", "oper", "speed", "rx/s", "tx/s", "util %", "err/s", "alias"]
        lines += ["", "Interfaces", *_table(headers, rows)]
    sensors = [(k, v) for k, v in m.items() if k.split("[")[0] in _SENSORS]
    if sensors:
        lines += ["", "Sensors", *_table(["sensor", "value"], [[k, f"{v:g}"] for k, v in sensors])]
    neighbours = (info.get("lldp") or {}).get("neighbours") or []
    if neighbours:
        rows = [
            [
                str(n.get("local_port")),
                str(n.get("sys_name") or n.get("chassis_id") or "?")[:40],
                str(n.get("port_id") or n.get("port_descr") or "?"),
            ]
            for n in neighbours
        ]
        lines += ["", "LLDP neighbours", *_table(["port", "neighbour", "their port"], rows)]
    fdb, arp = info.get("fdb") or [], info.get("arp") or []
    if fdb or arp:
        lines += ["", f"MAC table: {len(fdb)} entries   ARP: {len(arp)} entries"]
    return "\n".join(lines)


_SENSORS = frozenset({"temp.celsius", "fan.rpm", "power.watts", "power.volts"})
