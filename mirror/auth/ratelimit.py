"""Login rate limits: a pure decision from recent failures (of one account from one address,
of one address, or of one account from everywhere).

Designed so that an attacker cannot lock a legitimate user out (README "Security"): failures
hold back the source that made them. An account guessed at from many addresses is held
back only for addresses it has never logged in from (``KNOWN_ADDRESS_S``), so its owner,
at home, still gets in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limit:
    max_failures: int
    window_s: float


PER_SOURCE = Limit(max_failures=5, window_s=15 * 60)  # one account from one address
PER_ADDRESS = Limit(max_failures=20, window_s=15 * 60)  # any accounts from one address
PER_ACCOUNT = Limit(max_failures=100, window_s=15 * 60)  # one account, unfamiliar addresses
KNOWN_ADDRESS_S = 30 * 86400  # a login from an address makes it familiar this long


def retry_after_s(failures: Sequence[float], limit: Limit, now: float) -> float:
    """Seconds until one more attempt is allowed (0: allowed now).

    ``failures`` are the times of failed attempts since the last success; once
    ``max_failures`` of them fall inside the window, the next attempt waits until the oldest
    of those leaves it.
    """
    recent = sorted(t for t in failures if now - t < limit.window_s)
    if len(recent) < limit.max_failures:
        return 0.0
    oldest_counted = recent[-limit.max_failures]
    return max(0.0, oldest_counted + limit.window_s - now)


def human_wait(seconds: float) -> str:
    seconds = max(1, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    return f"{-(-seconds // 60)} min"
