"""`mirror run`, `mirror action`, `mirror tunnel` and `mirror audit`: control from the shell.

With EGO running, run/action/tunnel go through its API (``cli.via_ego``): EGO uses
the SSH connection it already holds to each host (no new login) and audits the run under
the caller's name. With no EGO answering (or ``--direct``) the CLI logs in to every host
itself (``poller.fanout``: same inventory, same known_hosts rules as the poller), after a
one-line notice; everything it does is written to the audit log of the configured database
first, as ``cli:<local user>``; no audit log, no command. EGO refusing (401/403) is never
a reason to go around it: the CLI says so and exits 77.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cli.client import EgoClient, EgoRefused, EgoUnreachable, cli_actor, credentials, server_url
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
from mirror.errors import ConfigError, UsageError
from mirror.inventory import Inventory, load_inventory
from mirror.settings import Settings, parse_duration, tunnel_bind
from mirror.text import printable

if TYPE_CHECKING:
    from mirror.audit import AuditLog

EXIT_REFUSED = 77  # sysexits' EX_NOPERM: EGO refused the token (a host failing gives 1)
EXIT_CANCELLED = 130  # as a shell reports a job stopped by Ctrl-C


def add_control_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    def ego(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--server",
            metavar="URL",
            help="EGO to go through (default: $MIRROR_SERVER, else http://$MIRROR_BIND:$MIRROR_PORT)",
        )
        p.add_argument(
            "--token-file",
            type=Path,
            metavar="FILE",
            help="an operate token for EGO (default: $MIRROR_TOKEN, $MIRROR_TOKEN_FILE, "
            "else one minted for the run in EGO's database)",
        )
        p.add_argument(
            "--direct", action="store_true", help="log in to the hosts from here, not via EGO"
        )

    def common(p: argparse.ArgumentParser) -> None:
        ego(p)
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
    ego(p)
    p.add_argument("-i", "--inventory", type=Path, help="inventory file")
    p.add_argument("--host", required=True, help="the host whose connection carries it")
    p.add_argument("port", type=int, help="port on the host (or on --to)")
    p.add_argument("--to", default="localhost", help="a machine behind the host (default: it)")
    p.add_argument("--local-port", type=int, default=0, help="default: any free port")
    p.add_argument(
        "--bind", help="local address with --direct (default $MIRROR_TUNNEL_BIND, 127.0.0.2)"
    )
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


def open_audit(settings: Settings) -> AuditLog:
    """The audit log of the configured database (`mirror wake` writes to it too)."""
    from mirror.audit import AuditLog
    from mirror.storage import Store

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.open(settings.database_url)
    store.upgrade()
    return AuditLog(store.engine, seal=settings.audit_seal())


def say_if_empty(settings: Settings, what: str) -> None:
    """On stderr, loudly: the database opened holds none of ``what``, so it may not be
    the one EGO (or a `mirror demo`) uses."""
    print(
        f"mirror: {Settings.redacted_url(settings.database_url)} holds no {what} yet: EGO "
        "may keep its data elsewhere (set MIRROR_DATA_DIR or MIRROR_DATABASE_URL; a "
        "`mirror demo` is found when run from the folder it was started in)",
        file=sys.stderr,
    )


def _via_ego(
    args: argparse.Namespace, settings: Settings, work: Callable[[EgoClient], Awaitable[int]]
) -> int | None:
    """The exit code of ``work`` done through EGO (``EXIT_REFUSED`` when EGO refuses);
    None (after a notice) when no EGO answers its health check."""
    if args.direct:
        return None
    url = server_url(args.server, settings)

    async def go() -> int:
        async with EgoClient(
            url, credentials(settings, args.token_file), settings.tls_dir / "ca.pem"
        ) as client:
            await client.probe()
            return await work(client)

    try:
        return asyncio.run(go())
    except EgoUnreachable as exc:
        print(f"mirror: {exc}: logging in to the hosts directly", file=sys.stderr, flush=True)
        return None
    except EgoRefused as exc:  # never a reason to go around EGO
        print(f"mirror: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except asyncio.CancelledError:  # a second Ctrl-C: EGO was already asked to cancel
        print("mirror: left without waiting for the results", file=sys.stderr)
        raise KeyboardInterrupt from None


class _Stream(Protocol):
    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


class _Printer:
    """Output as it comes; each line prefixed with its host when there are several."""

    def __init__(
        self, prefix: bool, out: _Stream | None = None, err: _Stream | None = None
    ) -> None:
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


async def _run_direct(
    settings: Settings, inventory: Inventory, request: CommandRequest, printer: _Printer
) -> tuple[list[HostResult], bool]:
    from cli.via_ego import interruptible
    from poller.fanout import run_cold
    from poller.ssh import KnownHosts

    cancel = CancelToken()
    notice = "stopping the command on the hosts (Ctrl-C again to leave at once)"
    with interruptible(lambda: cancel.cancel(f"cancelled by {cli_actor()}"), notice):
        results = await run_cold(
            inventory.hosts_resolved(), KnownHosts(settings.known_hosts_path), request, printer,
            cancel,
        )  # fmt: skip
    return results, cancel.cancelled


def _check_request(args: argparse.Namespace) -> None:
    """What `run` and `action` check before asking EGO or logging in."""
    if not args.host and not args.group:
        raise ConfigError("name at least one host or group")
    if args.timeout <= 0 or args.parallel < 1 or args.cap < 16:
        raise UsageError("--timeout must be > 0, --parallel >= 1 and --cap >= 16")


def _execute(
    args: argparse.Namespace, command: str, sudo: bool, audit_action: str, detail: dict[str, Any]
) -> int:
    """A command (or a rendered action) run from here, without EGO."""
    settings = _settings(args)
    inventory = load_inventory(settings.inventory_path)
    hosts = select_hosts(inventory.hosts_resolved(), args.host, args.group)
    request = CommandRequest(command, hosts, args.timeout, sudo, args.cap, args.parallel)
    audit = open_audit(settings)
    run_id = secrets.token_hex(8)
    actor, target = cli_actor(), ",".join(hosts)
    detail = {**detail, "run_id": run_id, "sudo": sudo, "timeout_s": args.timeout}
    audit.record(actor, "cli", audit_action, target, detail, "started")
    printer = _printer(args, len(hosts))
    try:
        results, cancelled = asyncio.run(_run_direct(settings, inventory, request, printer))
    except asyncio.CancelledError:  # a second Ctrl-C: the hosts' commands were stopped
        audit.record(actor, "cli", f"{audit_action}.done", target, {"run_id": run_id}, "left")
        print("mirror: left without waiting for the results", file=sys.stderr)
        raise KeyboardInterrupt from None
    finally:
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
    return _report(args, results, len(hosts), cancelled)


def _printer(args: argparse.Namespace, hosts: int) -> _Printer:
    if args.json:
        return _Printer(False, _Null(), _Null())
    return _Printer(prefix=hosts > 1)


def _report(
    args: argparse.Namespace, results: list[HostResult], hosts: int, cancelled: bool
) -> int:
    if args.json:
        rows = [{**asdict(r), "state": str(r.state)} for r in results]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for r in results:
            if r.state is not ResultState.OK or hosts > 1:
                print(f"{r.host}: {r.summary()}", file=sys.stderr)
    if cancelled:
        return EXIT_CANCELLED
    return 0 if results and all(r.state is ResultState.OK for r in results) else 1


async def _follow(
    client: EgoClient,
    args: argparse.Namespace,
    jobs: list[dict[str, Any]],
    hosts: int,
    refused: list[HostResult] | None = None,
) -> int:
    """Print EGO's runs ``jobs`` as they go, then report them (after ``refused``)."""
    from cli.via_ego import follow

    printer = _printer(args, hosts)
    try:
        done = await follow(client, jobs, printer)
    finally:
        printer.flush()
    return _report(args, [*(refused or []), *done.results], hosts, done.cancelled)


