"""The demo's room: two racks and two desks, and the patch cables, one of them documented on the
wrong port, so `mirror cables check` and the 3D room show a drift finding from the start. Pure.

Rack A holds the switch and the router at the top and the servers below them; rack B the
rest of the servers; workstations sit on the desks; EGO itself on a shelf. Every lab host's
cable to its switch port is documented (labels P-01…), except that ``WRONG_HOST``'s cable
names the port of the host after it, as a patch moved without updating the labels would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lab.gear import GearLab
from lab.model import SimHost

RACK_U = 42
SERVER_U = 2
WRONG_HOST_INDEX = 4  # lab-05: documented on lab-06's port


def _is_workstation(index: int) -> bool:
    return index % 3 == 0  # as ego.demo groups them


def demo_room(lab: Sequence[SimHost], gear: GearLab | None, ego: str = "ego") -> dict[str, Any]:
    """``sites:`` (and with ``gear``, the hosts' ``cables:``) for the demo inventory."""
    servers = [h.name for i, h in enumerate(lab) if not _is_workstation(i)]
    desks = [h.name for i, h in enumerate(lab) if _is_workstation(i)]
    # The top 8 U hold network gear and patching; servers share the two racks evenly.
    per_rack = min((RACK_U - 8) // SERVER_U, (len(servers) + 1) // 2)
    racks: list[dict[str, Any]] = []
    for r, name in enumerate(("rack-a", "rack-b")):
        devices: list[dict[str, Any]] = []
        if r == 0 and gear is not None:
            devices += [
                {"device": gear.switch.name, "u": RACK_U - 2},
                {"device": gear.router.name, "u": RACK_U - 4},
            ]
        chunk = servers[r * per_rack : (r + 1) * per_rack]
        devices += [
            {"device": n, "u": 2 + k * SERVER_U, "height_u": SERVER_U} for k, n in enumerate(chunk)
        ]
        racks.append(
            {
                "name": name,
                "position": {"x": 0.6 + r * 1.0, "y": 0.4},
                "height_u": RACK_U,
                "devices": devices,
            }
        )
    half = (len(desks) + 1) // 2
    places = [
        {"name": "desk-1", "kind": "desk", "position": {"x": 3.6, "y": 2.2},
         "devices": desks[:half]},
        {"name": "desk-2", "kind": "desk", "position": {"x": 3.6, "y": 3.4},
         "devices": desks[half:]},
        {"name": "shelf", "kind": "shelf", "position": {"x": 5.5, "y": 0.3, "z": 1.2},
         "devices": [ego]},
    ]  # fmt: skip
    room = {"name": "lab", "size": {"w": 6.0, "d": 4.5, "h": 2.6}, "racks": racks, "places": places}
    data: dict[str, Any] = {"sites": [{"name": "demo", "rooms": [room]}]}
    if gear is not None:
        data["cables"] = host_cables(lab, gear)
    return data


def host_cables(lab: Sequence[SimHost], gear: GearLab) -> list[dict[str, Any]]:
    cables = []
    for i, host in enumerate(lab):
        port = gear.host_ports.get(host.name)
        if port is None:
            continue
        if i == WRONG_HOST_INDEX and i + 1 < len(lab):
            port = gear.host_ports.get(lab[i + 1].name, port)
        cables.append(
            {
                "a": {"node": host.name, "port": "eth0"},
                "b": {"node": gear.switch.name, "port": port},
                "label": f"P-{i + 1:02d}",
                "type": "cat6",
                "colour": "yellow" if _is_workstation(i) else "blue",
            }
        )
    return cables
