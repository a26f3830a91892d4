"""A MAC address's vendor from a local copy of the IEEE OUI registry (MA-L): no lookups.

``mirror/data/oui.tsv.gz`` is made by ``scripts/oui_table.py`` from the IEEE's ``oui.txt``
(Debian ``ieee-data``: /usr/share/ieee-data/oui.txt): one ``AABBCC<TAB>Organization`` line
per assignment, sorted. It is read once, on first use. An address with the locally
administered bit set (a phone's private Wi-Fi address, a VM) has no vendor: it says so.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path

TABLE = Path(__file__).resolve().parent / "data" / "oui.tsv.gz"
LOCAL = "locally administered"
_ENTRY = re.compile(r"^([0-9A-F]{6})\s+\(base 16\)\s+(.*\S)\s*$")


def parse_oui_txt(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """``(prefix, organization)`` of each ``AABBCC (base 16) Organization`` line."""
    for line in lines:
        match = _ENTRY.match(line)
        if match:
            yield match[1], " ".join(match[2].split())


def table_text(pairs: Iterable[tuple[str, str]]) -> str:
    return "".join(f"{p}\t{o}\n" for p, o in sorted(dict(pairs).items()))


@cache
def _table() -> dict[str, str]:
    try:
        text = gzip.decompress(TABLE.read_bytes()).decode("utf-8")
    except OSError:
        return {}
    return dict(line.split("\t", 1) for line in text.splitlines() if "\t" in line)


def vendor(mac: str | None) -> str | None:
    """The organization the MAC's OUI is assigned to; ``LOCAL`` for a locally administered
    address; None when not known (or no MAC)."""
    if not mac:
        return None
    digits = re.sub(r"[^0-9A-Fa-f]", "", mac).upper()
    if len(digits) < 6:
        return None
    if int(digits[:2], 16) & 0x02:
        return LOCAL
    return _table().get(digits[:6])
