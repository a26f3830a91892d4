"""The walk: SNMP answers as plain Python values, and helpers to read tables from it.

Values: INTEGER, Counter32/64, Gauge32, TimeTicks → ``int``; OCTET STRING → ``bytes``;
OBJECT IDENTIFIER and IpAddress → dotted ``str``. Nothing else is kept (noSuchObject,
endOfMibView and Null are absences, not values).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from mirror.errors import ParseError

Oid = tuple[int, ...]
Value = int | bytes | str
Walk = Mapping[Oid, Value]

# snmprec type tags (snmpsim's format) → how the value text is read.
_INT_TAGS = frozenset({"2", "65", "66", "67", "70"})


def oid(text: str) -> Oid:
    """``"1.3.6.1"`` or ``".1.3.6.1"`` → ``(1, 3, 6, 1)``."""
    try:
        return tuple(int(part) for part in text.strip(".").split("."))
    except ValueError:
        raise ParseError(f"not a numeric OID: {text[:60]!r}") from None


def dotted(value: Oid) -> str:
    return ".".join(map(str, value))


def parse_snmprec(text: str) -> dict[Oid, Value]:
    """Read snmpsim's ``OID|TYPE|VALUE`` lines (the recordings in tests/fixtures/snmp/).

    Variation lines (``70:numeric|rate=…``) are skipped: their value is made up at serve time.
    """
    walk: dict[Oid, Value] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("|", 2)
        if len(parts) != 3:
            raise ParseError(f"snmprec line {number}: expected OID|TYPE|VALUE")
        key, tag, raw = parts
        if ":" in tag:
            continue
        try:
            if tag in _INT_TAGS:
                walk[oid(key)] = int(raw)
            elif tag == "4":
                walk[oid(key)] = raw.encode("utf-8", "surrogateescape")
            elif tag == "4x":
                walk[oid(key)] = bytes.fromhex(raw)
            elif tag in ("6", "64"):
                walk[oid(key)] = raw
            elif tag == "5":
                continue
            else:
                raise ParseError(f"snmprec line {number}: unknown type {tag!r}")
        except ValueError:
            raise ParseError(f"snmprec line {number}: bad {tag} value {raw[:40]!r}") from None
    return walk


def subtree(walk: Walk, prefix: Oid) -> Iterator[tuple[Oid, Value]]:
    """``(suffix, value)`` for every OID under ``prefix``, in the walk's order."""
    n = len(prefix)
    for key, value in walk.items():
        if key[:n] == prefix and len(key) > n:
            yield key[n:], value


def table(walk: Walk, entry: Oid) -> dict[Oid, dict[int, Value]]:
    """A conceptual table: ``{row index: {column number: value}}`` under ``entry`` (``…1``)."""
    rows: dict[Oid, dict[int, Value]] = {}
    for suffix, value in subtree(walk, entry):
        if len(suffix) >= 2:
            rows.setdefault(suffix[1:], {})[suffix[0]] = value
    return rows


def scalar(walk: Walk, key: Oid) -> Value | None:
    """A scalar's value (``key`` without the trailing ``.0``), or None when absent."""
    return walk.get((*key, 0))


def text(value: Value | None) -> str | None:
    """A DisplayString as text: UTF-8 where it is, Latin-1 otherwise; NULs and edges stripped."""
    if value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    try:
        decoded = value.decode("utf-8")
    except UnicodeDecodeError:
        decoded = value.decode("latin-1")
    return decoded.replace("\x00", "").strip()


def integer(value: Value | None) -> int | None:
    return value if isinstance(value, int) else None


def mac(value: Value | None) -> str | None:
    """A MAC address as ``aa:bb:cc:dd:ee:ff`` from 6 octets or from text a device sent instead.

    Some agents (ArubaOS-CX's LLDP chassis IDs) send the MAC as the *text*
    ``00:50:d7:12:68:68`` rather than 6 binary octets; both are accepted. All-zero
    addresses (incomplete neighbour entries) give None.
    """
    if value is None or isinstance(value, int):
        return None
    raw: bytes | None = None
    if isinstance(value, bytes) and len(value) == 6:
        raw = value
    else:
        candidate = value.decode("latin-1") if isinstance(value, bytes) else value
        hex_digits = candidate.strip().replace(":", "").replace("-", "").replace(".", "")
        hex_digits = hex_digits.replace(" ", "")
        if len(hex_digits) == 12:
            try:
                raw = bytes.fromhex(hex_digits)
            except ValueError:
                raw = None
    if raw is None or raw == bytes(6):
        return None
    return ":".join(f"{b:02x}" for b in raw)


def mac_from_index(index: Oid) -> str | None:
    """MAC from 6 index sub-identifiers; a leading length 6 (ArubaOS-CX's FDB) is tolerated."""
    if len(index) == 7 and index[0] == 6:
        index = index[1:]
    if len(index) != 6 or any(not 0 <= x <= 255 for x in index):
        return None
    return mac(bytes(index))
