"""`mirror run`, `mirror action`, `mirror tunnel` and `mirror audit`: control from the shell.

Without a running EGO the CLI opens one SSH connection per host itself (same inventory,
same known_hosts rules as the poller). Everything it does is written to the audit log of
the configured database first, as ``cli:<local user>``; no audit log, no command.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import secrets
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from mirror.control.model import (
    DEFAULT_CAP_BYTES,
    DEFAULT_CONCURRENCY,
    DEFAULT_TIMEOUT_S,
    CancelToken,
    CommandRequest,
    HostResult,
    OutputEvent,
    ResultState,
)
from mirror.control.targets import select_hosts, summary
from mirror.errors import ConfigError
from mirror.inventory import Inventory, load_inventory
from mirror.settings import Settings, parse_duration

if TYPE_CHECKING:
    from mirror.audit import AuditLog


def add_control_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("-i", "--inventory", type=Path, help="inventory file")
        p.add_argument("--host", action="append", default=[], help="host name (repeatable)")
        p.add_argument("--group", action="append", default=[], help="group name (repeatable)")
        p.add_argument(
            "--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per host (60)"
        )
        p.add_argument("--parallel", type=int, default=DEFAULT_CONCURRENCY, help="hosts at once")
        p.add_argument(
            "--cap", type=int, default=DEFAULT_CAP_BYTES, help="output kept per stream (bytes)"
        )
        p.add_argument("--json", action="store_true", help="print the results as JSON")

    p = sub.add_parser("run", help="run a command on hosts: mirror run --host web1 -- uptime")
    common(p)
    p.add_argument("--sudo", action="store_true", help="sudo -n (where the inventory allows)")
    p.add_argument("command", nargs=argparse.REMAINDER, help="after --")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("action", help="run a named action: mirror action restart-service ...")
    common(p)
    p.add_argument("name", nargs="?", help="action name (none: list them)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--yes", action="store_true", help="confirm an action that asks for it")
    p.set_defaults(func=cmd_action)

    p = sub.add_parser("tunnel", help="forward a local port to a port on a host, over SSH")
    p.add_argument("-i", "--inventory", type=Path, help="inventory file")
    p.add_argument("--host", required=True, help="the host whose connection carries it")
    p.add_argument("port", type=int, help="port on the host (or on --to)")
    p.add_argument("--to", default="localhost", help="a machine behind the host (default: it)")
    p.add_argument("--local-port", type=int, default=0, help="default: any free port")
    p.add_argument("--bind", default="127.0.0.1", help="local address (default 127.0.0.1)")
    p.set_defaults(func=cmd_tunnel)

    audit = sub.add_parser("audit", help="the audit log: list it, verify its hash chain")
    audit_sub = audit.add_subparsers(metavar="ACTION")
    p = audit_sub.add_parser("list", help="newest first")
    p.add_argument("--actor")
    p.add_argument("--action", help="prefix: command, action, terminal, tunnel, wol, auth.")
    p.add_argument("--target", help="substring of the target")
    p.add_argument("--since", help="a duration back from now: 1h, 7d")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_audit_list)
    p = audit_sub.add_parser("verify", help="check the chain; name the first broken entry")
    p.set_defaults(func=cmd_audit_verify)


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    if getattr(args, "inventory", None):
        settings = replace(settings, inventory_path=args.inventory)
    return settings


def _audit(settings: Settings) -> AuditLog:
    from mirror.audit import AuditLog
    from mirror.storage import Store

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.open(settings.database_url)
    store.upgrade()
    return AuditLog(store.engine)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:?"


class _Printer:
    """Output as it comes; each line prefixed with its host when there are several."""

    def __init__(self, prefix: bool, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self._prefix = prefix
        # Looked up now, not at import: tests and shells may swap sys.stdout.
        self._streams = {"stdout": out or sys.stdout, "stderr": err or sys.stderr}
        self._partial: dict[tuple[str, str], str] = {}

    def __call__(self, event: OutputEvent) -> None:
        stream = self._streams[event.stream]
        if not self._prefix:
            stream.write(event.text)
            stream.flush()
            return
        key = (event.host, event.stream)
        text = self._partial.pop(key, "") + event.text
        *lines, rest = text.split("\n")
        for line in lines:
            stream.write(f"{event.host} | {line}\n")
        if rest:
            self._partial[key] = rest
        stream.flush()

    def flush(self) -> None:
        for (host, name), rest in self._partial.items():
            self._streams[name].write(f"{host} | {rest}\n")
        self._partial.clear()


async def _run(
    settings: Settings, inventory: Inventory, request: CommandRequest, printer: _Printer
) -> list[HostResult]:
    from poller.commands import OwnConnections, run_command
    from poller.ssh import KnownHosts

    source = OwnConnections(inventory.hosts_resolved(), KnownHosts(settings.known_hosts_path))
    try:
        return await run_command(source, request, printer, CancelToken())
    finally:
        await source.close()


def _execute(
    args: argparse.Namespace, command: str, sudo: bool, audit_action: str, detail: dict[str, Any]
) -> int:
    settings = _settings(args)
    inventory = load_inventory(settings.inventory_path)
    hosts = select_hosts(inventory.hosts_resolved(), args.host, args.group)
    if args.timeout <= 0 or args.parallel < 1 or args.cap < 16:
        raise ConfigError("--timeout must be > 0, --parallel >= 1 and --cap >= 16")
    request = CommandRequest(command, hosts, args.timeout, sudo, args.cap, args.parallel)
    audit = _audit(settings)
    run_id = secrets.token_hex(8)
    actor, target = _actor(), ",".join(hosts)
    detail = {**detail, "run_id": run_id, "sudo": sudo, "timeout_s": args.timeout}
    audit.record(actor, "cli", audit_action, target, detail, "started")
    printer = _Printer(prefix=len(hosts) > 1 and not args.json)
    quiet = _Printer(False, _Null(), _Null())  # type: ignore[arg-type]
    results = asyncio.run(_run(settings, inventory, request, quiet if args.json else printer))
    printer.flush()
    audit.save_results(run_id, actor, command, results)
    audit.record(
        actor,
        "cli",
        f"{audit_action}.done",
        target,
        {"run_id": run_id},
        summary(str(r.state) for r in results),
    )
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2, ensure_ascii=False))
    else:
        for r in results:
            if r.state is not ResultState.OK or len(hosts) > 1:
                print(f"{r.host}: {r.summary()}", file=sys.stderr)
    return 0 if all(r.state is ResultState.OK for r in results) else 1


class _Null:
    def write(self, _: str) -> int:
        return 0

    def flush(self) -> None:
        return None


def cmd_run(args: argparse.Namespace) -> int:
    words = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not words:
        raise ConfigError("no command: mirror run --host NAME -- COMMAND")
    # One argument is taken as a shell line ("df -h | sort"); several are joined as typed.
    command = words[0] if len(words) == 1 else " ".join(words)
    return _execute(args, command, args.sudo, "command", {"command": command})


def cmd_action(args: argparse.Namespace) -> int:
    from mirror.control.actions import inventory_actions, render

    settings = _settings(args)
    actions = inventory_actions(load_inventory(settings.inventory_path).actions)
    if not args.name:
        for action in actions.values():
            params = " ".join(f"{k}={v}" for k, v in action.params.items())
            print(f"{action.name}\t{params}\t{action.description}")
        return 0
    action = actions.get(args.name)
    if action is None:
        raise ConfigError(f"no action {args.name!r} (known: {', '.join(sorted(actions))})")
    params = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--param {item!r}: write KEY=VALUE")
        params[key] = value
    command = render(action, params, confirmed=args.yes)
    detail = {"action": action.name, "params": params, "command": command}
    return _execute(args, command, action.sudo, f"action:{action.name}", detail)


def cmd_tunnel(args: argparse.Namespace) -> int:
    from poller.commands import OwnConnections
    from poller.ssh import KnownHosts
    from poller.tunnels import TunnelManager

    settings = _settings(args)
    inventory = load_inventory(settings.inventory_path)
    [host] = select_hosts(inventory.hosts_resolved(), [args.host])
    audit = _audit(settings)
    actor = _actor()

    async def hold() -> None:
        source = OwnConnections(inventory.hosts_resolved(), KnownHosts(settings.known_hosts_path))
        tunnels = TunnelManager(source, args.bind)
        info = await tunnels.open(host, args.port, args.to, args.local_port, actor)
        where = f"{host}:{args.port}" if args.to == "localhost" else f"{args.to}:{args.port}"
        detail = {"listen": f"{info.listen_host}:{info.listen_port}", "dest": where}
        audit.record(actor, "cli", "tunnel.open", host, detail, "open")
        print(
            f"tunnel {info.listen_host}:{info.listen_port} -> {where} via {host} "
            f"(http://{info.listen_host}:{info.listen_port}/ ; Ctrl-C closes it)",
            flush=True,
        )
        try:
            await asyncio.Event().wait()
        finally:
            closed = await tunnels.close(info.id)
            await source.close()
            used = closed.connections if closed else 0
            audit.record(actor, "cli", "tunnel.close", host, detail, f"{used} connections")

    try:
        asyncio.run(hold())
    except KeyboardInterrupt:
        return 0
    return 0


def cmd_audit_list(args: argparse.Namespace) -> int:
    since = None
    if args.since:
        try:
            since = time.time() - parse_duration(args.since)
        except ValueError as exc:
            raise ConfigError(f"--since: {exc}") from None
    entries = _audit(_settings(args)).entries(
        actor=args.actor, action=args.action, target=args.target, since=since, limit=args.limit
    )
    if args.json:
        print(json.dumps([asdict(e) for e in entries], indent=2, ensure_ascii=False))
        return 0
    for e in entries:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.ts))
        detail = json.dumps(e.detail, ensure_ascii=False) if e.detail else ""
        fields = [str(e.id), when, e.actor, e.action, e.target or "-", e.result or "", detail]
        print("\t".join(fields))
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    report = _audit(_settings(args)).verify()
    print(report.text())
    return 0 if report.ok else 1
