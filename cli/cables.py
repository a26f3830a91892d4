"""`mirror cables check`: the declared cables against LLDP and the MAC tables, for cron.

Asks the running EGO (``--server``) or reads the database the poller writes, with the
inventory file (``-i``). One line per finding on stdout (``file:line`` of the cable first),
a one-line summary on stderr; exit 1 on drift, 0 when every checkable cable matches.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from mirror.settings import Settings


def add_cable_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cables = sub.add_parser("cables", help="declared cables checked against the network")
    c_sub = cables.add_subparsers(metavar="ACTION")
    p = c_sub.add_parser(
        "check",
        help="compare cables: with LLDP and MAC tables; one line per finding, exit 1 on drift",
    )
    p.add_argument(
        "-i",
        "--inventory",
        type=Path,
        help="inventory file (default: $MIRROR_INVENTORY or ./inventory.yaml)",
    )
    p.add_argument("--server", metavar="URL", help="ask this running EGO instead of the database")
    p.add_argument("--token-file", type=Path, metavar="FILE", help="a read token (with --server)")
    p.add_argument("--json", action="store_true", help="print the whole check as JSON")
    p.set_defaults(func=cmd_cables_check)


def _from_database(settings: Settings) -> dict[str, Any]:
    from ego.runtime import open_store
    from mirror.cables import finding_line
    from mirror.inventory import load_inventory
    from mirror.world import check_cables

    inventory = load_inventory(settings.inventory_path)
    store = open_store(settings)
    try:
        checked = check_cables(inventory, store.host_rows())
    finally:
        store.close()
    return {
        "drift": checked.drift,
        "cables": [asdict(c) for c in checked.cables],
        "findings": [asdict(f) for f in checked.findings],
        "lines": [finding_line(f, inventory.where) for f in checked.findings],
    }


def _from_ego(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    from cli.client import EgoClient, credentials, server_url

    async def go() -> dict[str, Any]:
        url = server_url(args.server, settings)
        async with EgoClient(url, credentials(settings, args.token_file)) as client:
            await client.probe()
            answer: dict[str, Any] = await client.call("GET", "/api/world/cables/check")
            return answer

    return asyncio.run(go())


def cmd_cables_check(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.inventory:
        settings = replace(settings, inventory_path=args.inventory)
    result = _from_ego(args, settings) if args.server else _from_database(settings)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for line in result["lines"]:
            print(line)
        counts = Counter(c["status"] for c in result["cables"])
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        found = len(result["findings"])
        print(
            f"mirror: {len(result['cables'])} cable(s) declared ({summary or 'none'}); "
            f"{found} finding(s)",
            file=sys.stderr,
        )
    return 1 if result["drift"] else 0
