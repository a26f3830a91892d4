"""Silences (matchers with an expiry, who and why) and recurring maintenance windows.

A matcher is ``label: glob``: labels are ``alertname``, ``host``, ``instance``,
``severity``, ``group`` (any of the host's groups matches), ``tag`` and the rule's own
labels. A silenced alert is still evaluated, stored and shown; it is only not notified.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Weekly:
    """Every ``days`` at ``start_min`` minutes after 00:00 UTC, for ``duration_s``."""

    days: tuple[int, ...]  # 0 = Monday
    start_min: int
    duration_s: float

    def covers(self, now: float) -> bool:
        moment = datetime.fromtimestamp(now, UTC)
        minute_of_week = moment.weekday() * 1440 + moment.hour * 60 + moment.minute
        into_s = moment.second + moment.microsecond / 1e6
        for day in self.days:
            start = day * 1440 + self.start_min
            offset_s = ((minute_of_week - start) % (7 * 1440)) * 60 + into_s
            if offset_s < self.duration_s:
                return True
        return False


def parse_weekly(days: Sequence[str], start: str, duration_s: float) -> Weekly:
    """``(["sat", "sun"], "02:00", 7200)`` → ``Weekly``; ValueError naming the mistake."""
    indices = []
    for day in days:
        if day.lower()[:3] not in DAYS:
            raise ValueError(f"unknown day {day!r}; use mon … sun")
        indices.append(DAYS.index(day.lower()[:3]))
    try:
        hours, minutes = (int(p) for p in start.split(":"))
    except ValueError:
        raise ValueError(f"start must be HH:MM (UTC), got {start!r}") from None
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ValueError(f"start must be HH:MM (UTC), got {start!r}")
    if duration_s <= 0:
        raise ValueError("duration must be positive")
    return Weekly(tuple(indices), hours * 60 + minutes, duration_s)


@dataclass(frozen=True, slots=True)
class Silence:
    id: int
    matchers: dict[str, str]
    starts: float
    ends: float
    created_by: str
    comment: str
    weekly: Weekly | None = None  # a recurring maintenance window inside [starts, ends)
    extra: dict[str, str] = field(default_factory=dict)

    def active(self, now: float) -> bool:
        if not self.starts <= now < self.ends:
            return False
        return self.weekly is None or self.weekly.covers(now)

    def matches(
        self, labels: Mapping[str, str], groups: Iterable[str], tags: Iterable[str]
    ) -> bool:
        for key, pattern in self.matchers.items():
            if key == "group":
                if not any(fnmatch.fnmatchcase(g, pattern) for g in groups):
                    return False
            elif key == "tag":
                if not any(fnmatch.fnmatchcase(t, pattern) for t in tags):
                    return False
            elif not fnmatch.fnmatchcase(labels.get(key, ""), pattern):
                return False
        return True


def silenced_by(
    silences: Iterable[Silence],
    labels: Mapping[str, str],
    groups: Iterable[str],
    tags: Iterable[str],
    now: float,
) -> Silence | None:
    groups, tags = tuple(groups), tuple(tags)
    for silence in silences:
        if silence.active(now) and silence.matches(labels, groups, tags):
            return silence
    return None
