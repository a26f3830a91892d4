"""The EGO machine's neighbour (ARP/NDP) table: which MAC answers for which on-link address.

Two sources, one pure parser each:

- ``/proc/net/arp`` (Linux, IPv4 only; read without running anything). Columns
  ``IP address, HW type, Flags, HW address, Mask, Device``; ``Flags`` are the kernel's
  ``ATF_*`` bits (include/uapi/linux/if_arp.h): 0x2 ``ATF_COM`` = resolved, 0x4 ``ATF_PERM``.
  An unresolved entry shows ``0x0`` and the MAC ``00:00:00:00:00:00``.
- ``ip neigh show`` (iproute2, IPv4 and IPv6): ``ADDR dev DEV [lladdr MAC] [router]
  [proxy] STATE``, STATE one of PERMANENT NOARP REACHABLE STALE DELAY PROBE INCOMPLETE FAILED NONE.

Only entries with a usable MAC are returned: INCOMPLETE/FAILED ones say nothing about
which machine is there.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from mirror.errors import ParseError

PROC_NET_ARP = "/proc/net/arp"
IP_NEIGH_COMMAND = ("ip", "neigh", "show")

_ATF_COM = 0x2
_ATF_PERM = 0x4
_ZERO_MAC = "00:00:00:00:00:00"
_STATES = frozenset(
    {"PERMANENT", "NOARP", "REACHABLE", "STALE", "DELAY", "PROBE", "INCOMPLETE", "FAILED", "NONE"}
)
_NO_MAC_STATES = frozenset({"INCOMPLETE", "FAILED", "NONE"})


@dataclass(frozen=True, slots=True)
class Neighbour:
    address: str  # normalised by ipaddress
    mac: str  # lower case, colon separated
    device: str
    state: str  # iproute2's state word; from /proc/net/arp: PERMANENT or REACHABLE


def parse_proc_net_arp(text: str) -> dict[str, Neighbour]:
    """``/proc/net/arp`` → resolved neighbours by address."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("IP address"):
        raise ParseError("/proc/net/arp: missing the 'IP address ... Device' header line")
    found: dict[str, Neighbour] = {}
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 6:
            raise ParseError(f"/proc/net/arp line {number}: expected 6 columns, got {len(fields)}")
        address, _hw_type, flags_text, mac, _mask, device = fields
        try:
            flags = int(flags_text, 16)
            address = str(ipaddress.ip_address(address))
        except ValueError:
            raise ParseError(f"/proc/net/arp line {number}: not an ARP entry: {line!r}") from None
        mac = mac.lower()
        if not flags & _ATF_COM or mac == _ZERO_MAC:
            continue
        state = "PERMANENT" if flags & _ATF_PERM else "REACHABLE"
        found[address] = Neighbour(address, mac, device, state)
    return found


def parse_ip_neigh(text: str) -> dict[str, Neighbour]:
    """``ip neigh show`` → neighbours with a MAC, by address."""
    found: dict[str, Neighbour] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            address = str(ipaddress.ip_address(fields[0].split("%")[0]))
        except ValueError:
            raise ParseError(f"ip neigh line {number}: does not start with an address") from None
        words = {k: fields[i + 1] for i, k in enumerate(fields[:-1]) if k in ("dev", "lladdr")}
        state = fields[-1].upper()
        if state not in _STATES:
            raise ParseError(f"ip neigh line {number}: unknown state {fields[-1]!r}")
        mac = words.get("lladdr")
        if mac is None or state in _NO_MAC_STATES:
            continue
        found[address] = Neighbour(address, mac.lower(), words.get("dev", ""), state)
    return found


def read_neighbours(path: str = PROC_NET_ARP) -> dict[str, Neighbour]:
    """The EGO machine's IPv4 neighbours now; empty when the table cannot be read (not Linux)."""
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return parse_proc_net_arp(f.read())
    except (OSError, ParseError):
        return {}
