"""Who a request comes from: the peer's address, or the one a proxy the owner trusts forwarded.

``X-Forwarded-For`` is believed only when the peer itself is one of the proxies the owner
lists (``MIRROR_TRUSTED_PROXIES``; none by default), and then only as far as the chain of
trusted proxies goes: the client is the right-most address that is not a trusted proxy.
Anyone else can write anything into the header, so it is ignored: a forged address cannot
dodge the login limits or put its own text into the audit log. A value that is not an IP
address ends the walk (the last good hop is the client), so nothing but an address ever
leaves this module.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

from litestar.connection import ASGIConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
STATE_KEY = "trusted_proxies"


def networks(items: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in items)


def _trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted)


def client_address(
    peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]
) -> str | None:
    """The request's client (pure): ``peer`` unless it is a trusted proxy that forwarded."""
    if peer is None or not forwarded_for or not _trusted(peer, trusted):
        return peer
    client = peer
    for hop in reversed(forwarded_for.split(",")):
        try:
            client = str(ipaddress.ip_address(hop.strip()))
        except ValueError:
            return client  # garbage from further left: the last address we could check
        if not _trusted(client, trusted):
            return client
    return client  # every hop a trusted proxy: the left-most one


def request_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The client address of a request or WebSocket, as the login limits and logs see it."""
    peer = connection.client.host if connection.client else None
    trusted = connection.app.state.get(STATE_KEY, ())
    if not trusted:
        return peer
    # Several X-Forwarded-For headers are one list (RFC 9110 5.3).
    forwarded = ",".join(connection.headers.getall("x-forwarded-for", []))
    return client_address(peer, forwarded, trusted)
