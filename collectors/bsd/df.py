"""BSD ``df`` (FreeBSD ``df -k``, macOS ``df`` / ``df -k``): size and use of each mount.

Source: df(1) of FreeBSD and macOS. The header names the block size (``512-blocks``,
``1024-blocks``, ``1K-blocks``); macOS adds inode columns (``iused ifree %iused``) unless
``-P``. Device names may hold spaces (``map auto_home``) and mount points too, so a line
is read as: device, three numbers, a capacity, optional inode columns, then the mount
point (which starts with ``/``). Dropped like on Linux: zero-size and pseudo entries
(``devfs``, automounter ``map`` entries), macOS Time Machine snapshots (``name@device``)
and the APFS system volumes under ``/System/Volumes`` other than ``Data`` (they share the
container's space with ``/``). Units: bytes.
"""

from __future__ import annotations

import re

from collectors.linux.df import Filesystem, _dedupe
from mirror.errors import ParseError

_LINE = re.compile(
    r"^(.+?)\s+(\d+)\s+(\d+)\s+(-?\d+)\s+(\d+%|-)\s+(?:\d+\s+\d+\s+(?:\d+%|-)\s+)?(/.*)$"
)
_PSEUDO = frozenset({"devfs", "fdescfs", "procfs", "linprocfs", "tmpfs", "nullfs"})
_KEEP_SYSTEM = "/System/Volumes/Data"


def parse(text: str) -> list[Filesystem]:
    lines = [line.rstrip("\r") for line in text.splitlines() if line.strip()]
    if not lines or not lines[0].startswith("Filesystem"):
        raise ParseError("df output does not start with a 'Filesystem' header")
    block = re.search(r"(\d+)([kK]?)-blocks", lines[0])
    if block is None:
        raise ParseError(f"df header has no N-blocks column (human-readable -h?): {lines[0]!r}")
    block_bytes = int(block.group(1)) * (1024 if block.group(2) else 1)
    found: list[Filesystem] = []
    for line in lines[1:]:
        m = _LINE.match(line)
        if m is None:
            raise ParseError(f"df line not understood: {line[:100]!r}")
        device, size, used, avail, _cap, mount = m.groups()
        if int(size) == 0 or _pseudo(device, mount):
            continue
        sizes = (int(v) * block_bytes for v in (size, used, max(int(avail), 0)))
        found.append(Filesystem(device, None, mount, *sizes))
    return _dedupe(found)


def _pseudo(device: str, mount: str) -> bool:
    if device in _PSEUDO or device.startswith("map ") or "@" in device.split("/")[0]:
        return True
    if mount.startswith("/System/Volumes/") and mount != _KEEP_SYSTEM:
        return True
    return mount == "/private/var/vm"  # the swap files' volume
