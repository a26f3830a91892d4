"""``/proc/net/dev``: per-interface traffic counters since the interface appeared.

Source: ``/proc/net/dev`` (proc(5)), any Linux 2.6+: two header lines, then
``iface: 8 receive fields 8 transmit fields``. Units: bytes and packets (counters).
The counters are ``unsigned long``: 64-bit on 64-bit kernels, 32-bit (wrapping at
4 GiB) on 32-bit ones; see ``collectors.rates``.
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.linux._util import to_int
from mirror.errors import ParseError

SOURCE = "/proc/net/dev"


@dataclass(frozen=True, slots=True)
class NetCounters:
    rx_bytes: int
    rx_packets: int
    rx_errors: int
    rx_drops: int
    tx_bytes: int
    tx_packets: int
    tx_errors: int
    tx_drops: int


def parse(text: str) -> dict[str, NetCounters]:
    lines = text.splitlines()
    if len(lines) < 2 or "|" not in lines[0] or "|" not in lines[1]:
        raise ParseError("/proc/net/dev does not start with its two header lines")
    result: dict[str, NetCounters] = {}
    for line in lines[2:]:
        if not line.strip():
            continue
        # 2.6-era kernels printed "eth0:123" with no space; names never hold ':'.
        name, sep, rest = line.rpartition(":")
        fields = rest.split()
        if not sep or len(fields) < 16:
            raise ParseError(f"/proc/net/dev line not understood: {line[:80]!r}")
        v = [to_int(f, f"/proc/net/dev {name.strip()}") for f in fields[:16]]
        result[name.strip()] = NetCounters(v[0], v[1], v[2], v[3], v[8], v[9], v[10], v[11])
    return result
