"""The time arguments of the series API.

Accepted forms (all resolve to unix seconds, UTC):

- unix seconds: ``1700000000`` or ``1700000000.25``
- ISO-8601: ``2024-05-01T12:00:00Z``, ``2024-05-01T21:00:00+09:00``, ``2024-05-01``;
  a time without an offset is taken as UTC
- ``now``
- relative to now: ``-15m``, ``-1h``, ``-30s``, ``-2d``, ``-1w`` (``now-1h`` also works)
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

_RELATIVE = re.compile(r"^(?:now)?-(\d+(?:\.\d+)?)([smhdw])$")
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}

FORMS = "unix seconds, ISO-8601, 'now' or a relative time such as -15m, -1h, -7d"
# Times from 1970 to the end of year 9999: beyond, milliseconds overflow the database's
# 64-bit integers and Python's datetime.
LATEST_S = 253_402_300_799.0


def parse_time(value: str, now: float) -> float:
    """Unix seconds for ``value``; ``ValueError`` saying why when it is none of FORMS or
    falls outside 1970-9999."""
    seconds = _parse(value, now)
    if not 0 <= seconds <= LATEST_S:
        raise ValueError(f"{value[:40]!r} is outside 1970-01-01 to 9999-12-31")
    return seconds


def _parse(value: str, now: float) -> float:
    text = value.strip().lower()
    if text == "now":
        return now
    match = _RELATIVE.match(text)
    if match:
        return now - float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):
            raise ValueError(f"{value[:40]!r} is not a finite number")
        return seconds
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value[:40]!r} is not {FORMS}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
