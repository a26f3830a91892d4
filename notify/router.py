"""Routes pick channels; groups turn a burst into one message (as Alertmanager's).

Pure bookkeeping, no I/O. A route's group collects every notifiable alert the route
matches. A new firing alert makes the group due ``group_wait`` later (so 254 hosts going
down together are one message, not 254); a resolved alert that was told makes it due too;
a group with alerts still firing is due again every ``repeat``. Each message lists every
alert firing in the group then, and those resolved since the last one.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

from mirror.alerts.config import RouteEntry
from mirror.alerts.engine import Notice
from mirror.alerts.evaluate import AlertKey, Transition


def matches(route: RouteEntry, t: Transition) -> bool:
    if route.severity and t.severity not in route.severity:
        return False
    if route.rules and not any(fnmatch.fnmatchcase(t.rule, r) for r in route.rules):
        return False
    if route.groups and not set(route.groups) & set(t.groups):
        return False
    return not (route.tags and not set(route.tags) & set(t.tags))


@dataclass(slots=True)
class Group:
    firing: dict[AlertKey, Notice] = field(default_factory=dict)
    told: set[AlertKey] = field(default_factory=set)
    resolved: dict[AlertKey, Notice] = field(default_factory=dict)
    due: float | None = None
    last_sent: float | None = None

    def update(
        self, route: RouteEntry, firing: list[Notice], resolved: list[Notice], now: float
    ) -> None:
        self.firing = {n.transition.key: n for n in firing if matches(route, n.transition)}
        new = self.firing.keys() - self.told
        for n in resolved:
            key = n.transition.key
            if key in self.told and matches(route, n.transition):
                self.told.discard(key)
                if route.resolved:
                    self.resolved[key] = n
        self.told &= self.firing.keys()  # silenced or acknowledged since: quietly dropped
        if (new or self.resolved) and self.due is None:
            self.due = now + route.group_wait
        if (
            self.due is None
            and self.firing
            and self.last_sent is not None
            and now - self.last_sent >= route.repeat
        ):
            self.due = now

    def take(self, now: float) -> tuple[list[Notice], list[Notice]] | None:
        """The message due now (firing, resolved), or None."""
        if self.due is None or now < self.due:
            return None
        firing = sorted(self.firing.values(), key=_order)
        resolved = sorted(self.resolved.values(), key=_order)
        self.told = set(self.firing)
        self.resolved = {}
        self.due = None
        self.last_sent = now
        if not firing and not resolved:
            return None
        return firing, resolved


def _order(n: Notice) -> tuple[str, str, str]:
    return n.transition.key
