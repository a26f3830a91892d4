"""`mirror demo`: EGO on SQLite watching this machine and a simulated lab on loopback.

Nothing outside 127.0.0.0/8 is touched: the lab is an asyncssh simulator bound to
127.77.0.x, and the owner's inventory.yaml is never read.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from ego.runtime import open_store, serve
from lab import LabServer, SimHost, ensure_keys, lab_ssh, make_lab
from lab.demo_gear import SNMP_PORT, start_gear_or_note
from lab.gear import host_mac
from lab.room import demo_room
from mirror import demo_mark
from mirror.auth import AuthService
from mirror.auth.crypto import new_token
from mirror.inventory import load_inventory
from mirror.settings import Settings

log = logging.getLogger(__name__)

SIM_PORT = 22077
DEMO_USER = "demo"
DEMO_LINK_TTL_S = 3600
DEMO_TOKEN_NAME = "demo-read"  # the read token the demo prints (replaced each start)
FLAPPY_HOST_INDEX = 6  # one host goes down and comes back, "rebooted"


def demo_inventory(
    lab: Sequence[SimHost],
    client_key: Path,
    sim_port: int = SIM_PORT,
    gear: dict[str, Any] | None = None,
    room: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The lab as an inventory; ``gear`` adds the simulated switch and router (snmp, cables),
    ``room`` the placement and the hosts' cables (``lab.room.demo_room``)."""
    room = dict(room or {})
    gear = dict(gear or {})
    cables = [*gear.pop("cables", []), *room.pop("cables", [])]
    return {
        "poll": {"interval_s": 5, "timeout_s": 4, "slow_every_s": 30},
        "subnets": [{"name": "demo-lab", "cidr": "127.77.0.0/24"}],
        "defaults": {"ssh": lab_ssh(client_key, sim_port, user="demo")},
        "groups": {"lab": {}, "servers": {}, "workstations": {}, "ego": {}, "network": {}},
        "hosts": [
            {
                "name": "ego",
                "address": "127.0.0.1",
                "local": True,
                "groups": ["ego"],
                "tags": ["this-machine"],
            },
            *(
                {
                    "name": h.name,
                    "address": h.address,
                    "groups": ["lab", "servers" if i % 3 else "workstations"],
                    "tags": [h.profile],
                    "mac": host_mac(h),  # what the simulated switch and router list
                }
                for i, h in enumerate(lab)
            ),
        ],
        # The default alert rules are on (issue 12); the flappy host's 40 s outages fire
        # and resolve every two minutes with these shorter windows, so the demo shows them.
        "alerts": {
            "rules": [
                {"name": "ssh-unreachable", "for": "20s"},
                {"name": "host-down", "for": "20s"},
            ]
        },
        **gear,
        **({"cables": cables} if cables else {}),
        **room,
    }


