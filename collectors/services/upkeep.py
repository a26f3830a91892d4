"""Upkeep: is a reboot pending, how many updates are waiting (where cheap to read).

* Reboot: Debian/Ubuntu write ``/run/reboot-required`` (and ``.pkgs``, the packages
  asking) from their packages' postinst scripts; the REFLECTOR reports the files' text.
  Fedora/RHEL: ``needs-restarting -r`` exits 1 when a reboot is needed (0 when not).
* Updates: ``apt-get -s -o Debug::NoLocking=true upgrade`` simulates an upgrade without
  root or the lock (reading the lists ``apt update`` last fetched, nothing downloaded)
  and prints one ``Inst PKG [OLD] (NEW SOURCES [ARCH])`` line per package; a source
  naming ``-security`` marks a security update. ``-qq`` output has the same lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

APT_SIMULATE = "apt-get -s -o Debug::NoLocking=true upgrade"
REBOOT_FILES = ("/run/reboot-required", "/run/reboot-required.pkgs")
NEEDS_RESTARTING = "needs-restarting -r"
_INST = re.compile(r"^Inst (\S+)(?: \[([^\]]*)\])? \(([^ ]+) ([^\[]*)\[")


@dataclass(frozen=True, slots=True)
class Updates:
    total: int
    security: int
    packages: tuple[str, ...]


def parse_apt(text: str) -> Updates:
    names: list[str] = []
    security = 0
    for line in text.splitlines():
        m = _INST.match(line)
        if m is None:
            continue
        names.append(m.group(1))
        if "-security" in m.group(4).lower():
            security += 1
    return Updates(len(names), security, tuple(names))


def reboot_pending(files: dict[str, str], needs_restarting_status: int | None = None) -> bool:
    if REBOOT_FILES[0] in files:
        return True
    return needs_restarting_status == 1


def reboot_packages(files: dict[str, str]) -> list[str]:
    text = files.get(REBOOT_FILES[1], "")
    return sorted({line.strip() for line in text.splitlines() if line.strip()})


def metrics(updates: Updates | None, reboot: bool | None) -> dict[str, float]:
    m: dict[str, float] = {}
    if updates is not None:
        m["updates.pending"] = float(updates.total)
        m["updates.security"] = float(updates.security)
    if reboot is not None:
        m["reboot.pending"] = 1.0 if reboot else 0.0
    return m
