"""Small helpers shared by the Linux parsers (no I/O)."""

from __future__ import annotations

from mirror.errors import ParseError


def to_int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ParseError(f"{what}: {text[:40]!r} is not an integer") from None


def to_float(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ParseError(f"{what}: {text[:40]!r} is not a number") from None
