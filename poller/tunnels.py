"""Local port forwards through a host's SSH connection (``mirror tunnel``, the API).

A tunnel listens on EGO's side (loopback unless told otherwise) and carries each
connection over a ``direct-tcpip`` channel of the host's existing connection to a port on
that host (``localhost``) or on a machine behind it, so a device's own web UI can be
opened without exposing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from dataclasses import replace
from typing import TYPE_CHECKING

import asyncssh

from mirror.control.model import TunnelInfo
from mirror.errors import ConfigError
from poller.ssh import map_error

if TYPE_CHECKING:
    from poller.commands import ConnectionSource


class TunnelManager:
    def __init__(self, source: ConnectionSource, bind: str = "127.0.0.1") -> None:
        self._source = source
        self._bind = bind
        self._open: dict[str, tuple[TunnelInfo, asyncssh.SSHListener]] = {}
        self._counts: dict[str, int] = {}

    async def open(
        self,
        host: str,
        dest_port: int,
        dest_host: str = "localhost",
        listen_port: int = 0,
        opened_by: str = "",
    ) -> TunnelInfo:
        if not 1 <= dest_port <= 65535 or not 0 <= listen_port <= 65535:
            raise ConfigError("ports must be 1-65535 (listen port 0: any free one)")
        tunnel_id = secrets.token_hex(4)
        self._counts[tunnel_id] = 0

        def accept(_orig_host: str, _orig_port: int) -> bool:
            self._counts[tunnel_id] = self._counts.get(tunnel_id, 0) + 1
            return True

        try:
            conn = await self._source.connection(host)
            listener = await conn.forward_local_port(
                self._bind, listen_port, dest_host, dest_port, accept_handler=accept
            )
        except (asyncssh.Error, OSError, TimeoutError) as exc:
            self._counts.pop(tunnel_id, None)
            raise map_error(exc) from exc
        info = TunnelInfo(
            id=tunnel_id,
            host=host,
            listen_host=self._bind,
            listen_port=listener.get_port(),
            dest_host=dest_host,
            dest_port=dest_port,
            opened_by=opened_by,
            opened_at=time.time(),
        )
        self._open[tunnel_id] = (info, listener)
        return info

    def list(self) -> list[TunnelInfo]:
        return [
            replace(info, connections=self._counts.get(tid, 0))
            for tid, (info, _) in self._open.items()
        ]

    async def close(self, tunnel_id: str) -> TunnelInfo | None:
        entry = self._open.pop(tunnel_id, None)
        if entry is None:
            return None
        info, listener = entry
        listener.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(listener.wait_closed(), 2)
        return replace(info, connections=self._counts.pop(tunnel_id, 0))

    async def close_all(self) -> None:
        for tunnel_id in list(self._open):
            await self.close(tunnel_id)
