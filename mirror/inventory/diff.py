"""What changed between two inventories, target by target (Prometheus reconciles by diff).

Pure functions: the schedulers use ``plan`` to decide which loops to start, stop or
restart, and the reload report (API answer, audit entry, log line) is built from the same
``InventoryChange``, so what is reported is what was done.

A loop is restarted only when what its connection depends on changed (address, local, the
merged SSH settings; for SNMP everything but groups, tags and MAC). Any other change
(groups, tags, MAC) is "updated": the loop and its connection stay, only its view of the
target is replaced.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from mirror.inventory.models import HostConfig, Inventory, SnmpDevice

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Plan:
    """Names, each in inventory order (new targets by the new file's order)."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    restarted: tuple[str, ...] = ()  # connection settings changed: loop and connection anew
    updated: tuple[str, ...] = ()  # identity only (groups, tags, MAC): loop kept

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.restarted or self.updated)


def plan(
    old: Mapping[str, T],
    new: Mapping[str, T],
    same_loop: Callable[[T, T], bool],
    *,
    restart_all: bool = False,
) -> Plan:
    """How to get from the targets in ``old`` to those in ``new`` (both keyed by name).

    ``restart_all``: every kept target that is not identical is restarted, and identical
    ones too (the poll cadence changed, which every loop was started with).
    """
    added = tuple(n for n in new if n not in old)
    removed = tuple(n for n in old if n not in new)
    restarted: list[str] = []
    updated: list[str] = []
    for name, target in new.items():
        before = old.get(name)
        if before is None:
            continue
        if restart_all or not same_loop(before, target):
            restarted.append(name)
        elif before != target:
            updated.append(name)
    return Plan(added, removed, tuple(restarted), tuple(updated))


def same_host_loop(a: HostConfig, b: HostConfig) -> bool:
    """True when ``b`` can keep ``a``'s loop and SSH connection (a new ``os:`` picks another
    host kind, so another REFLECTOR: a new loop)."""
    return (a.address, a.local, a.ssh, a.os) == (b.address, b.local, b.ssh, b.os)


def same_snmp_loop(a: SnmpDevice, b: SnmpDevice) -> bool:
    def loop_part(d: SnmpDevice) -> SnmpDevice:
        return dataclasses.replace(d, groups=(), tags=(), mac=None)

    return loop_part(a) == loop_part(b)


@dataclass(frozen=True, slots=True)
class InventoryChange:
    hosts: Plan
    snmp: Plan
    poll_changed: bool  # interval/timeout: every SSH loop restarts with the new cadence
    sections: tuple[str, ...]  # other top-level sections that changed (subnets, cables, …)

    @property
    def empty(self) -> bool:
        return self.hosts.empty and self.snmp.empty and not self.poll_changed and not self.sections

    @property
    def added(self) -> tuple[str, ...]:
        return self.hosts.added + self.snmp.added

    @property
    def removed(self) -> tuple[str, ...]:
        return self.hosts.removed + self.snmp.removed

    @property
    def restarted(self) -> tuple[str, ...]:
        return self.hosts.restarted + self.snmp.restarted

    @property
    def updated(self) -> tuple[str, ...]:
        return self.hosts.updated + self.snmp.updated

    def as_dict(self) -> dict[str, Any]:
        """What the API answers and the audit entry records: names only, never settings."""
        return {
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": list(self.restarted),
            "updated": list(self.updated),
            "poll_changed": self.poll_changed,
            "sections": list(self.sections),
        }

    def summary(self) -> str:
        if self.empty:
            return "no change"
        parts = [
            f"{label} {', '.join(names)}"
            for label, names in (
                ("added", self.added),
                ("removed", self.removed),
                ("restarted", self.restarted),
                ("updated", self.updated),
            )
            if names
        ]
        if self.poll_changed:
            parts.append("poll cadence changed")
        if self.sections:
            parts.append(f"changed {', '.join(self.sections)}")
        return "; ".join(parts)


_OTHER_SECTIONS = ("subnets", "cables", "actions", "groups", "defaults", "jobs")


def diff_inventories(old: Inventory, new: Inventory) -> InventoryChange:
    cadence = old.poll != new.poll
    hosts = plan(
        {h.name: h for h in old.hosts_resolved()},
        {h.name: h for h in new.hosts_resolved()},
        same_host_loop,
        restart_all=cadence,
    )
    snmp = plan(
        {d.name: d for d in old.snmp_resolved()},
        {d.name: d for d in new.snmp_resolved()},
        same_snmp_loop,
    )
    # groups and defaults only matter through the hosts' merged settings, compared above;
    # they are still named so the report says the file's section changed.
    sections = tuple(s for s in _OTHER_SECTIONS if getattr(old, s) != getattr(new, s))
    return InventoryChange(hosts, snmp, cadence, sections)
