"""The admin pages' SSH checks: "test connection" before a host is saved, and "trust new host key".

``test`` logs in once with the settings of a host that may not be saved yet and says what it
found: the OS (``uname -s -r -m``) and the host key's fingerprint, compared with EGO's known_hosts
(known, new or changed). It records nothing: a key is trusted on first use by the poller (when
the inventory allows it) or by ``trust``.

``trust`` replaces the recorded key of a host (a re-install) with the key the host offers now,
only if that is the key the admin was shown (its fingerprint): a key that changed again in
between is refused. The host's poll loop is then retried at once instead of after the slow
retry of a host key error.
"""

from __future__ import annotations

import asyncio
import platform
import time
from collections.abc import Callable
from typing import Any, Protocol

import asyncssh

from mirror.errors import AuthFailed, CollectError, ConfigError, Unreachable
from mirror.inventory import HostConfig
from poller.ssh import KnownHosts, close_quietly, connect_options, map_error

OS_COMMAND = "uname -s -r -m"


class KeyMoved(ConfigError):
    """The host offers a key other than the one the admin was shown: nothing recorded."""


class _Retry(Protocol):
    health: Any


def fingerprint(key: asyncssh.SSHKey) -> str:
    return str(key.get_fingerprint("sha256"))


class SshSetup:
    """What the API's admin routes ask of SSH (``api.setup_routes.SetupActions``)."""

    def __init__(
        self, known_hosts: KnownHosts, poller: Callable[[str], _Retry | None] | None = None
    ) -> None:
        self._known = known_hosts
        self._poller = poller

    async def test(self, host: HostConfig) -> dict[str, Any]:
        """Log in once; ``ok`` with ``os`` and the key, or the state and error a poll would see."""
        started = time.monotonic()
        if host.local:
            uname = platform.uname()
            return {
                "ok": True,
                "local": True,
                "os": f"{uname.system} {uname.release} {uname.machine}",
                "message": "read on the EGO machine itself, without SSH",
            }
        try:
            dial_host, key_port, options = connect_options(host)
        except ConfigError as exc:
            return {"ok": False, "state": "error", "error": str(exc)}
        assert host.ssh is not None
        timeout_s = host.ssh.connect_timeout_s
        options["known_hosts"] = None  # record nothing: the key is only looked at
        conn = None
        try:
            conn = await asyncio.wait_for(asyncssh.connect(dial_host, **options), timeout_s + 1)
            key = conn.get_server_host_key()
            done = await asyncio.wait_for(conn.run(OS_COMMAND, check=False), timeout_s + 1)
            output = done.stdout if isinstance(done.stdout, str) else ""
        except asyncssh.PermissionDenied as exc:
            error: CollectError = AuthFailed(
                f"authentication refused for user {host.ssh.user!r}: {exc.reason}"
            )
            return {"ok": False, "state": error.state, "error": str(error)}
        except (asyncssh.Error, OSError, TimeoutError) as exc:
            error = map_error(exc)
            return {"ok": False, "state": error.state, "error": str(error)}
        finally:
            await close_quietly(conn)
        recorded = self._recorded(dial_host, key_port)
        found = fingerprint(key) if key is not None else None
        status = "known" if found in recorded else ("changed" if recorded else "new")
        return {
            "ok": True,
            "local": False,
            "os": output.strip().splitlines()[0] if output.strip() else None,
            "user": options.get("username"),
            "fingerprint": found,
            "key_type": key.get_algorithm() if key is not None else None,
            "key": status,
            "recorded": recorded,
            "elapsed_ms": round((time.monotonic() - started) * 1000),
        }

    async def host_keys(self, host: HostConfig) -> dict[str, Any]:
        """The fingerprints recorded for the host and the one it offers now."""
        dial_host, key_port, key = await self._offered(host)
        recorded = self._recorded(dial_host, key_port)
        return {
            "host": host.name,
            "address": f"{dial_host}:{key_port}",
            "recorded": recorded,
            "offered": fingerprint(key),
            "key_type": key.get_algorithm(),
            "known_hosts": str(self._known.path),
        }

    async def trust(self, host: HostConfig, expected: str) -> dict[str, Any]:
        """Record the key the host offers now in place of the old one, if it is ``expected``."""
        dial_host, key_port, key = await self._offered(host)
        offered = fingerprint(key)
        if offered != expected:
            raise KeyMoved(
                f"{host.name} now offers {offered}, not the {expected} you were shown; "
                "nothing recorded: look at the keys again"
            )
        old = self._recorded(dial_host, key_port)
        await asyncio.to_thread(self._known.forget, dial_host, key_port)
        await asyncio.to_thread(self._known.record, dial_host, key_port, key)
        poller = self._poller(host.name) if self._poller is not None else None
        if poller is not None:
            poller.health.next_due = 0.0  # not the slow retry of a host key error
        return {"host": host.name, "old": old, "new": offered, "known_hosts": str(self._known.path)}

    def _recorded(self, dial_host: str, key_port: int) -> list[str]:
        keys = self._known.recorded_keys(dial_host, key_port)  # a line may match twice
        return list(dict.fromkeys(fingerprint(k) for k in keys))

    async def _offered(self, host: HostConfig) -> tuple[str, int, asyncssh.SSHKey]:
        if host.local or host.ssh is None:
            raise ConfigError(f"{host.name} is polled locally; it has no SSH key to trust")
        dial_host, key_port, _ = connect_options(host)
        try:
            key = await asyncio.wait_for(
                asyncssh.get_server_host_key(dial_host, key_port), host.ssh.connect_timeout_s
            )
        except (TimeoutError, asyncssh.Error, OSError) as exc:
            raise map_error(exc) from exc
        if key is None:
            raise Unreachable(f"{dial_host}:{key_port} sent no host key")
        return dial_host, key_port, key
