"""``netstat -ibn`` (FreeBSD, macOS; ``-d`` adds a ``Drop`` column): traffic counters of
each interface since it appeared.

Source: netstat(1) of FreeBSD 9+ and macOS 10.x+. One line per interface address; the
``<Link#N>`` line of each interface carries its link-level counters, which are the ones
kept (the address lines repeat or split them). Columns are found by the header's names,
counted from the right: the ``Address`` column is empty on some link lines (macOS
``lo0``), so the fields cannot be counted from the left. A ``*`` after the name marks an
interface that is down. Units: bytes and packets (64-bit counters on both systems).
macOS netstat cuts names to 5 characters without ``-W``, so two interfaces may print
the same name; the second is keyed ``name#N`` by its link index.
"""

from __future__ import annotations

from collectors.linux._util import to_int
from collectors.linux.net_dev import NetCounters
from mirror.errors import ParseError

_COLUMNS = {
    "Ipkts": "rx_packets",
    "Ierrs": "rx_errors",
    "Idrop": "rx_drops",
    "Ibytes": "rx_bytes",
    "Opkts": "tx_packets",
    "Oerrs": "tx_errors",
    "Obytes": "tx_bytes",
    "Drop": "tx_drops",
}


def parse(text: str) -> dict[str, NetCounters]:
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or lines[0].split()[:2] != ["Name", "Mtu"]:
        raise ParseError("netstat -ib output does not start with a 'Name Mtu' header")
    header = lines[0].split()
    if "Address" not in header or "Ibytes" not in header or "Obytes" not in header:
        raise ParseError(f"netstat header lacks Address/Ibytes/Obytes: {lines[0][:100]!r}")
    numeric = header[header.index("Address") + 1 :]
    result: dict[str, NetCounters] = {}
    for line in lines[1:]:
        parts = line.split()
        if len(parts) < 3 or not parts[2].startswith("<Link"):
            continue
        if len(parts) < 3 + len(numeric):
            raise ParseError(f"netstat line has too few fields: {line[:100]!r}")
        values = dict(zip(numeric, parts[len(parts) - len(numeric) :], strict=True))
        counters = {
            field: 0 if values.get(col, "-") == "-" else to_int(values[col], f"netstat {col}")
            for col, field in _COLUMNS.items()
        }
        name = parts[0].rstrip("*")
        if name in result:
            name = f"{name}#{parts[2].strip('<>').partition('#')[2]}"
        result[name] = NetCounters(**counters)
    return result
