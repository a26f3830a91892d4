"""`mirror install` / `mirror uninstall`: EGO as a systemd service.

``install`` makes a system user (``mirror-stage``, no shell, no home of its own), the config
folder ``/etc/mirror-stage`` (``mirror-stage.env`` with EGO's settings and a starter
``inventory.yaml``, both kept when already there), the data folder ``/var/lib/mirror-stage``
and the unit ``/etc/systemd/system/mirror-stage.service``, then enables and starts it. The
unit runs ``mirror serve`` as that user with ``CAP_NET_RAW`` as its only capability (ICMP),
logs to journald and is hardened (read-only system, no home folders, private /tmp and
devices, no new privileges…); only the data and config folders are writable.

``--dry-run`` prints every step and file instead of doing it; ``--root DIR`` writes the files
under DIR and runs nothing (image builds, and the tests). ``uninstall`` stops, disables and
removes the unit and keeps the data, the config and the user unless ``--purge``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from mirror.errors import ConfigError

SERVICE = "mirror-stage"
USER = "mirror-stage"
CONFIG_DIR = Path("/etc/mirror-stage")
DATA_DIR = Path("/var/lib/mirror-stage")
UNIT_DIR = Path("/etc/systemd/system")
UNIT_NAME = f"{SERVICE}.service"
ENV_NAME = f"{SERVICE}.env"
# Where ProtectHome= would hide the program itself (a venv in a home folder, pipx's default).
HOME_PREFIXES = ("/home/", "/root/", "/run/user/")

STARTER_INVENTORY = """\
# MIRROR STAGE inventory: the hosts EGO watches (README "Pointing it at a real lab").
# Check it with `mirror check /etc/mirror-stage/inventory.yaml`; EGO reloads it on save.
hosts: []
"""


@dataclass
class Plan:
    """What install or uninstall does: files to write, paths to remove, commands to run."""

    files: list[tuple[Path, str, int]] = field(default_factory=list)  # path, text, mode
    folders: list[tuple[Path, int]] = field(default_factory=list)  # made, owned by USER
    kept: list[Path] = field(default_factory=list)  # already there: left as they are
    remove: list[Path] = field(default_factory=list)
    first: list[list[str]] = field(default_factory=list)  # commands before the files
    then: list[list[str]] = field(default_factory=list)  # and after them
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        out = ["run " + " ".join(command) for command in self.first]
        for path, mode in self.folders:
            out.append(f"mkdir -m {mode:o} {path} (owner {USER})")
        for path in self.kept:
            out.append(f"keep {path} (already there)")
        for path, text, mode in self.files:
            out.append(f"write {path} (mode {mode:o}):")
            out += [f"    {line}" for line in text.splitlines()]
        out += [f"remove {path}" for path in self.remove]
        out += ["run " + " ".join(command) for command in self.then]
        out += [f"note: {note}" for note in self.notes]
        return "\n".join(out)


def program() -> list[str]:
    """How the unit starts this installation's ``mirror`` (the venv's script, not a PATH
    lookup: the service sees neither the caller's PATH nor a shell)."""
    script = Path(sys.executable).parent / "mirror"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "cli"]


def unit(exec_start: list[str], *, protect_home: str = "yes") -> str:
    """The systemd unit (``systemd-analyze verify`` passes it: tests/test_install.py)."""
    command = " ".join(exec_start)
    return f"""\
[Unit]
Description=MIRROR STAGE EGO: agentless LAN monitor (poller, API and web UI)
After=network-online.target
Wants=network-online.target

[Service]
Type=exec
User={USER}
Group={USER}
EnvironmentFile={CONFIG_DIR / ENV_NAME}
ExecStart={command} serve
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=5
WorkingDirectory={DATA_DIR}
StandardOutput=journal
StandardError=journal
SyslogIdentifier={SERVICE}
UMask=0027
# ICMP ping without root: one capability, nothing else.
AmbientCapabilities=CAP_NET_RAW
CapabilityBoundingSet=CAP_NET_RAW
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome={protect_home}
ReadWritePaths={DATA_DIR} {CONFIG_DIR}
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
SystemCallArchitectures=native
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK

[Install]
WantedBy=multi-user.target
"""


def env_file(bind: str, port: int) -> str:
    return f"""\
# EGO's settings (README "Configuration reference"); `systemctl restart {SERVICE}` applies them.
MIRROR_DATA_DIR={DATA_DIR}
MIRROR_INVENTORY={CONFIG_DIR / "inventory.yaml"}
# Beyond loopback EGO serves HTTPS with a CA of its own (trust it from https://EGO:{port}/ca).
MIRROR_BIND={bind}
MIRROR_PORT={port}
"""


