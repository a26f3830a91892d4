"""`mirror demo`: EGO on SQLite watching this machine and a simulated lab on loopback.

Nothing outside 127.0.0.0/8 is touched: the lab is an asyncssh simulator bound to
127.77.0.x, and the owner's inventory.yaml is never read.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path

import yaml

from mirror.inventory import Inventory
from mirror.runtime import serve
from mirror.settings import Settings
from mirror.sim import LabServer, ensure_keys, make_lab

log = logging.getLogger(__name__)

SIM_PORT = 22077
FLAPPY_HOST_INDEX = 6  # one host goes down and comes back, "rebooted"


def demo_inventory(lab, client_key: Path) -> dict:  # type: ignore[no-untyped-def]
    return {
        "poll": {"interval_s": 5, "timeout_s": 4, "slow_every_s": 30},
        "subnets": [{"name": "demo-lab", "cidr": "127.77.0.0/24"}],
        "defaults": {
            "ssh": {
                "user": "demo",
                "port": SIM_PORT,
                "key_file": str(client_key),
                "agent": False,
                # The simulator makes its key on first run: record it, as a newcomer would.
                "trust_on_first_use": True,
            }
        },
        "groups": {"lab": {}, "servers": {}, "workstations": {}, "ego": {}},
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
                }
                for i, h in enumerate(lab)
            ),
        ],
    }


async def run_demo(hosts: int = 24, port: int | None = None) -> None:
    base = Settings.from_env()
    data_dir = Path(os.environ.get("MIRROR_DATA_DIR", ".mirror-demo")).resolve()
    settings = replace(
        base,
        data_dir=data_dir,
        database_url=os.environ.get("MIRROR_DATABASE_URL") or f"sqlite:///{data_dir / 'mirror.db'}",
        inventory_path=data_dir / "inventory.yaml",
        bind_port=port or base.bind_port,
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    host_key, client_key, client_pub = ensure_keys(data_dir / "sim-keys")
    lab = make_lab(hosts)
    flappy = lab[FLAPPY_HOST_INDEX].name if len(lab) > FLAPPY_HOST_INDEX else None
    server = LabServer(lab, SIM_PORT, host_key, client_pub, flappy=flappy)
    await server.start()
    data = demo_inventory(lab, client_key)
    settings.inventory_path.write_text(
        "# Written by `mirror demo`: the simulated lab. Not the owner's inventory.\n"
        + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    )
    inventory = Inventory.from_dict(data, source=str(settings.inventory_path))
    url = f"http://{settings.bind_host}:{settings.bind_port}/"
    print(
        f"\nMIRROR STAGE demo — this machine plus {len(lab)} simulated hosts on 127.77.0.0/24"
        f" ({flappy} goes down and comes back).\n"
        f"  web UI      {url}\n"
        f"  API         {url}api/hosts   (OpenAPI: {url}schema)\n"
        f"  one host    mirror poll --host {lab[0].name} -i {settings.inventory_path}\n"
        f"  data        {data_dir}\n"
        "Ctrl-C stops it.\n",
        flush=True,
    )
    try:
        await serve(settings, inventory)
    finally:
        await server.stop()
