"""`mirror`: the command line of MIRROR STAGE.

Every failure the user can cause (a bad inventory, an unknown host, a database that
is down) ends in one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import argcomplete

from cli.alerts import add_alert_commands
from cli.backup import add_backup_commands
from cli.cables import add_cable_commands
from cli.control import add_control_commands
from cli.install import add_install_commands
from cli.jobs import add_job_commands
from cli.network import add_network_commands
from mirror.errors import ConfigError, MirrorError, UsageError
from mirror.inventory import HostConfig, Inventory, check_file, load_inventory
from mirror.settings import Settings

if TYPE_CHECKING:
    from mirror.auth import AuthService

log = logging.getLogger("mirror")

# Exit statuses: 0 done; 1 a problem found or a failure (a bad inventory, an unknown host,
# a database that is down, a command that failed on a host); 2 the command line itself is
# wrong (argparse's own status for an unknown option or a missing argument); 77 refused by
# EGO; 130 interrupted.
EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    # Answers a shell's completion request (`mirror completion SHELL` installs it) and exits;
    # otherwise it only looks at one environment variable.
    argcomplete.autocomplete(parser)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    if not args.verbose:
        # Their INFO lines narrate every connection and migration step.
        for noisy in ("asyncssh", "alembic", "apscheduler", "httpx"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        _follow_running_demo(args)
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"mirror: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MirrorError as exc:
        print(f"mirror: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `mirror db info | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


# Commands that never follow a running demo's data: they start EGO or touch no data.
_OWN_DATA = {"cmd_demo", "cmd_serve", "cmd_completion", "cmd_check"}


def _follow_running_demo(args: argparse.Namespace) -> None:
    """Run from the folder a `mirror demo` runs in, with no MIRROR_DATA_DIR or
    MIRROR_DATABASE_URL set, a command uses the demo's data (mirror/demo_mark.py), and
    says so: which database it opened is never a guess."""
    from mirror import demo_mark

    if getattr(args.func, "__name__", "") in _OWN_DATA:
        return
    keys = ("MIRROR_DATA_DIR", "MIRROR_DATABASE_URL", "MIRROR_BIND", "MIRROR_PORT")
    env = {k: os.environ[k] for k in (*keys, "MIRROR_INVENTORY") if os.environ.get(k)}
    mark = demo_mark.adopt(env)
    if mark is None:
        return
    os.environ.update(env)
    url = Settings.redacted_url(Settings.from_env().database_url)
    print(
        f"mirror: using the running demo's data (pid {mark.pid}): {url}; "
        "set MIRROR_DATA_DIR or MIRROR_DATABASE_URL for another database",
        file=sys.stderr,
    )


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
    p = db_sub.add_parser("info", help="back end, features in use, table sizes and row counts")
    p.set_defaults(func=cmd_db_info)
    add_backup_commands(db_sub)

    p = sub.add_parser(
        "completion",
        help="print the shell code that completes mirror's commands "
        '(bash: eval "$(mirror completion bash)" in ~/.bashrc; zsh likewise; '
        "fish: mirror completion fish > ~/.config/fish/completions/mirror.fish)",
    )
    p.add_argument("shell", choices=["bash", "zsh", "fish"])
    p.set_defaults(func=cmd_completion)

    p = sub.add_parser(
        "demo", help="run EGO on SQLite against this machine and a simulated lab on 127.77.0.0/24"
    )
    p.add_argument("--hosts", type=int, default=24, help="simulated hosts (default 24)")
    p.add_argument("--port", type=int, help="web port (default 8077)")
    p.add_argument("--sim-port", type=int, default=22077, help="simulated SSH port (22077)")
    p.add_argument(
        "--snmp-port", type=int, default=16161, help="UDP port of the simulated switch and router"
    )
    p.set_defaults(func=cmd_demo)
    anomaly = sub.add_parser("anomaly", help="the anomaly detector on a CSV (NAB's interface)")
    anomaly_sub = anomaly.add_subparsers(metavar="ACTION")
    p = anomaly_sub.add_parser(
        "score", help="print one anomaly score in [0, 1] per row of a timestamp,value CSV"
    )
    p.add_argument("file", nargs="?", type=Path, help="CSV file (default: stdin)")
    p.add_argument(
        "--threshold",
        action="store_true",
        help="print the score at which a point is anomalous, and nothing else",
    )
    p.set_defaults(func=cmd_anomaly_score)
    _add_auth_commands(sub)
    add_network_commands(sub)  # sweep, wake, adopt (cli.network)
    add_control_commands(sub)  # run, action, tunnel, audit (cli.control)
    add_alert_commands(sub)  # alerts, notify test (cli.alerts)
    add_job_commands(sub)  # scheduled jobs: list, run, history, pause, resume (cli.jobs)
    add_install_commands(sub)  # install, uninstall: EGO as a systemd service (cli.install)
    add_cable_commands(sub)  # cables check (cli.cables)
    return parser


def _add_auth_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from mirror.auth import ROLES, SCOPES

    user = sub.add_parser("user", help="web UI accounts (password + TOTP)")
    user_sub = user.add_subparsers(metavar="ACTION")
    p = user_sub.add_parser("add", help="create an account; shows its TOTP enrolment QR code")
    p.add_argument("name")
    p.add_argument("--role", choices=ROLES, default="admin", help="default: admin (the owner)")
    p.add_argument("--password-env", metavar="VAR", help="read the password from $VAR")
    p.add_argument("--reset", action="store_true", help="re-enrol an existing account")
    p.add_argument("--no-qr", action="store_true", help="print only the otpauth URI")
    p.set_defaults(func=cmd_user_add)
    p = user_sub.add_parser("list", help="list accounts")
    p.set_defaults(func=cmd_user_list)

    token = sub.add_parser("token", help="API tokens for scripts and the CLI")
    token_sub = token.add_subparsers(metavar="ACTION")
    p = token_sub.add_parser("create", help="create a token (shown once)")
    p.add_argument("--scope", choices=SCOPES, required=True)
    p.add_argument("--name", default="script", help="what it is for")
    p.add_argument("--user", help="act as this account (its role applies)")
    p.add_argument("--expires-days", type=float, help="default: never")
    p.set_defaults(func=cmd_token_create)
    p = token_sub.add_parser("list", help="list tokens (never their secrets)")
    p.set_defaults(func=cmd_token_list)
    p = token_sub.add_parser("revoke", help="revoke a token by id")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_token_revoke)


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


def cmd_completion(args: argparse.Namespace) -> int:
    print(argcomplete.shellcode(["mirror"], shell=args.shell))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    path = args.file or Settings.from_env().inventory_path
    problems = check_file(path)
    if not problems:
        from mirror.inventory.secretfiles import secret_file_problems

        problems = secret_file_problems(path)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in {path}", file=sys.stderr)
        return 1
    print(f"{path}: ok")
    return 0


def cmd_poll(args: argparse.Namespace) -> int:
    import msgspec

    from cli.render import render_poll
    from mirror.events import poll_event
    from poller.host import HostPoller, PollResult
    from poller.ssh import KnownHosts

    logging.getLogger().setLevel(logging.DEBUG if args.verbose else logging.ERROR)
    settings = _settings(args)
    inventory = load_inventory(settings.inventory_path)
    device = next((d for d in inventory.snmp_resolved() if d.name == args.host), None)
    host = _find_host(inventory, args.host) if device is None else None

    async def twice() -> PollResult:
        if device is not None:  # a switch, router or AP from the inventory's snmp list
            from poller.snmp import poll_twice

            return await poll_twice(device)
        assert host is not None
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
    if args.json:  # the live stream's event (mirror.events), as /api/live sends it
        event = msgspec.json.encode(poll_event(result.status, snapshot))
        print(msgspec.json.format(event, indent=2).decode())
    elif device is not None:
        from cli.render_snmp import render_device

        print(render_device(result.status, snapshot))
    else:
        print(render_poll(result.status, snapshot))
    return 0 if snapshot is not None else 1


def cmd_serve(args: argparse.Namespace) -> int:
    from ego.runtime import serve
    from mirror.inventory import InventoryError
    from mirror.inventory.secretfiles import secret_file_problems

    settings = _settings(args)
    inventory = load_inventory(settings.inventory_path)
    # A key or password file that is missing, unreadable or open to others: no host
    # using it could be polled, so EGO does not start saying "ok" (as `mirror check`).
    problems = secret_file_problems(settings.inventory_path)
    if problems:
        raise InventoryError(problems)
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


def cmd_db_info(args: argparse.Namespace) -> int:
    from cli.client import sqlite_file_exists
    from cli.control import say_if_empty
    from mirror.storage import Store
    from mirror.storage.info import describe

    settings = _settings(args)
    url = settings.database_url
    if url.startswith("sqlite") and not sqlite_file_exists(url):
        raise ConfigError(
            f"no database at {Settings.redacted_url(url)}: nothing has written there (EGO may "
            "keep its data elsewhere: set MIRROR_DATA_DIR or MIRROR_DATABASE_URL; a `mirror "
            "demo` is found when run from the folder it was started in)"
        )
    with Store.open(url) as store:
        info = describe(store)
    for line in info.lines():
        print(line)
    if not any(t.rows for t in info.tables if t.name in ("samples", "hosts")):
        say_if_empty(settings, "hosts or samples")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from ego.runtime import open_store

    settings = _settings(args)
    store = open_store(settings)
    store.close()
    print(f"database at {Settings.redacted_url(settings.database_url)} is up to date")
    return 0


def cmd_anomaly_score(args: argparse.Namespace) -> int:
    from cli.anomaly import run_score  # lazily: `mirror --help` stays fast

    return run_score(args)


def cmd_demo(args: argparse.Namespace) -> int:
    from ego.demo import run_demo

    asyncio.run(
        run_demo(hosts=args.hosts, port=args.port, sim_port=args.sim_port, snmp_port=args.snmp_port)
    )
    return 0


def _auth_service(args: argparse.Namespace) -> AuthService:
    from mirror.auth import AuthService
    from mirror.storage import Store

    # Not ego.runtime.open_store: that imports the poller and the API (half a second).
    settings = _settings(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.open(settings.database_url)
    store.upgrade()
    return AuthService(store.engine)


def cmd_user_add(args: argparse.Namespace) -> int:
    from cli.accounts import enrolment_text, read_new_password

    password = read_new_password(args.password_env)
    user = _auth_service(args).add_user(args.name, password, args.role, replace=args.reset)
    print(enrolment_text(user, qr=not args.no_qr))
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    for user in _auth_service(args).list_users():
        print(f"{user['name']}\t{user['role']}" + ("\tdisabled" if user["disabled"] else ""))
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    from cli.accounts import print_token

    expires = args.expires_days * 86400 if args.expires_days else None
    info, secret = _auth_service(args).create_token(
        args.name, args.scope, user=args.user, expires_in_s=expires
    )
    print_token(info, secret)
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    from cli.accounts import token_table

    print(token_table(_auth_service(args).list_tokens()))
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    info = _auth_service(args).revoke_token(args.id)
    print(f"token {info.id} ({info.name}) revoked")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
