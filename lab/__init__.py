"""A lab of simulated Linux hosts on loopback that speak SSH and the REFLECTOR protocol.

Used by ``mirror demo``, the scale benchmark and tests.  Every address is in 127.0.0.0/8;
anything else is refused with ValueError.

    hosts = make_lab(254, start=1)
    host_key, client_key, client_pub = ensure_keys(data_dir / "sim-keys")
    lab = LabServer(hosts, 2222, host_key, client_pub, flappy=hosts[3].name)
    await lab.start()
"""

from lab.model import PROFILES, HostModel, SimHost, check_loopback, make_lab
from lab.server import REFLECTOR_MARKER, LabServer, ensure_keys, lab_inventory, lab_ssh

__all__ = [
    "PROFILES",
    "REFLECTOR_MARKER",
    "HostModel",
    "LabServer",
    "SimHost",
    "check_loopback",
    "ensure_keys",
    "lab_inventory",
    "lab_ssh",
    "make_lab",
]