async def run_demo(
    hosts: int = 24, port: int | None = None, sim_port: int = SIM_PORT, snmp_port: int = SNMP_PORT
) -> None:
    base = Settings.from_env()
    data_dir = Path(os.environ.get("MIRROR_DATA_DIR", demo_mark.DEMO_DIR)).resolve()
    settings = replace(
        base,
        data_dir=data_dir,
        database_url=os.environ.get("MIRROR_DATABASE_URL") or f"sqlite:///{data_dir / 'mirror.db'}",
        inventory_path=data_dir / "inventory.yaml",
        bind_port=port or base.bind_port,
        loopback_only=True,  # the demo stays on loopback whatever the user edits into its file
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    host_key, client_key, client_pub = ensure_keys(data_dir / "sim-keys")
    lab = make_lab(hosts)
    flappy = lab[FLAPPY_HOST_INDEX].name if len(lab) > FLAPPY_HOST_INDEX else None
    server = LabServer(lab, sim_port, host_key, client_pub, flappy=flappy)
    await server.start()
    gear, gear_text = await start_gear_or_note(lab, data_dir, snmp_port)
    room = demo_room(lab, gear.gear if gear else None)
    data = demo_inventory(lab, client_key, sim_port, gear.inventory() if gear else None, room)
    settings.inventory_path.write_text(
        "# Written by `mirror demo`: the simulated lab. Not the owner's inventory.\n"
        + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    )
    inventory = load_inventory(settings.inventory_path)  # with its lines: file:line findings
    url = f"http://{settings.bind_host}:{settings.bind_port}/"
    store = open_store(settings)
    try:
        auth = AuthService(store.engine)
        login_text = demo_login(auth, url)
        token_text = demo_token(auth, settings.data_dir, url)
    finally:
        store.close()
    mark = demo_mark.write(
        demo_mark.DemoMark(
            pid=os.getpid(),
            data_dir=str(data_dir),
            database_url=_without_password(settings.database_url),
            inventory=str(settings.inventory_path),
            bind_host=settings.bind_host,
            bind_port=settings.bind_port,
            web_url=url,
        )
    )
    print(
        f"\nMIRROR STAGE demo — this machine plus {len(lab)} simulated hosts on 127.77.0.0/24"
        + (f" ({flappy} goes down and comes back)" if flappy else "")
        + ".\n"
        f"  web UI      {url}\n"
        f"  API         {url}api/hosts   (OpenAPI: {url}schema)\n"
        f"  one host    mirror poll --host {lab[0].name} -i {settings.inventory_path}\n"
        f"{gear_text}"
        f"  topology    {url}api/topology\n"
        f"  room        {url}#/room   (one cable is documented on the wrong port:\n"
        f"              mirror cables check -i {settings.inventory_path})\n"
        f"  data        {data_dir}   (`mirror` run from {Path.cwd()} uses it: {mark.name})\n"
        f"{token_text}"
        f"{login_text}"
        "Ctrl-C stops it.\n",
        flush=True,
    )
    if threading.current_thread() is threading.main_thread():
        # SIGTERM (systemd, `timeout`, terminate()) stops as Ctrl-C does, so the finally
        # blocks run: the writer flushes and the snmpsim processes do not outlive the demo.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        await serve(settings, inventory)
    finally:
        demo_mark.remove(data_dir, os.getpid())
        await server.stop()
        if gear is not None:
            gear.stop()


def _without_password(url: str) -> str | None:
    """The URL when it holds no password (the demo's SQLite file); else None."""
    return url if Settings.redacted_url(url) == url else None


def demo_token(auth: AuthService, data_dir: Path, url: str) -> str:
    """A read-only API token for the demo's curl lines: the previous demo's is revoked, the
    new one printed and kept in DATA_DIR/api-token (mode 600) for `$(cat …)`."""
    for old in auth.list_tokens():
        if old.name == DEMO_TOKEN_NAME and old.revoked is None:
            auth.revoke_token(old.id)
    _, secret = auth.create_token(DEMO_TOKEN_NAME, "read")
    path = data_dir / demo_mark.TOKEN_FILE
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secret + "\n")
    try:
        shown = path.relative_to(Path.cwd())
    except ValueError:
        shown = path
    return (
        f"  API token   {secret}   (read-only; also in {shown})\n"
        f'              curl -H "Authorization: Bearer $(cat {shown})" {url}api/hosts\n'
    )


def demo_login(auth: AuthService, url: str) -> str:
    """(Re)create the demo account with a fresh password; say how to log in, plainly a demo."""
    password = new_token("demo-")[:17]
    user = auth.add_user(DEMO_USER, password, "admin", replace=True)
    link = auth.create_login_link(DEMO_USER, ttl_s=DEMO_LINK_TTL_S)
    return (
        "  log in      THIS IS A DEMO ACCOUNT (reset each time `mirror demo` starts):\n"
        f"              {url}api/auth/link?token={link}\n"
        "              (one-time link, valid 1 hour)\n"
        f"              or user {user.name!r}, password {password!r}, and a code from an\n"
        f"              authenticator given {user.totp_uri}\n"
    )
