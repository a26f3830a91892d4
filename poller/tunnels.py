"""Local port forwards through a host's SSH connection (``mirror tunnel``, the API).

A tunnel listens on EGO's side, on an address of its own (``MIRROR_TUNNEL_BIND``, default
127.0.0.2, never EGO's: a browser would send EGO's cookie to the device's page) and carries each
connection over a ``direct-tcpip`` channel of the host's existing connection to a port on
that host (``localhost``) or on a machine behind it, so a device's own web UI can be
opened without exposing it.

The forwarding is ours rather than asyncssh's ``forward_local_port`` so that a tunnel can
count its bytes, close the connections it carries when it is closed, and end (listed as
closed, with the reason) when the host's SSH connection dies under it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import asyncssh

from mirror.control.model import TunnelInfo
from mirror.control.tunnel_rules import (
    TunnelRequestError,
    allowed_networks,
    check_destination,
    check_ports,
    permitted,
)
from mirror.errors import ConfigError
from mirror.settings import DEFAULT_TUNNEL_BIND
from poller.ssh import map_error

if TYPE_CHECKING:
    from poller.commands import ConnectionSource

log = logging.getLogger(__name__)

READ_BYTES = 65536
KEEP_CLOSED = 20  # closed tunnels still listed, so a user sees why theirs went away


@dataclass
class _Tunnel:
    info: TunnelInfo
    conn: asyncssh.SSHClientConnection
    server: asyncio.Server | None = None
    watcher: asyncio.Task[None] | None = None
    writers: set[asyncio.StreamWriter] = field(default_factory=set)
    accepted: int = 0
    refused: int = 0
    to_host: int = 0
    from_host: int = 0

    def snapshot(self) -> TunnelInfo:
        return replace(
            self.info,
            connections=self.accepted,
            refused=self.refused,
            active=len(self.writers),
            bytes_to_host=self.to_host,
            bytes_from_host=self.from_host,
        )


class TunnelManager:
    def __init__(self, source: ConnectionSource, bind: str = DEFAULT_TUNNEL_BIND) -> None:
        self._source = source
        self._bind = bind
        self._open: dict[str, _Tunnel] = {}
        self._closed: deque[TunnelInfo] = deque(maxlen=KEEP_CLOSED)

    async def open(
        self,
        host: str,
        dest_port: int,
        dest_host: str = "localhost",
        listen_port: int = 0,
        opened_by: str = "",
        allowed_from: tuple[str, ...] = (),
    ) -> TunnelInfo:
        """``allowed_from``: networks whose clients may connect (default: loopback only)."""
        try:
            check_ports(dest_port, listen_port)
            dest_host = check_destination(dest_host)
            allowed = allowed_networks(allowed_from, None)
        except TunnelRequestError as exc:
            raise ConfigError(str(exc)) from None
        try:
            conn = await self._source.connection(host)
        except (asyncssh.Error, OSError, TimeoutError) as exc:
            raise map_error(exc) from exc
        info = TunnelInfo(
            id=secrets.token_hex(4),
            host=host,
            listen_host=self._bind,
            listen_port=listen_port,
            dest_host=dest_host,
            dest_port=dest_port,
            opened_by=opened_by,
            opened_at=time.time(),
            allowed_from=allowed,
        )
        tunnel = _Tunnel(info, conn)

        async def carry(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._carry(tunnel, reader, writer)

        try:
            tunnel.server = await asyncio.start_server(carry, self._bind, listen_port)
        except OSError as exc:
            where = f"{self._bind}:{listen_port}"
            raise ConfigError(f"cannot listen on {where}: {exc.strerror}") from exc
        port = tunnel.server.sockets[0].getsockname()[1]
        tunnel.info = replace(info, listen_port=port)
        tunnel.watcher = asyncio.create_task(self._watch(tunnel), name=f"tunnel:{info.id}")
        self._open[info.id] = tunnel
        return tunnel.info

    def list(self) -> list[TunnelInfo]:
        """Open tunnels, then the recently closed ones (newest first)."""
        return [t.snapshot() for t in self._open.values()] + list(reversed(self._closed))

    async def close(self, tunnel_id: str, reason: str = "closed") -> TunnelInfo | None:
        """Close an open tunnel and the connections it carries; None if it is not open."""
        tunnel = self._open.pop(tunnel_id, None)
        if tunnel is None:
            return None
        if tunnel.watcher is not None and tunnel.watcher is not asyncio.current_task():
            tunnel.watcher.cancel()
        if tunnel.server is not None:
            tunnel.server.close()
        for writer in list(tunnel.writers):
            writer.close()
        if tunnel.server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(tunnel.server.wait_closed(), 2)
        info = replace(
            tunnel.snapshot(), active=0, state="closed", closed_at=time.time(), close_reason=reason
        )
        self._closed.append(info)
        return info

    async def close_all(self) -> None:
        for tunnel_id in list(self._open):
            await self.close(tunnel_id, "EGO stopped")

    async def _watch(self, tunnel: _Tunnel) -> None:
        """The host's connection died (or the poller dropped it): the tunnel ends with it."""
        await tunnel.conn.wait_closed()
        log.info("tunnel %s to %s: connection lost", tunnel.info.id, tunnel.info.host)
        await self.close(tunnel.info.id, "connection lost")

    async def _carry(
        self, tunnel: _Tunnel, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        peer = writer.get_extra_info("peername")
        if not (peer and permitted(str(peer[0]), tunnel.info.allowed_from)):
            tunnel.refused += 1  # not the opener (nor a network they allowed)
            log.info("tunnel %s: refused a connection from %s", tunnel.info.id, peer)
            writer.close()
            return
        tunnel.accepted += 1
        tunnel.writers.add(writer)
        try:
            info = tunnel.info
            remote_r, remote_w = await tunnel.conn.open_connection(info.dest_host, info.dest_port)
        except (asyncssh.Error, OSError) as exc:
            # The browser sees the connection close; the reason goes to EGO's log.
            log.info("tunnel %s: %s", tunnel.info.id, map_error(exc))
            tunnel.writers.discard(writer)
            writer.close()
            return

        async def to_host() -> None:
            while data := await reader.read(READ_BYTES):
                tunnel.to_host += len(data)
                remote_w.write(data)
                await remote_w.drain()
            remote_w.write_eof()

        async def from_host() -> None:
            while data := await remote_r.read(READ_BYTES):
                tunnel.from_host += len(data)
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()

        try:
            await asyncio.gather(to_host(), from_host())
        except (asyncssh.Error, OSError):
            pass  # either side went away: both are closed below
        finally:
            tunnel.writers.discard(writer)
            remote_w.close()
            writer.close()