def install_plan(root: Path, bind: str, port: int, inventory: Path | None) -> Plan:
    plan = Plan()
    exec_start = program()
    protect_home = "yes"
    if exec_start[0].startswith(HOME_PREFIXES):
        protect_home = "read-only"
        plan.notes.append(
            f"{exec_start[0]} is in a home folder: ProtectHome=read-only (not yes) so the "
            "service can run it; install into /opt (python3 -m venv /opt/mirror-stage) to "
            "hide home folders from EGO entirely"
        )
    if root == Path("/") and not _run_ok(["getent", "passwd", USER], root):
        plan.first.append(
            [
                *("useradd", "--system", "--user-group", "--home-dir", str(DATA_DIR)),
                *("--no-create-home", "--shell", "/usr/sbin/nologin", USER),
            ]
        )
    plan.folders += [(CONFIG_DIR, 0o750), (DATA_DIR, 0o750)]
    env_path = CONFIG_DIR / ENV_NAME
    if _exists(root, env_path):
        plan.kept.append(env_path)
    else:
        plan.files.append((env_path, env_file(bind, port), 0o640))
    inventory_path = CONFIG_DIR / "inventory.yaml"
    if _exists(root, inventory_path):
        plan.kept.append(inventory_path)
    else:
        text = inventory.read_text() if inventory is not None else STARTER_INVENTORY
        plan.files.append((inventory_path, text, 0o640))
    plan.files.append((UNIT_DIR / UNIT_NAME, unit(exec_start, protect_home=protect_home), 0o644))
    plan.then += [["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", SERVICE]]
    plan.notes.append(
        f"a web account: sudo -u {USER} sh -c 'set -a; . {env_path}; exec "
        f"{' '.join(exec_start)} user add NAME'; logs: journalctl -u {SERVICE}"
    )
    return plan


def uninstall_plan(root: Path, purge: bool) -> Plan:
    plan = Plan()
    plan.first.append(["systemctl", "disable", "--now", SERVICE])
    plan.remove.append(UNIT_DIR / UNIT_NAME)
    plan.then.append(["systemctl", "daemon-reload"])
    if purge:
        plan.remove += [DATA_DIR, CONFIG_DIR]
        if root == Path("/") and _run_ok(["getent", "passwd", USER], root):
            plan.then.append(["userdel", USER])
    else:
        plan.notes.append(f"kept {DATA_DIR}, {CONFIG_DIR} and the user {USER} (--purge: remove)")
    return plan


def apply(plan: Plan, root: Path) -> None:
    """Do ``plan`` under ``root``; outside ``/``, files only (no user, no systemctl)."""
    real = root == Path("/")
    if real and os.geteuid() != 0:
        raise ConfigError("mirror install/uninstall changes the system: run it as root")
    if real:
        for command in plan.first:  # the user (folders are given to it); stopping the unit
            _run(command, tolerate=command[:2] == ["systemctl", "disable"])
    for folder, mode in plan.folders:
        target = _under(root, folder)
        target.mkdir(parents=True, exist_ok=True)
        os.chmod(target, mode)
        if real:
            shutil.chown(target, USER, USER)
    for path, text, mode in plan.files:
        target = _under(root, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        os.chmod(target, mode)
        if real and path.parent == CONFIG_DIR:
            # The service edits its inventory (adopt, admin pages); its settings it only reads.
            shutil.chown(target, "root" if path.name == ENV_NAME else USER, USER)
    for path in plan.remove:
        target = _under(root, path)
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    if real:
        for command in plan.then:
            _run(command)


def cmd_install(args: argparse.Namespace) -> int:
    root = Path(args.root or "/")
    if args.inventory is not None and not args.inventory.is_file():
        raise ConfigError(f"{args.inventory}: no such file")
    plan = install_plan(root, args.bind, args.port, args.inventory)
    return _finish(plan, root, args.dry_run, "installed")


def cmd_uninstall(args: argparse.Namespace) -> int:
    root = Path(args.root or "/")
    return _finish(uninstall_plan(root, args.purge), root, args.dry_run, "uninstalled")


def _finish(plan: Plan, root: Path, dry_run: bool, done: str) -> int:
    if dry_run:
        print(plan.render())
        return 0
    apply(plan, root)
    for note in plan.notes:
        print(f"mirror: {note}")
    print(f"mirror: {SERVICE} {done}" + ("" if root == Path("/") else f" under {root}"))
    return 0


def add_install_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("install", help="set EGO up as a systemd service (own user, hardened)")
    p.add_argument("--bind", default="0.0.0.0", help="MIRROR_BIND for the service (0.0.0.0)")
    p.add_argument("--port", type=int, default=8077, help="MIRROR_PORT for the service (8077)")
    p.add_argument("--inventory", type=Path, help="copy this inventory (default: an empty starter)")
    _common(p)
    p.set_defaults(func=cmd_install)
    p = sub.add_parser("uninstall", help="stop and remove the service (data kept)")
    p.add_argument("--purge", action="store_true", help="also remove data, config and the user")
    _common(p)
    p.set_defaults(func=cmd_uninstall)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true", help="print what it would do, do nothing")
    p.add_argument(
        "--root", type=Path, help="write the files under this folder and run nothing (images)"
    )


def _under(root: Path, path: Path) -> Path:
    return root / path.relative_to("/")


def _exists(root: Path, path: Path | str) -> bool:
    return _under(root, Path(path)).exists()


def _run_ok(command: list[str], root: Path) -> bool:
    if root != Path("/") or shutil.which(command[0]) is None:
        return False
    return subprocess.run(command, capture_output=True).returncode == 0


def _run(command: list[str], *, tolerate: bool = False) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0 and not tolerate:
        raise ConfigError(f"{' '.join(command)}: {done.stderr.strip() or done.returncode}")
