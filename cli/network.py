"""`mirror sweep`, `mirror wake` and `mirror adopt`: the network side of the command line.

Kept apart from ``cli.main`` (which only registers them) so that module stays small.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mirror.errors import ConfigError
from mirror.inventory import Inventory, InventoryError, load_inventory
from mirror.inventory.models import MAX_SWEEP_ADDRESSES
from mirror.settings import Settings


def add_network_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    def inventory_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "-i",
            "--inventory",
            type=Path,
            help="inventory file (default: $MIRROR_INVENTORY or ./inventory.yaml)",
        )

    p = sub.add_parser(
        "sweep", help="ping every address of a subnet once; show what answers (RTT, MAC, name)"
    )
    p.add_argument(
        "subnet", nargs="?", help="a CIDR or an inventory subnet name (default: every subnet)"
    )
    p.add_argument("--timeout", type=float, default=1.0, help="seconds to wait (default 1)")
    p.add_argument("--no-dns", action="store_true", help="skip reverse DNS")
    p.add_argument("--json", action="store_true", help="print JSON")
    inventory_arg(p)
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("wake", help="send a Wake-on-LAN packet, then wait for the host to ping")
    p.add_argument("host", metavar="NAME")
    p.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait for ping (default 120)"
    )
    p.add_argument("--no-wait", action="store_true", help="send and return")
    inventory_arg(p)
    p.set_defaults(func=cmd_wake)

    p = sub.add_parser("adopt", help="add a discovered address to the inventory as a host")
    p.add_argument("address")
    p.add_argument("--name", required=True, help="the new host's name")
    p.add_argument("--mac", help="default: from the neighbour table, when the address is on-link")
    p.add_argument("--group", action="append", default=[], help="repeatable")
    p.add_argument("--tag", action="append", default=[], help="repeatable")
    p.add_argument(
        "--dry-run", action="store_true", help="show the change as a diff; write nothing"
    )
    inventory_arg(p)
    p.set_defaults(func=cmd_adopt)


def _inventory_path(args: argparse.Namespace) -> Path:
    return args.inventory or Settings.from_env().inventory_path


def _optional_inventory(path: Path, needed: bool) -> Inventory | None:
    if not needed and not path.exists():
        return None
    return load_inventory(path)


def sweep_networks(
    subnet: str | None, inventory: Inventory | None
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """What ``mirror sweep [SUBNET]`` sweeps; ``ConfigError`` says why not."""
    if subnet is None:
        if inventory is None or not inventory.subnets:
            raise ConfigError("no subnet given and none in the inventory: mirror sweep 10.0.0.0/24")
        return [s.cidr for s in inventory.subnets if s.sweeps]
    named = {s.name: s.cidr for s in inventory.subnets} if inventory else {}
    if subnet in named:
        network = named[subnet]
    else:
        try:
            network = ipaddress.ip_network(subnet, strict=False)
        except ValueError:
            known = ", ".join(sorted(named)) or "none"
            raise ConfigError(
                f"{subnet!r} is neither a network like 10.0.0.0/24 nor an inventory subnet "
                f"(subnets: {known})"
            ) from None
    if network.num_addresses > MAX_SWEEP_ADDRESSES:
        raise ConfigError(
            f"{network} has {network.num_addresses} addresses; a sweep takes at most "
            f"{MAX_SWEEP_ADDRESSES}: sweep smaller parts"
        )
    return [network]


def cmd_sweep(args: argparse.Namespace) -> int:
    from collectors.neighbours import read_neighbours
    from poller.discovery import join_found, render_found, reverse_names
    from poller.icmp import detect_icmp, sweep

    path = _inventory_path(args)
    inventory = _optional_inventory(path, needed=args.subnet is None)
    networks = sweep_networks(args.subnet, inventory)
    access = detect_icmp()
    if not access.usable:
        raise ConfigError(access.message)
    known = inventory.known_addresses() if inventory else {}

    async def run() -> list[dict[str, Any]]:
        out = []
        for network in networks:
            result = await sweep(network, privileged=access.privileged, timeout_s=args.timeout)
            up = [r.address for r in result.answering]
            names = {} if args.no_dns else await reverse_names(up)
            found = join_found(result.results, read_neighbours(), names, known)
            out.append(
                {
                    "network": str(network),
                    "addresses": len(result.results),
                    "duration_s": result.duration_s,
                    "found": found,
                }
            )
        return out

    sweeps = asyncio.run(run())
    if args.json:
        for s in sweeps:
            s["found"] = [asdict(f) for f in s["found"]]
        print(json.dumps({"icmp": str(access.mode), "sweeps": sweeps}, indent=2))
    else:
        for s in sweeps:
            print(render_found(s["network"], s["found"], s["addresses"], s["duration_s"]))
    return 0


def cmd_wake(args: argparse.Namespace) -> int:
    from cli.client import cli_actor
    from cli.control import open_audit
    from collectors.neighbours import read_neighbours
    from poller.icmp import detect_icmp
    from poller.wol import icmp_pinger, send_magic_packet, wait_until_answers, wake_target, watched

    inventory = load_inventory(_inventory_path(args))
    hosts = {h.name: h for h in inventory.hosts_resolved()}
    if args.host not in hosts:
        known = ", ".join(sorted(hosts)) or "none"
        raise ConfigError(f"no host named {args.host!r} in the inventory (hosts: {known})")
    target = wake_target(hosts[args.host], inventory.subnets, read_neighbours())
    # Audited like the API's wake (action "wol"), before the packet goes: no log, no packet.
    detail = {"mac": target.mac, "sent_to": f"{target.broadcast}:{target.port}"}
    open_audit(Settings.from_env()).record(
        cli_actor(), "cli", "wol", target.host, detail, "requested"
    )
    report = send_magic_packet(target, args.timeout)
    print(f"{target.host}: {report.message} (MAC from the {target.mac_source})")
    if args.no_wait:
        return 0
    access = detect_icmp()
    if not access.usable:
        print(f"{target.host}: not waiting for ping: {access.message}")
        return 0
    print(f"{target.host}: waiting up to {args.timeout:g} s for {target.address} to answer ping")
    woke = asyncio.run(
        wait_until_answers(target.address, icmp_pinger(access), timeout_s=args.timeout)
    )
    done = watched(report, woke)
    if woke is None:
        print(f"{target.host}: no answer to ping within {args.timeout:g} s")
        return 1
    print(f"{target.host}: awake: answered ping {done.woke_after_s:.1f} s after the packet")
    return 0


def cmd_adopt(args: argparse.Namespace) -> int:
    from cli.client import cli_actor
    from cli.control import open_audit
    from collectors.neighbours import read_neighbours
    from mirror.inventory.adopt import adopt_host

    try:
        address = str(ipaddress.ip_address(args.address))
    except ValueError:
        raise ConfigError(f"{args.address!r} is not an IP address") from None
    path = _inventory_path(args)
    try:
        load_inventory(path)
    except InventoryError as exc:
        raise ConfigError(f"fix the inventory first (mirror check):\n{exc}") from None
    mac = args.mac
    if mac is None and address in (neighbours := read_neighbours()):
        mac = neighbours[address].mac
    fields: dict[str, Any] = {"mac": mac, "groups": args.group, "tags": args.tag}
    if args.dry_run:
        proposal = adopt_host(path, args.name, address, **fields, dry_run=True)
        print(proposal.diff, end="")
        print(f"{path}: not written (--dry-run)")
        return 0
    # Audited like every inventory edit; no audit log, no edit.
    audit = open_audit(Settings.from_env())
    adopt_host(path, args.name, address, **fields, actor=cli_actor(), via="cli", audit=audit)
    extra = f", MAC {mac}" if mac else ""
    # A running `mirror serve` watches the file (MIRROR_INVENTORY_WATCH_S) and reloads on SIGHUP.
    print(f"{path}: added host {args.name} ({address}{extra}); a running EGO picks it up")
    return 0
