"""A cold fan-out: `mirror run --direct` (or no EGO) logging in to every host itself.

A login costs a TCP handshake, a key exchange and authentication, and a host that is off
costs its whole connect timeout. So every login starts at once (bounded by
``CONNECT_CONCURRENCY``, not by the command's ``concurrency``), and a host takes one of
the command's slots only once its connection is up: a slow or dead host never holds a slot
a ready host could use, and it fails on its own clock, once (a failed login is not retried
by the run).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import replace

import asyncssh

from mirror.control.model import CancelToken, CommandRequest, HostResult, OutputEvent
from mirror.errors import Timeout
from mirror.inventory import HostConfig
from poller.commands import OwnConnections, run_on_host
from poller.ssh import KnownHosts, map_error

CONNECT_CONCURRENCY = 256  # logins in flight; a /24 at once


class PrefetchedConnections:
    """Starts every host's login at once; ``connection`` waits for that host's own login."""

    def __init__(
        self, hosts: Iterable[HostConfig], known_hosts: KnownHosts, concurrency: int
    ) -> None:
        self._own = OwnConnections(hosts, known_hosts)
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self._logins: dict[str, asyncio.Task[asyncssh.SSHClientConnection]] = {}

    def hosts(self) -> dict[str, HostConfig]:
        return self._own.hosts()

    def start(self, names: Iterable[str]) -> None:
        hosts = self._own.hosts()
        for name in names:
            host = hosts.get(name)
            if host is not None and host.ssh is not None and name not in self._logins:
                self._logins[name] = asyncio.create_task(self._login(host), name=f"login:{name}")

    async def _login(self, host: HostConfig) -> asyncssh.SSHClientConnection:
        async with self._slots:
            try:
                return await self._own.connection(host.name)
            except Timeout as exc:
                assert host.ssh is not None
                raise Timeout(
                    f"no answer within {host.ssh.connect_timeout_s:g} s while logging in "
                    "(host off, or a firewall drops SSH)"
                ) from exc
            except (asyncssh.Error, OSError, TimeoutError) as exc:
                raise map_error(exc) from exc

    async def connection(self, name: str) -> asyncssh.SSHClientConnection:
        login = self._logins.get(name)
        if login is None:
            return await self._own.connection(name)
        # Shielded: a run that is cancelled must not cancel a login another waiter shares.
        return await asyncio.shield(login)

    async def close(self) -> None:
        for login in self._logins.values():
            login.cancel()
        await asyncio.gather(*self._logins.values(), return_exceptions=True)
        await self._own.close()


async def run_cold(
    hosts: Iterable[HostConfig],
    known_hosts: KnownHosts,
    request: CommandRequest,
    emit: Callable[[OutputEvent], None],
    cancel: CancelToken | None = None,
    connect_concurrency: int = CONNECT_CONCURRENCY,
) -> list[HostResult]:
    """Like ``poller.commands.run_command`` on fresh connections; never raises for a host."""
    cancel = cancel or CancelToken()
    source = PrefetchedConnections(hosts, known_hosts, connect_concurrency)
    source.start(request.hosts)
    slots = asyncio.Semaphore(max(1, request.concurrency))

    async def one(name: str) -> HostResult:
        # The login first, outside the command's slots; its error, if any, is the host's
        # result through run_on_host below (the same task, not a second login).
        started = time.monotonic()
        with contextlib.suppress(Exception):
            await source.connection(name)
        login_s = time.monotonic() - started
        async with slots:
            result = await run_on_host(source, name, request, emit, cancel)
        # A cold run's duration includes the login, as a user waiting on the host sees it.
        return replace(result, duration_s=result.duration_s + login_s)

    try:
        return list(await asyncio.gather(*(one(name) for name in request.hosts)))
    finally:
        await source.close()
