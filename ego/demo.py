"""`mirror demo`: EGO on SQLite watching this machine and a simulated lab on loopback.

Nothing outside 127.0.0.0/8 is touched: the lab is an asyncssh simulator bound to
127.77.0.x, and the owner's inventory.yaml is never read.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from dataclasses import replace
from pathlib import Path

import yaml

from ego.runtime import open_store, serve
from lab import LabServer, ensure_keys, lab_ssh, make_lab
from lab.demo_gear import SNMP_PORT, start_gear_or_note
from lab.gear import host_mac
from lab.room import demo_room
from mirror.auth import AuthService
from mirror.auth.crypto import new_token
from mirror.inventory import load_inventory
from mirror.settings import Settings

log = logging.getLogger(__name__)

SIM_PORT = 22077
DEMO_USER = "demo"
DEMO_LINK_TTL_S = 3600
FLAPPY_HOST_INDEX = 6  # one host goes down and comes back, "rebooted"


def demo_inventory(lab, client_key: Path, sim_port: int = SIM_PORT, gear=None, room=None) -> dict:  # type: ignore[no-untyped-def]
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
    data_dir = Path(os.environ.get("MIRROR_DATA_DIR", ".mirror-demo")).resolve()
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
    login_text = demo_login(settings, url)
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
        f"              MIRROR_DATA_DIR={data_dir} mirror cables check "
        f"-i {settings.inventory_path})\n"
        f"  data        {data_dir}\n"
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
        await server.stop()
        if gear is not None:
            gear.stop()


def demo_login(settings: Settings, url: str) -> str:
    """(Re)create the demo account with a fresh password; say how to log in, plainly a demo."""
    store = open_store(settings)
    try:
        auth = AuthService(store.engine)
        password = new_token("demo-")[:17]
        user = auth.add_user(DEMO_USER, password, "admin", replace=True)
        link = auth.create_login_link(DEMO_USER, ttl_s=DEMO_LINK_TTL_S)
    finally:
        store.close()
    return (
        "  log in      THIS IS A DEMO ACCOUNT (reset each time `mirror demo` starts):\n"
        f"              {url}api/auth/link?token={link}\n"
        "              (one-time link, valid 1 hour)\n"
        f"              or user {user.name!r}, password {password!r}, and a code from an\n"
        f"              authenticator given {user.totp_uri}\n"
    )
