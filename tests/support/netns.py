"""Run a command inside a network namespace the test creates, where only chosen 127.x answer.

Inside, lo carries 127.0.0.1/32 and the chosen addresses as /32s; the rest of the given
subnet is routed to lo without being local, so its echo requests vanish (a host that is
down), instead of the whole of 127/8 answering as it does outside.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def netns_available() -> str | None:
    """None when namespaces can be made here; else why not (the skip reason)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None:
        return "network namespaces need root, unshare and ip"
    probe = subprocess.run(
        ["unshare", "-n", "ip", "link", "set", "lo", "up"], capture_output=True, timeout=10
    )
    return None if probe.returncode == 0 else f"unshare -n failed: {probe.stderr.decode()}"


def run_in_netns(
    argv: Sequence[str],
    *,
    answering: Sequence[str],
    subnet: str,
    unprivileged: bool = False,
    drop_net_raw: bool = False,
    timeout_s: float = 30,
) -> subprocess.CompletedProcess[str]:
    reason = netns_available()
    if reason:
        pytest.skip(reason)
    setup = [
        "set -e",
        "ip link set lo up",
        "ip addr del 127.0.0.1/8 dev lo",
        "ip addr add 127.0.0.1/32 dev lo",
        *(f"ip addr add {shlex.quote(a)}/32 dev lo" for a in answering),
        f"ip route add {shlex.quote(subnet)} dev lo",
    ]
    if unprivileged:
        setup.append('sysctl -qw net.ipv4.ping_group_range="0 2147483647"')
    command = shlex.join(argv)
    if drop_net_raw:
        command = "setpriv --inh-caps=-net_raw --bounding-set=-net_raw " + command
    setup.append(f"exec {command}")
    return subprocess.run(
        ["unshare", "-n", "sh", "-c", "\n".join(setup)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def python(*args: str) -> list[str]:
    return [sys.executable, *args]
