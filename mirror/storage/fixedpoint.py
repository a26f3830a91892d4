"""The precision each metric is reported at, so values can be stored as fixed-point integers.

A percentage computed from jiffies and rounded to 0.01 is not a float64: stored as the
integer ``value × 100`` TimescaleDB's compression takes ~1.7 bytes a value instead of ~5.4
(``bench/storage.py``). :func:`decimals` declares, by series name, how many decimal places
the collectors report (``collectors/linux/sample.py``: ``PCT_PLACES``, ``RATE_PLACES``;
byte counts are integers; ``/proc/loadavg`` and ``/proc/uptime`` print two decimals; hwmon
temperatures are millidegrees). A series whose name matches no rule is stored as it is.
Values are rounded to the declared precision (lossless for what the collectors send:
``tests/test_storage_live.py`` checks every lab series reads back exactly).
"""

from __future__ import annotations

import math

MAX_DECIMALS = 6


def decimals(name: str) -> int | None:
    """Decimal places series ``name`` is reported at, or None (store the value as is)."""
    base = name.split("[", 1)[0]
    if base.endswith("_per_s"):
        return 1
    if base.endswith("_pct"):
        return 2
    if base.endswith("_bytes"):
        return 0
    if base.startswith("load.") or base == "uptime_s":
        return 2
    if base == "temp.celsius":
        return 3
    return None


def scale(value: float, places: int | None) -> float:
    """What is stored: ``value × 10^places`` rounded (as a float), or ``value`` as is."""
    if places is None or not math.isfinite(value):
        return value
    return float(round(value * 10**places))


def unscale(stored: float, places: int | None) -> float:
    return stored if places is None else stored / 10**places
