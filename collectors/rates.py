"""Rates from monotonically increasing counters, with wrap and reset told apart.

The rule (one place, so every collector agrees):

* ``dt_s <= 0``: no rate (no time passed, or the host's clock went back).
* ``cur >= prev``: ``(cur - prev) / dt_s``.
* ``cur < prev``: the counter either wrapped or was reset (reboot, driver reload,
  ``ip link`` re-create). It is taken as exactly one wrap only when both values fit
  in ``wrap_bits`` and the increase that a wrap implies, ``cur + 2**wrap_bits - prev``,
  is at most half the counter's range; anything else is a reset and gives ``None``.
  With ``wrap_bits=None`` every backwards step is a reset.

Why half the range: a 64-bit counter never wraps in practice, so the implied
increase after a reset is close to 2**64 and is rejected; a 32-bit byte counter
(``/proc/net/dev`` on 32-bit kernels, SNMP Counter32) wraps every ~34 s at 1 Gbit/s,
and its genuine wraps imply increases far below 2**31 at polling intervals.
A reset right after a 32-bit counter passed 2**31 still looks like a wrap; callers
that can see a reboot (uptime going back) drop the interval before asking.
"""

from __future__ import annotations


def counter_rate(prev: int, cur: int, dt_s: float, wrap_bits: int | None = 64) -> float | None:
    """Per-second increase of a counter between two readings ``dt_s`` seconds apart."""
    if dt_s <= 0:
        return None
    if cur >= prev:
        return (cur - prev) / dt_s
    if wrap_bits is None:
        return None
    modulus = 1 << wrap_bits
    if prev >= modulus or cur < 0:
        return None
    increase = cur + modulus - prev
    if increase > modulus // 2:
        return None
    return increase / dt_s
