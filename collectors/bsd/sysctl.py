"""``sysctl NAME...`` output of FreeBSD and macOS: ``name: value`` per line.

Source: ``sysctl(8)`` without ``-n``, so each value carries its name and a missing OID
(``sysctl: unknown oid``, on stderr) simply has no line. A few values are structures
printed as text: ``kern.boottime`` (``{ sec = N, usec = N } date``), ``vm.loadavg``
(``{ 0.33 0.33 0.37 }``) and macOS ``vm.swapusage`` (``total = 3072.00M  used = ...``);
helpers below read those. Values that span lines (some ``-a`` entries) keep only their
first line: none of the OIDs MIRROR reads is multi-line.
"""

from __future__ import annotations

import re

from collectors.linux._util import to_float, to_int
from mirror.errors import ParseError

_NAME = re.compile(r"^([A-Za-z_][\w.%-]*): ?(.*)$")
_BOOTTIME = re.compile(r"\{\s*sec\s*=\s*(\d+),\s*usec\s*=\s*(\d+)\s*\}")
_SWAP = re.compile(r"(total|used|free)\s*=\s*([\d.]+)([KMGT]?)")
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        m = _NAME.match(line)
        if m is not None and m.group(1) not in values:
            values[m.group(1)] = m.group(2).strip()
    if not values:
        raise ParseError("sysctl output has no 'name: value' line")
    return values


def integer(values: dict[str, str], name: str) -> int | None:
    raw = values.get(name)
    return None if raw is None else to_int(raw, f"sysctl {name}")


def integers(values: dict[str, str], name: str) -> list[int] | None:
    raw = values.get(name)
    return None if raw is None else [to_int(v, f"sysctl {name}") for v in raw.split()]


def boottime(values: dict[str, str]) -> float | None:
    raw = values.get("kern.boottime")
    if raw is None:
        return None
    m = _BOOTTIME.search(raw)
    if m is None:
        raise ParseError(f"sysctl kern.boottime not understood: {raw[:60]!r}")
    return int(m.group(1)) + int(m.group(2)) / 1e6


def loadavg(values: dict[str, str]) -> tuple[float, float, float] | None:
    raw = values.get("vm.loadavg")
    if raw is None:
        return None
    parts = raw.strip("{} ").split()
    if len(parts) < 3:
        raise ParseError(f"sysctl vm.loadavg not understood: {raw[:60]!r}")
    a, b, c = (to_float(p.replace(",", "."), "sysctl vm.loadavg") for p in parts[:3])
    return a, b, c


def swapusage(values: dict[str, str]) -> tuple[int, int] | None:
    """macOS ``vm.swapusage``: (total, used) in bytes."""
    raw = values.get("vm.swapusage")
    if raw is None:
        return None
    found = {k: float(v) * _UNITS[u] for k, v, u in _SWAP.findall(raw)}
    if "total" not in found or "used" not in found:
        raise ParseError(f"sysctl vm.swapusage not understood: {raw[:80]!r}")
    return round(found["total"]), round(found["used"])


def celsius(raw: str) -> float | None:
    """FreeBSD temperatures: ``45.0C`` (coretemp, amdtemp, acpi_thermal)."""
    raw = raw.strip()
    if not raw.endswith("C"):
        return None
    try:
        return float(raw[:-1])
    except ValueError:
        return None
