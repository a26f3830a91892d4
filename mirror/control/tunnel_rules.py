"""What a tunnel request may ask for (pure): its ports, where it leads, who may use it.

- ``listen_port``: 0 (any free port) or 1024-65535; EGO never takes a privileged port.
- ``to``: an IP address or a DNS name, nothing else (no spaces, newlines, headers).
- ``allowed_from``: the client addresses or networks that may connect to the listener;
  by default only the opener's own address (any loopback address when the opener is on
  EGO's machine). Anyone else's connection is closed at once and counted as refused.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from mirror.inventory.models import address_or_name

LOOPBACK = ("127.0.0.0/8", "::1/128")
MAX_ALLOWED = 32


class TunnelRequestError(ValueError):
    """A tunnel request that cannot be honoured; the message says which part and why."""


def check_ports(port: int, listen_port: int) -> None:
    if not 1 <= port <= 65535:
        raise TunnelRequestError(f"port must be 1-65535, got {port}")
    if listen_port != 0 and not 1024 <= listen_port <= 65535:
        raise TunnelRequestError(
            f"listen_port must be 0 (any free port) or 1024-65535, got {listen_port}"
        )


def check_destination(to: str) -> str:
    try:
        return address_or_name(to)
    except ValueError:
        raise TunnelRequestError(
            f"to must be an IP address or a host name, got {to[:80]!r}"
        ) from None


def allowed_networks(asked: Sequence[str], opener: str | None) -> tuple[str, ...]:
    """The networks that may use the tunnel: ``asked``, else the opener's own address."""
    if len(asked) > MAX_ALLOWED:
        raise TunnelRequestError(f"allowed_from lists at most {MAX_ALLOWED} addresses")
    if not asked:
        if opener is None:
            return LOOPBACK
        try:
            ip = ipaddress.ip_address(opener)
        except ValueError:
            return LOOPBACK
        return LOOPBACK if ip.is_loopback else (str(ipaddress.ip_network(ip)),)
    found = []
    for item in asked:
        try:
            found.append(str(ipaddress.ip_network(item.strip(), strict=False)))
        except ValueError:
            raise TunnelRequestError(
                f"allowed_from must list IP addresses or networks, got {item[:80]!r}"
            ) from None
    return tuple(found)


def permitted(peer: str, allowed: Sequence[str]) -> bool:
    try:
        ip = ipaddress.ip_address(peer.split("%")[0])
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in ipaddress.ip_network(net) for net in allowed)
