"""``df -PkT`` (or ``df -Pk``): size and use of each mounted real filesystem.

Source: GNU coreutils ``df -PkT`` (all mainstream distributions); BusyBox and
old systems without ``-T`` give ``df -Pk``, so ``fstype`` is ``None`` and pseudo
filesystems are recognised by device name instead. Plain ``df`` (``1K-blocks``,
``Use%``) has the same columns and parses too. Units: the header names the block
size (``1024-blocks``/``1K-blocks``); sizes here are bytes.

POSIX output puts one filesystem per line and prints the mount point unescaped as
the last field, so a mount point with spaces is "everything after the capacity".
Kept: filesystems backed by storage. Dropped: memory/kernel pseudo filesystems,
read-only images (squashfs snaps, ISO images are always 100 % full and would raise
"disk full" alerts), and zero-size entries. A device mounted more than once (bind
mounts, btrfs subvolumes) is kept once, at its shortest mount point.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mirror.errors import ParseError

COMMAND = "df -PkT"

PSEUDO_FSTYPES = frozenset(
    {
        # memory and kernel interfaces
        "tmpfs", "devtmpfs", "ramfs", "proc", "sysfs", "cgroup", "cgroup2", "nsfs", "autofs",
        "devpts", "mqueue", "debugfs", "tracefs", "securityfs", "pstore", "bpf", "configfs",
        "fusectl", "hugetlbfs", "binfmt_misc", "efivarfs", "rpc_pipefs", "selinuxfs", "nfsd",
        "devfs", "shm", "none",
        # container layers and read-only images
        "overlay", "aufs", "squashfs", "erofs", "cramfs", "iso9660",
        # FUSE daemons that expose no storage
        "fuse.lxcfs", "fuse.gvfsd-fuse", "fuse.portal", "fuse.snapfuse",
        "fuse.xdg-document-portal",
    }
)  # fmt: skip
PSEUDO_DEVICES = frozenset(
    {"tmpfs", "devtmpfs", "udev", "none", "overlay", "shm", "cgroup", "cgroup2", "proc",
     "sysfs", "devfs", "run", "lxcfs"}
)  # fmt: skip

_NUM = r"(\d+|-)"
_WITH_TYPE = re.compile(rf"^(.+?)\s+(\S+)\s+{_NUM}\s+{_NUM}\s+{_NUM}\s+(\d+%|-)\s+(/.*)$")
_NO_TYPE = re.compile(rf"^(.+?)\s+{_NUM}\s+{_NUM}\s+{_NUM}\s+(\d+%|-)\s+(/.*)$")


@dataclass(frozen=True, slots=True)
class Filesystem:
    device: str
    fstype: str | None
    mount: str
    size_bytes: int
    used_bytes: int
    available_bytes: int


def parse(text: str) -> list[Filesystem]:
    lines = [line.rstrip("\r") for line in text.splitlines() if line.strip()]
    if not lines or not lines[0].startswith("Filesystem"):
        raise ParseError("df output does not start with a 'Filesystem' header")
    header = lines[0].split()
    has_type = len(header) > 1 and header[1] == "Type"
    size_column = header[2 if has_type else 1] if len(header) > 2 else ""
    block = re.match(r"^(\d+)([kK]?)-blocks$", size_column)
    if block is None:
        raise ParseError(f"df header has no N-blocks column (human-readable -h?): {lines[0]!r}")
    block_bytes = int(block.group(1)) * (1024 if block.group(2) else 1)
    pattern = _WITH_TYPE if has_type else _NO_TYPE
    found: list[Filesystem] = []
    for line in lines[1:]:
        m = pattern.match(line)
        if m is None:
            raise ParseError(f"df line not understood: {line[:100]!r}")
        if has_type:
            device, fstype, size, used, avail, _cap, mount = m.groups()
        else:
            device, size, used, avail, _cap, mount = m.groups()
            fstype = None
        if "-" in (size, used, avail) or int(size) == 0 or _is_pseudo(device, fstype):
            continue
        found.append(
            Filesystem(device, fstype, mount, *(int(v) * block_bytes for v in (size, used, avail)))
        )
    return _dedupe(found)


def _is_pseudo(device: str, fstype: str | None) -> bool:
    if fstype is not None:
        return fstype in PSEUDO_FSTYPES
    # Without types, snap/AppImage loop mounts are squashfs images: always full, never real.
    return device in PSEUDO_DEVICES or device.startswith("/dev/loop")


def _dedupe(found: list[Filesystem]) -> list[Filesystem]:
    best: dict[str, Filesystem] = {}
    for fs in found:
        kept = best.get(fs.device)
        if kept is None or (len(fs.mount), fs.mount) < (len(kept.mount), kept.mount):
            best[fs.device] = fs
    keep = {id(fs) for fs in best.values()}
    return [fs for fs in found if id(fs) in keep]
