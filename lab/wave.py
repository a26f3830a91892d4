"""snmpsim variation module ``wave``: counters whose rate wanders smoothly, read-count free.

snmpsim's own ``numeric`` module either advances at a constant rate or, in cumulative mode,
adds jitter on every *read* (a GETBULK that overshoots a column reads it again), so the
rate seen depends on how the agent is walked. Here a counter is a pure function of time
since snmpsim started: the integral of ``mean × (1 + s1·sin(2πt/p1 + φ) + s2·sin(2πt/p2 +
1.7φ))``, so it never goes backwards while ``s1 + s2 < 1`` and any two reads give the true
average rate between them.

A record (``OID|70:wave|…``): ``mean=125000,initial=9,s1=0.25,p1=180,s2=0.15,p2=23,phase=1.2``
(``s1``…``phase`` optional: without them the counter is linear, as for sysUpTime).
Values wrap at the type's size (Counter32, TimeTicks: 2³²; Counter64: 2⁶⁴).

snmpsim loads this file by path (``--variation-modules-dir``, ``lab.demo_gear`` copies it
there) and execs it, setting ``recordContext`` before each call; it is also an ordinary
module so the arithmetic is tested directly.
"""

from __future__ import annotations

import math
import time
from typing import Any

BOOTED = time.time()
WRAP = {"65": 2**32, "67": 2**32, "70": 2**64}
moduleContext: dict[str, Any] = {}  # set by snmpsim
recordContext: dict[str, Any] = {}  # set by snmpsim before each variate() call


def parse(value: str) -> dict[str, float]:
    """``k=v,k=v`` → floats; raises ValueError on anything else (snmpsim logs it)."""
    settings = {}
    for part in value.split(","):
        key, _, number = part.partition("=")
        settings[key.strip()] = float(number)
    if "mean" not in settings:
        raise ValueError(f"wave: no mean in {value!r}")
    return settings


def counter(settings: dict[str, float], t_s: float) -> int:
    """The counter ``t_s`` seconds after start (before wrapping)."""
    mean = settings["mean"]
    value = settings.get("initial", 0.0) + mean * t_s
    phase = settings.get("phase", 0.0)
    for amp_key, period_key, phi in (("s1", "p1", phase), ("s2", "p2", 1.7 * phase)):
        amp, period = settings.get(amp_key, 0.0), settings.get(period_key, 0.0)
        if amp and period > 0:
            w = 2 * math.pi / period
            value += mean * amp / w * (math.cos(phi) - math.cos(w * t_s + phi))
    return int(value)


def init(**context: Any) -> None:
    return None


def shutdown(**context: Any) -> None:
    return None


def variate(oid: Any, tag: str, value: str, **context: Any) -> tuple[Any, str, Any]:
    if context["setFlag"] or (not context["nextFlag"] and not context["exactMatch"]):
        return context["origOid"], tag, context["errorStatus"]
    if "settings" not in recordContext:
        recordContext["settings"] = parse(value)
    result = counter(recordContext["settings"], time.time() - BOOTED)
    return oid, tag, result % WRAP.get(tag, 2**32)
