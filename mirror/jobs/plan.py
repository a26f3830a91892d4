"""From a ``jobs:`` entry to what runs (pure): the command, the targets, the trigger.

The targets are worked out at each run from the inventory of that moment, so a host added
to a group later is in the group's next run. The trigger is APScheduler's own (cron in the
entry's time zone, interval, or date), and ``schedule_key`` names what the trigger depends
on: the scheduler keeps a job's stored next run time while its key stays the same.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from mirror.control.actions import Action, render
from mirror.inventory.models import HostConfig
from mirror.jobs.config import JobEntry, ScheduleEntry, StepEntry, zone

SCHEDULER_ACTOR = "scheduler"


@dataclass(frozen=True, slots=True)
class JobPlan:
    name: str
    command: str  # the action rendered with its (checked, quoted) parameters
    sudo: bool
    entry: JobEntry

    @property
    def actor(self) -> str:
        """Who the job's runs are audited as: its owner, else the scheduler."""
        return self.entry.owner or SCHEDULER_ACTOR

    @property
    def what(self) -> str:
        """The audit action: ``job:<name>``."""
        return f"job:{self.name}"

    def detail(self) -> dict[str, object]:
        entry = self.entry
        detail: dict[str, object] = {"job": self.name, "command": self.command}
        if entry.action is not None:
            detail |= {"action": entry.action, "params": dict(entry.params)}
        return detail


def plan_job(name: str, entry: JobEntry, actions: Mapping[str, Action]) -> JobPlan:
    """The job as it runs; the inventory's validation already checked the action."""
    if entry.steps:
        command = "; ".join(f"[{i + 1}] {step_text(s)}" for i, s in enumerate(entry.steps))
        return JobPlan(name, command, entry.sudo, entry)
    if entry.action is None:
        assert entry.command is not None
        return JobPlan(name, entry.command, entry.sudo, entry)
    action = actions[entry.action]
    command = render(action, entry.params, confirmed=entry.confirm)
    return JobPlan(name, command, entry.sudo or action.sudo, entry)


def target_hosts(entry: JobEntry, hosts: Sequence[HostConfig]) -> tuple[str, ...]:
    """Host names the job is for, in inventory order, each once."""
    names, groups, tags = set(entry.targets.hosts), entry.targets.groups, entry.targets.tags
    return tuple(
        h.name
        for h in hosts
        if h.name in names or set(groups) & set(h.groups) or set(tags) & set(h.tags)
    )


def trigger(schedule: ScheduleEntry) -> BaseTrigger:
    if schedule.cron is not None:
        return CronTrigger.from_crontab(schedule.cron, timezone=zone(schedule.timezone))
    if schedule.every is not None:
        # Anchored at the epoch, so a restart or a reload keeps the same slots.
        start = datetime(1970, 1, 1, tzinfo=UTC)
        return IntervalTrigger(seconds=schedule.every, start_date=start, timezone=UTC)
    when = schedule.when()
    assert when is not None
    return DateTrigger(run_date=when)


def schedule_key(schedule: ScheduleEntry) -> str:
    """What the job's fire times depend on; the same key keeps the stored next run."""
    fields = schedule.model_dump(mode="json")
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def target_delay_s(job: str, host: str, jitter_s: float) -> float:
    """A target's own start delay within the job's ``jitter`` (a stable hash, not random:
    the same host keeps its place from run to run, and 50 hosts spread over the window)."""
    if jitter_s <= 0:
        return 0.0
    digest = hashlib.blake2b(f"{job}\0{host}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 * jitter_s


REBOOT_COMMAND = "systemctl reboot"
UPTIME_COMMAND = "cat /proc/uptime"  # answers again, and lower, once a host is back


def step_text(step: StepEntry) -> str:
    """A step in a few words: the audit detail, the stored result's command."""
    if step.run is not None:
        return f"run: {step.run}"
    if step.check is not None:
        return f"check: {step.check}"
    if step.wake:
        return f"wake, wait up to {step.wait:g} s"
    return f"reboot, wait up to {step.wait:g} s"


def parse_uptime(text: str) -> float | None:
    """Seconds since boot from ``/proc/uptime`` (``"350735.47 234388.90"``); None if not."""
    try:
        return float(text.split()[0])
    except (IndexError, ValueError):
        return None
