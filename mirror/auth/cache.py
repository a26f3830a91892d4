"""Sessions and API tokens the database validated lately, for when it cannot answer.

Every request is checked against the database first, so a logout, a revocation or a
disabled user takes effect at once while it is up. Only when the check itself fails (the
database is unreachable: ``StorageError``) does the API fall back to this cache: an
identity the database confirmed less than ``ttl_s`` ago (default 60 s) is accepted; any
other request is refused as before (503). So a PostgreSQL restart does not log out every
open page and script, and what can be served without the database (live events, the
in-memory last hour) is served. What the cache answered is counted, and
``/api/health`` says that authentication is degraded while it is in use.

Keys are digests of the secrets (never the secrets themselves).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mirror.auth import crypto

if TYPE_CHECKING:
    from mirror.auth.service import Identity

DEFAULT_TTL_S = 60.0
MAX_ENTRIES = 10_000  # a flood of distinct tokens cannot grow it without bound


class IdentityCache:
    def __init__(
        self, ttl_s: float = DEFAULT_TTL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._entries: dict[str, tuple[Identity, float]] = {}
        self._lock = threading.Lock()  # checks run in worker threads
        self.outage_since: float | None = None  # clock time of the first failed check
        self.served_from_cache = 0  # requests let in by the cache during this outage
        self.refused_in_outage = 0  # requests refused: nothing recent to go by

    @staticmethod
    def key(secret: str) -> str:
        return crypto.digest(secret)

    def confirmed(self, key: str, identity: Identity | None) -> None:
        """The database answered for ``key``: remember the identity, or forget a refused
        one (logged out, revoked, expired, disabled)."""
        with self._lock:
            self.outage_since = None
            self.served_from_cache = self.refused_in_outage = 0
            if identity is None:
                self._entries.pop(key, None)
                return
            if len(self._entries) >= MAX_ENTRIES:
                self._drop_stale()
            if len(self._entries) < MAX_ENTRIES:
                self._entries[key] = (identity, self._clock())

    def during_outage(self, key: str) -> Identity | None:
        """The database could not answer: the identity it confirmed within ``ttl_s``."""
        now = self._clock()
        with self._lock:
            if self.outage_since is None:
                self.outage_since = now
            entry = self._entries.get(key)
            if entry is None or now - entry[1] > self.ttl_s:
                self.refused_in_outage += 1
                return None
            self.served_from_cache += 1
            return entry[0]

    def status(self) -> dict[str, Any]:
        """For /api/health: whether the cache stands in for the database right now."""
        with self._lock:
            return {
                "database_checks": "failing" if self.outage_since is not None else "ok",
                "cache_ttl_s": self.ttl_s,
                "served_from_cache": self.served_from_cache,
                "refused_in_outage": self.refused_in_outage,
            }

    def problem(self) -> str | None:
        with self._lock:
            if self.outage_since is None:
                return None
        return (
            "authentication is degraded: the database cannot check sessions and tokens; "
            f"those it confirmed in the last {self.ttl_s:g} s are accepted, others refused"
        )

    def _drop_stale(self) -> None:
        now = self._clock()
        for key in [k for k, (_, at) in self._entries.items() if now - at > self.ttl_s]:
            del self._entries[key]