class _Null:
    def write(self, _: str) -> int:
        return 0

    def flush(self) -> None:
        return None


def _command_words(args: argparse.Namespace) -> str:
    words = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not words:
        raise ConfigError("no command: mirror run --host NAME -- COMMAND")
    # One argument is taken as a shell line ("df -h | sort"); several are joined as typed.
    return words[0] if len(words) == 1 else " ".join(words)


def cmd_run(args: argparse.Namespace) -> int:
    command = _command_words(args)
    _check_request(args)
    body = {
        "command": command,
        "hosts": args.host,
        "groups": args.group,
        "timeout_s": args.timeout,
        "sudo": args.sudo,
        "cap_bytes": args.cap,
        "concurrency": args.parallel,
    }

    async def through(client: EgoClient) -> int:
        job = await client.call("POST", "/api/commands", body)
        return await _follow(client, args, [job], len(job["hosts"]))

    code = _via_ego(args, _settings(args), through)
    if code is not None:
        return code
    return _execute(args, command, args.sudo, "command", {"command": command})


def _action_params(args: argparse.Namespace) -> dict[str, str]:
    params = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--param {item!r}: write KEY=VALUE")
        params[key] = value
    return params


def cmd_action(args: argparse.Namespace) -> int:
    from cli.via_ego import start_actions
    from mirror.control.actions import inventory_actions, render

    settings = _settings(args)
    if not args.name:
        actions = inventory_actions(load_inventory(settings.inventory_path).actions)
        for known in actions.values():
            listed = " ".join(f"{k}={v}" for k, v in known.params.items())
            print(f"{known.name}\t{listed}\t{known.description}")
        return 0
    params = _action_params(args)
    _check_request(args)
    body = {"params": params, "confirm": args.yes, "timeout_s": args.timeout}

    async def through(client: EgoClient) -> int:
        jobs, refused = await start_actions(client, args.host, args.group, args.name, body)
        return await _follow(client, args, jobs, len(jobs) + len(refused), refused)

    code = _via_ego(args, settings, through)
    if code is not None:
        return code
    actions = inventory_actions(load_inventory(settings.inventory_path).actions)
    action = actions.get(args.name)
    if action is None:
        raise ConfigError(f"no action {args.name!r} (known: {', '.join(sorted(actions))})")
    command = render(action, params, confirmed=args.yes)
    detail = {"action": action.name, "params": params, "command": command}
    return _execute(args, command, action.sudo, f"action:{action.name}", detail)


