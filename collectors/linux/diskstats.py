"""``/proc/diskstats``: I/O counters of whole disks since boot.

Source: ``/proc/diskstats`` (Documentation/admin-guide/iostats.rst), Linux 2.6.25+
(14 fields; 4.18 adds 4 discard fields, 5.5 adds 2 flush fields, ignored here).
Units: completed I/Os; sectors of 512 bytes always, whatever the device's sector
size (iostats.rst); ``io_ticks_ms`` is milliseconds spent doing I/O, printed as a
32-bit ``unsigned int`` so it wraps after ~49.7 days of busy time.

Kept: whole disks (sda, vda, xvda, nvme0n1, mmcblk0, sr0), device-mapper (dm-*) and
md RAID (md*). Dropped: partitions (their I/O is already in the disk), loop and ram
devices, and zram: its "I/O" is compressed RAM traffic (swap on Fedora by default),
and a disk.busy_pct for it would alarm about a disk that does not exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from collectors.linux._util import to_int
from mirror.errors import ParseError

SOURCE = "/proc/diskstats"
SECTOR_BYTES = 512

_SKIP = re.compile(
    r"^(loop\d+|ram\d+|zram\d+"
    r"|(sd|hd|vd|xvd)[a-z]+\d+"  # sda1, vdb2, xvda1
    r"|.*\d+p\d+"  # nvme0n1p1, mmcblk0p1, md126p1, nbd0p1
    r"|mmcblk\d+(boot\d+|rpmb))$"
)


@dataclass(frozen=True, slots=True)
class DiskCounters:
    reads_completed: int
    sectors_read: int
    writes_completed: int
    sectors_written: int
    io_ticks_ms: int


def is_whole_disk(name: str) -> bool:
    return _SKIP.match(name) is None


def parse(text: str) -> dict[str, DiskCounters]:
    result: dict[str, DiskCounters] = {}
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if len(parts) == 7:
            continue  # pre-2.6.25 partition line: 4 counters only, and partitions are skipped
        if len(parts) < 14:
            raise ParseError(f"/proc/diskstats line has {len(parts)} fields: {line[:80]!r}")
        name = parts[2]
        v = [to_int(p, f"/proc/diskstats {name}") for p in parts[3:14]]
        if is_whole_disk(name):
            result[name] = DiskCounters(v[0], v[2], v[4], v[6], v[9])
    return result
