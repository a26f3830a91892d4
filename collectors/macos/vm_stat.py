"""macOS ``vm_stat``: page counts of the virtual memory system.

Source: vm_stat(1), every macOS since 10.0. First line ``Mach Virtual Memory Statistics:
(page size of N bytes)``, then ``Name:   value.`` lines (counts of pages, or of events for
the counters such as ``Pageins``). Units: pages of the size in the header (4096 on
Intel, 16384 on Apple silicon); here bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from collectors.linux._util import to_int
from mirror.errors import ParseError

_HEADER = re.compile(r"page size of (\d+) bytes")


@dataclass(frozen=True, slots=True)
class VmStat:
    page_bytes: int
    pages: dict[str, int]

    def bytes(self, name: str) -> int:
        return self.pages.get(name, 0) * self.page_bytes


def parse(text: str) -> VmStat:
    lines = text.splitlines()
    m = _HEADER.search(lines[0]) if lines else None
    if m is None:
        raise ParseError("vm_stat output does not start with its 'page size of' header")
    pages: dict[str, int] = {}
    for line in lines[1:]:
        name, sep, value = line.rpartition(":")
        if not sep:
            continue
        pages[name.strip().strip('"')] = to_int(value.strip().rstrip("."), f"vm_stat {name}")
    if "Pages free" not in pages:
        raise ParseError("vm_stat output has no 'Pages free' line")
    return VmStat(int(m.group(1)), pages)
