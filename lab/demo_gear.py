"""The demo's switch and router: write their snmpsim data, serve it on loopback, list them.

Each device gets its own snmpsim process bound to its own 127.77.0.x address, so an address
answers as one device only; both answer one community, made fresh each start and kept in a
0600 file that the inventory names by reference (``community_file``).
"""

from __future__ import annotations

import asyncio
import atexit
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab import SimHost, wave
from lab.gear import WAVE, GearLab, make_gear
from lab.snmpsim import SnmpSim
from mirror.errors import ConfigError

SNMP_PORT = 16161  # unprivileged: the demo need not run as root
GEAR_DIR = "gear"
UPLINK_LABEL = "uplink U-1 (patch panel A-01)"


@dataclass
class RunningGear:
    gear: GearLab
    community_file: Path
    port: int
    sims: list[SnmpSim]

    def inventory(self) -> dict[str, Any]:
        """The inventory's ``snmp:`` and ``cables:`` for the gear (secrets by reference)."""
        switch_port, router_port = self.gear.uplink
        return {
            "snmp": [
                {
                    "name": g.name,
                    "address": g.address,
                    "port": self.port,
                    "community_file": str(self.community_file),
                    "groups": ["network"],
                    "tags": ["simulated", kind],
                    "mac": g.chassis_mac,
                }
                for g, kind in ((self.gear.router, "router"), (self.gear.switch, "switch"))
            ],
            "cables": [
                {
                    "a": {"node": self.gear.router.name, "port": router_port},
                    "b": {"node": self.gear.switch.name, "port": switch_port},
                    "label": UPLINK_LABEL,
                }
            ],
        }

    def stop(self) -> None:
        for sim in self.sims:
            sim.stop()


def write_gear(gear: GearLab, root: Path) -> tuple[Path, dict[str, Path]]:
    """``root/community``, ``root/modules/wave.py`` (snmpsim's variation module) and one data
    dir per device; what was there before is replaced."""
    shutil.rmtree(root, ignore_errors=True)
    (root / "modules").mkdir(parents=True)
    shutil.copyfile(wave.__file__, root / "modules" / f"{WAVE}.py")
    community = "demo-" + secrets.token_hex(6)
    community_file = root / "community"
    community_file.touch(mode=0o600)
    community_file.write_text(community + "\n")
    dirs = {}
    for device in (gear.switch, gear.router):
        data = root / device.name
        data.mkdir()
        (data / f"{community}.snmprec").write_text(device.snmprec)
        dirs[device.name] = data
    return community_file, dirs


async def start_gear(lab: Sequence[SimHost], data_dir: Path, port: int = SNMP_PORT) -> RunningGear:
    """Serve the lab's switch and router; raises ConfigError when snmpsim cannot start."""
    gear = make_gear(lab)
    community_file, dirs = write_gear(gear, data_dir / GEAR_DIR)
    modules = data_dir / GEAR_DIR / "modules"
    sims = [
        SnmpSim(dirs[g.name], [(g.address, port)], variation_dir=modules)
        for g in (gear.switch, gear.router)
    ]
    results = await asyncio.gather(
        *(asyncio.to_thread(sim.start) for sim in sims), return_exceptions=True
    )
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:
        for sim in sims:
            sim.stop()
        raise failed[0]
    running = RunningGear(gear, community_file, port, sims)
    atexit.register(running.stop)  # snmpsim runs in its own session: never leave it behind
    return running


async def start_gear_or_note(
    lab: Sequence[SimHost], data_dir: Path, port: int = SNMP_PORT
) -> tuple[RunningGear | None, str]:
    """The running gear and the demo's banner line for it; without snmpsim, a line saying why."""
    try:
        gear = await start_gear(lab, data_dir, port)
    except ConfigError as e:
        return None, f"  gear        not started ({e}); the hosts run without a switch\n"
    s, r = gear.gear.switch, gear.gear.router
    return gear, (
        f"  gear        {s.name} {s.address} and {r.name} {r.address} "
        f"(SNMP v2c, UDP port {port}, served by snmpsim)\n"
    )
