"""HOST-RESOURCES-MIB (RFC 2790): processor load and storage (memory, swap, file systems).

hrProcessorLoad is the average busy % of each CPU over the last minute. hrStorage sizes
are in allocation units; an Integer32 that overflowed (volumes over 2**31 units, seen on
NAS agents) is read back as unsigned. A row without hrStorageUsed is kept with its size.
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.snmp.walk import Walk, integer, subtree, table, text
from mirror.model import series_name

HR_STORAGE_ENTRY = (1, 3, 6, 1, 2, 1, 25, 2, 3, 1)
HR_PROCESSOR_LOAD = (1, 3, 6, 1, 2, 1, 25, 3, 3, 1, 2)
ROOTS = (HR_STORAGE_ENTRY, HR_PROCESSOR_LOAD)

_TYPES = "1.3.6.1.2.1.25.2.1."
STORAGE_KIND = {
    _TYPES + "1": "other",
    _TYPES + "2": "ram",
    _TYPES + "3": "virtual",
    _TYPES + "4": "fixed-disk",
    _TYPES + "5": "removable-disk",
    _TYPES + "6": "floppy",
    _TYPES + "7": "compact-disc",
    _TYPES + "8": "ram-disk",
    _TYPES + "9": "flash",
    _TYPES + "10": "network-disk",
}
FILESYSTEM_KINDS = frozenset({"fixed-disk", "removable-disk", "flash", "network-disk"})


@dataclass(frozen=True, slots=True)
class Storage:
    index: int
    kind: str
    descr: str
    size_bytes: int
    used_bytes: int | None


@dataclass(frozen=True, slots=True)
class HostResources:
    cpu_load_pct: list[int]  # one per processor, hrDeviceIndex order
    storage: list[Storage]


def _unsigned(value: int | None) -> int | None:
    return value + 2**32 if value is not None and value < 0 else value


def parse(walk: Walk) -> HostResources:
    loads = [v for _, v in sorted(subtree(walk, HR_PROCESSOR_LOAD)) if isinstance(v, int)]
    storage = []
    for row, cols in sorted(table(walk, HR_STORAGE_ENTRY).items()):
        unit, size = integer(cols.get(4)), _unsigned(integer(cols.get(5)))
        kind_oid = cols.get(2)
        if len(row) != 1 or not unit or size is None or not isinstance(kind_oid, str):
            continue
        used = _unsigned(integer(cols.get(6)))
        storage.append(
            Storage(
                index=row[0],
                kind=STORAGE_KIND.get(kind_oid.lstrip("."), "other"),
                descr=text(cols.get(3)) or str(row[0]),
                size_bytes=size * unit,
                used_bytes=used * unit if used is not None else None,
            )
        )
    return HostResources(loads, storage)


def metrics(hr: HostResources) -> dict[str, float]:
    m: dict[str, float] = {}
    if hr.cpu_load_pct:
        m["cpu.busy_pct"] = sum(hr.cpu_load_pct) / len(hr.cpu_load_pct)
        for i, load in enumerate(hr.cpu_load_pct):
            m[series_name("cpu.busy_pct", i)] = float(load)
    rams = [s for s in hr.storage if s.kind == "ram"]
    # Net-SNMP 5.9 also types "Available memory" as RAM; "Physical memory" is the total.
    physical = [s for s in rams if "physical" in s.descr.lower()]
    rams = physical if len(physical) == 1 else rams
    if len(rams) == 1 and rams[0].size_bytes:
        ram = rams[0]
        m["mem.total_bytes"] = float(ram.size_bytes)
        if ram.used_bytes is not None:
            # Net-SNMP counts buffers and cache as used here (its "Physical memory" row).
            m["mem.used_bytes"] = float(ram.used_bytes)
            m["mem.used_pct"] = ram.used_bytes / ram.size_bytes * 100
    swaps = [s for s in hr.storage if s.kind == "virtual" and "swap" in s.descr.lower()]
    if len(swaps) == 1:
        m["swap.total_bytes"] = float(swaps[0].size_bytes)
        if swaps[0].used_bytes is not None:
            m["swap.used_bytes"] = float(swaps[0].used_bytes)
    for fs in hr.storage:
        if fs.kind not in FILESYSTEM_KINDS or fs.size_bytes == 0:
            continue
        m[series_name("fs.size_bytes", fs.descr)] = float(fs.size_bytes)
        if fs.used_bytes is not None:
            m[series_name("fs.used_bytes", fs.descr)] = float(fs.used_bytes)
            m[series_name("fs.used_pct", fs.descr)] = fs.used_bytes / fs.size_bytes * 100
    return m
