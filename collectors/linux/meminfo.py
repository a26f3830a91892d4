"""``/proc/meminfo``: physical memory and swap.

Source: ``/proc/meminfo`` (proc(5)), any Linux 2.6+. The file says ``kB`` but means
KiB (1024 bytes); every field here is converted to bytes. ``MemAvailable`` exists
since 3.14; on older kernels ``available_bytes`` falls back to
free + buffers + cached, the estimate ``free(1)`` used before it.
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.linux._util import to_int
from mirror.errors import ParseError

SOURCE = "/proc/meminfo"


@dataclass(frozen=True, slots=True)
class Memory:
    total_bytes: int
    free_bytes: int
    available_bytes: int
    buffers_bytes: int
    cached_bytes: int
    swap_total_bytes: int
    swap_free_bytes: int


def parse(text: str) -> Memory:
    kib: dict[str, int] = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        if not sep:
            continue
        value = rest.split()
        if value:
            try:
                kib[key.strip()] = int(value[0])
            except ValueError:  # the message is built only here: this loop runs every poll
                to_int(value[0], f"/proc/meminfo {key.strip()}")
    for required in ("MemTotal", "MemFree"):
        if required not in kib:
            raise ParseError(f"/proc/meminfo lacks {required}")
    free = kib["MemFree"]
    buffers = kib.get("Buffers", 0)
    cached = kib.get("Cached", 0)
    available = kib.get("MemAvailable", free + buffers + cached)
    return Memory(
        total_bytes=kib["MemTotal"] * 1024,
        free_bytes=free * 1024,
        available_bytes=available * 1024,
        buffers_bytes=buffers * 1024,
        cached_bytes=cached * 1024,
        swap_total_bytes=kib.get("SwapTotal", 0) * 1024,
        swap_free_bytes=kib.get("SwapFree", 0) * 1024,
    )