def cmd_tunnel(args: argparse.Namespace) -> int:
    from cli.via_ego import hold_tunnel

    settings = _settings(args)
    where = f"{args.host}:{args.port}" if args.to == "localhost" else f"{args.to}:{args.port}"
    if not args.direct and args.bind:
        raise ConfigError(
            "--bind goes with --direct: through EGO the tunnel listens where EGO's do "
            "($MIRROR_TUNNEL_BIND of `mirror serve`)"
        )
    body = {"host": args.host, "port": args.port, "to": args.to, "listen_port": args.local_port}

    async def through(client: EgoClient) -> int:
        await hold_tunnel(client, body, where)
        return 0

    code = _via_ego(args, settings, through)
    if code is not None:
        return code
    return _tunnel_direct(args, settings, where)


def _tunnel_direct(args: argparse.Namespace, settings: Settings, where: str) -> int:
    from cli.via_ego import until_interrupted
    from poller.commands import OwnConnections
    from poller.ssh import KnownHosts
    from poller.tunnels import TunnelManager

    inventory = load_inventory(settings.inventory_path)
    [host] = select_hosts(inventory.hosts_resolved(), [args.host])
    audit = open_audit(settings)
    actor = cli_actor()

    bind = tunnel_bind(args.bind, settings.bind_host) if args.bind else settings.tunnel_bind

    async def hold() -> None:
        source = OwnConnections(inventory.hosts_resolved(), KnownHosts(settings.known_hosts_path))
        tunnels = TunnelManager(source, bind)
        try:
            info = await tunnels.open(host, args.port, args.to, args.local_port, actor)
            detail = {"listen": f"{info.listen_host}:{info.listen_port}", "dest": where}
            audit.record(actor, "cli", "tunnel.open", host, detail, "open")
            print(
                f"tunnel {info.listen_host}:{info.listen_port} -> {where} via {host} "
                f"(http://{info.listen_host}:{info.listen_port}/ ; Ctrl-C closes it)",
                flush=True,
            )
            await until_interrupted()
            closed = await tunnels.close(info.id)
            used = closed.connections if closed else 0
            audit.record(actor, "cli", "tunnel.close", host, detail, f"{used} connections")
        finally:
            await source.close()

    try:
        asyncio.run(hold())
    except asyncio.CancelledError:  # a second Ctrl-C while closing
        raise KeyboardInterrupt from None
    return 0


def cmd_audit_list(args: argparse.Namespace) -> int:
    since = None
    if args.since:
        try:
            since = time.time() - parse_duration(args.since)
        except ValueError as exc:
            raise UsageError(f"--since: {exc}") from None
    settings = _settings(args)
    audit = open_audit(settings)
    entries = audit.entries(
        actor=args.actor, action=args.action, target=args.target, since=since, limit=args.limit
    )
    if not entries and not audit.entries(limit=1):
        say_if_empty(settings, "audit entries")
    if args.json:
        print(json.dumps([asdict(e) for e in entries], indent=2, ensure_ascii=False))
        return 0
    for e in entries:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.ts))
        detail = json.dumps(e.detail, ensure_ascii=False) if e.detail else ""
        fields = [str(e.id), when, e.actor, e.action, e.target or "-", e.result or "", detail]
        print("\t".join(map(printable, fields)))  # a TAB in a value adds no column
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    report = open_audit(_settings(args)).verify()
    print(report.text())
    return 0 if report.ok else 1
