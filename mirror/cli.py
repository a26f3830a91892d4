"""`mirror`: the command line of MIRROR STAGE.

Every failure the user can cause (a bad inventory, an unknown host, a database that
is down) ends in one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from mirror.errors import ConfigError, MirrorError
from mirror.inventory import HostConfig, Inventory, check_file, load_inventory
from mirror.settings import Settings

log = logging.getLogger("mirror")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    if not args.verbose:
        # Their INFO lines narrate every connection and migration step.
        for noisy in ("asyncssh", "alembic"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return int(args.func(args) or 0)
    except MirrorError as exc:
        print(f"mirror: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mirror",
        description="MIRROR STAGE (거울단계): watch and control every host on the LAN.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(metavar="COMMAND")

    def inventory_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "-i",
            "--inventory",
            type=Path,
            help="inventory file (default: $MIRROR_INVENTORY or ./inventory.yaml)",
        )

    p = sub.add_parser("check", help="validate an inventory file and list every problem")
    p.add_argument(
        "file", nargs="?", type=Path, help="default: $MIRROR_INVENTORY or ./inventory.yaml"
    )
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("poll", help="poll one host once and print what it reports")
    p.add_argument("--host", required=True, metavar="NAME", help="host name from the inventory")
    p.add_argument("--json", action="store_true", help="print the snapshot as JSON")
    inventory_arg(p)
    p.set_defaults(func=cmd_poll)

    p = sub.add_parser("serve", help="run EGO: the poller and the API/web UI")
    inventory_arg(p)
    p.add_argument("--bind", help="address to listen on (default 127.0.0.1, $MIRROR_BIND)")
    p.add_argument("--port", type=int, help="port (default 8077, $MIRROR_PORT)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "trust", help="record a host's current SSH key (first contact or re-install)"
    )
    p.add_argument("host", metavar="NAME")
    inventory_arg(p)
    p.set_defaults(func=cmd_trust)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(metavar="ACTION")
    p = db_sub.add_parser("upgrade", help="create or migrate the schema ($MIRROR_DATABASE_URL)")
    p.set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser(
        "demo", help="run EGO on SQLite against this machine and a simulated lab on 127.77.0.0/24"
    )
    p.add_argument("--hosts", type=int, default=24, help="simulated hosts (default 24)")
    p.add_argument("--port", type=int, help="web port (default 8077)")
    p.set_defaults(func=cmd_demo)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    if getattr(args, "inventory", None):
        settings = replace(settings, inventory_path=args.inventory)
    if getattr(args, "bind", None):
        settings = replace(settings, bind_host=args.bind)
    if getattr(args, "port", None):
        settings = replace(settings, bind_port=args.port)
    return settings


def _find_host(inventory: Inventory, name: str) -> HostConfig:
    hosts = {h.name: h for h in inventory.hosts_resolved()}
    if name not in hosts:
        known = ", ".join(sorted(hosts)) or "none"
        raise ConfigError(f"no host named {name!r} in the inventory (hosts: {known})")
    return hosts[name]


def cmd_check(args: argparse.Namespace) -> int:
    path = args.file or Settings.from_env().inventory_path
    problems = check_file(path)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in {path}", file=sys.stderr)
        return 1
    print(f"{path}: ok")
    return 0


def cmd_poll(args: argparse.Namespace) -> int:
    from mirror.render import render_poll
    from poller.host import HostPoller, PollResult
    from poller.ssh import KnownHosts

    logging.getLogger().setLevel(logging.DEBUG if args.verbose else logging.ERROR)
    settings = _settings(args)
    inventory = load_inventory(settings.inventory_path)
    host = _find_host(inventory, args.host)

    async def twice() -> PollResult:
        poller = HostPoller(
            host,
            KnownHosts(settings.known_hosts_path),
            interval_s=inventory.poll.interval_s,
            timeout_s=inventory.poll.timeout_s,
            slow_every_s=0,  # both polls take the slow sample: process CPU needs two
        )
        try:
            first = await poller.poll()
            if first.snapshot is None:
                return first
            # Rates need two samples; one second apart, like `vmstat 1 2`.
            await asyncio.sleep(1.0)
            return await poller.poll()
        finally:
            await poller.close()

    result = asyncio.run(twice())
    snapshot = result.snapshot
    if args.json:
        print(
            json.dumps(
                {
                    "host": result.status.host,
                    "state": str(result.status.state),
                    "error": result.status.error,
                    "ts": result.status.ts,
                    "duration_ms": result.status.duration_ms,
                    "metrics": snapshot.metrics if snapshot else {},
                    "info": snapshot.info if snapshot else {},
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        print(render_poll(result.status, snapshot))
    return 0 if snapshot is not None else 1


def cmd_serve(args: argparse.Namespace) -> int:
    from mirror.runtime import serve

    settings = _settings(args)
    inventory = load_inventory(settings.inventory_path)
    asyncio.run(serve(settings, inventory))
    return 0


def cmd_trust(args: argparse.Namespace) -> int:
    from poller.ssh import KnownHosts, trust_first_use

    settings = _settings(args)
    host = _find_host(load_inventory(settings.inventory_path), args.host)
    if host.ssh is None:
        raise ConfigError(f"{host.name} is polled locally; it has no SSH key to trust")
    known = KnownHosts(settings.known_hosts_path)
    port = host.ssh.port or 22  # a config_host alias without a port: ~/.ssh/config's default
    removed = known.forget(host.ssh.config_host or host.address, port)
    key = asyncio.run(trust_first_use(host, known))
    print(
        f"{host.name}: recorded {key.get_algorithm()} key {key.get_fingerprint('sha256')}"
        + (f" (replaced {removed} old entr{'y' if removed == 1 else 'ies'})" if removed else "")
    )
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from mirror.runtime import open_store

    settings = _settings(args)
    store = open_store(settings)
    store.close()
    print(f"database at {Settings.redacted_url(settings.database_url)} is up to date")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from mirror.demo import run_demo

    asyncio.run(run_demo(hosts=args.hosts, port=args.port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
