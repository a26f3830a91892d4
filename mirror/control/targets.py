"""Which hosts a command is for: named hosts, groups, or both (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mirror.errors import ConfigError
from mirror.inventory import HostConfig


def select_hosts(
    hosts: Sequence[HostConfig], names: Iterable[str] = (), groups: Iterable[str] = ()
) -> tuple[str, ...]:
    """Host names in inventory order, each once; ConfigError naming what is unknown."""
    names = [n.strip() for item in names for n in item.split(",") if n.strip()]
    groups = [g.strip() for item in groups for g in item.split(",") if g.strip()]
    known = {h.name for h in hosts}
    known_groups = {g for h in hosts for g in h.groups}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"no host named {', '.join(map(repr, unknown))} in the inventory")
    unknown = [g for g in groups if g not in known_groups]
    if unknown:
        raise ConfigError(f"no host is in group {', '.join(map(repr, unknown))}")
    if not names and not groups:
        raise ConfigError("name at least one host or group")
    wanted, in_groups = set(names), set(groups)
    return tuple(h.name for h in hosts if h.name in wanted or in_groups & set(h.groups))


def summary(states: Iterable[str]) -> str:
    """``"3 ok, 1 failed"``: the result line of a run in the audit log."""
    counts: dict[str, int] = {}
    for state in states:
        counts[state] = counts.get(state, 0) + 1
    return ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "no hosts"
