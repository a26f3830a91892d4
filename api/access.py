"""Work that outlives the request that started it (terminals, command runs and their
streams, tunnels), held in the name of the session or token that opened it.

It ends, with the reason, the moment that access is withdrawn: a user disabled, deleted or
demoted to viewer, a token revoked, a session logged out (``end``). Changes made behind the
API's back (``mirror user disable`` on the command line, a session that expired) are caught
by a re-check of every held credential each ``RECHECK_S`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio

from mirror.auth import AuthService, Identity

log = logging.getLogger(__name__)

RECHECK_S = 5.0
OPERATE_ROLES = ("operator", "admin")

Stop = Callable[[str], Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class _Held:
    user: str
    key: str | None  # the session's or token's key (Identity.key)
    kind: str
    stop: Stop


class LiveAccess:
    def __init__(self, auth: AuthService, recheck_s: float = RECHECK_S) -> None:
        self._auth = auth
        self._recheck_s = recheck_s
        self._held: dict[int, _Held] = {}
        self._ids = itertools.count(1)
        self._task: asyncio.Task[None] | None = None

    def hold(self, identity: Identity, kind: str, stop: Stop) -> int:
        """Register work started by ``identity``; ``release`` it when it ends by itself."""
        held_id = next(self._ids)
        self._held[held_id] = _Held(identity.name, identity.key, kind, stop)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._recheck_loop(), name="live-access")
        return held_id

    def release(self, held_id: int) -> None:
        self._held.pop(held_id, None)

    async def end(self, reason: str, *, user: str | None = None, key: str | None = None) -> int:
        """Stop everything held by ``user`` (any of their sessions and tokens) or by one
        session or token (``key``); the number stopped."""
        chosen = [
            (held_id, held)
            for held_id, held in self._held.items()
            if (user is not None and held.user == user) or (key is not None and held.key == key)
        ]
        for held_id, held in chosen:
            self._held.pop(held_id, None)
            log.info("%s of %s ended: %s", held.kind, held.user, reason)
            try:
                result = held.stop(reason)
                if result is not None:
                    await result
            except Exception:
                log.exception("stopping %s of %s", held.kind, held.user)
        return len(chosen)

    async def recheck(self) -> int:
        """End what is held by a session or token that no longer may operate."""
        ended = 0
        for key in {h.key for h in self._held.values() if h.key is not None}:
            role = await anyio.to_thread.run_sync(self._auth.current_role, key)
            if role not in OPERATE_ROLES:
                why = "access withdrawn" if role is None else f"role is now {role}"
                ended += await self.end(why, key=key)
        return ended

    async def _recheck_loop(self) -> None:
        while self._held:
            await asyncio.sleep(self._recheck_s)
            with contextlib.suppress(Exception):  # the database may be away: try again
                await self.recheck()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
