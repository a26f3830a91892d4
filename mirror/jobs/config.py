"""What ``inventory.yaml`` may say under ``jobs:`` (issue 18).

A job is a command, or a named action with its parameters, run on targets (hosts, groups,
tags) on a schedule (a cron expression in a time zone, an interval, or once at a time; no
schedule: only when run by hand). Validated with the rest of the inventory, so a mistake is
a ``file:line field: message`` problem and a reload that finds one changes nothing::

    jobs:
      apt-update:
        command: apt-get update -q
        sudo: true
        targets: {groups: [servers]}
        schedule: {cron: "0 3 * * *", timezone: Europe/Berlin}
        concurrency: 5
        timeout: 10m
        retries: 1
        on_failure: [notify]
        misfire: run_once
        jitter: 2m
      nas-health:
        action: service-status
        params: {service: smartd}
        targets: {hosts: [nas]}
        schedule: {every: 6h}
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from mirror.alerts.config import Duration, did_you_mean

_NAME = re.compile(r"[A-Za-z0-9._-]+")
MIN_EVERY_S = 10.0
MAX_TIMEOUT_S = 24 * 3600.0
FailureStep = Literal["notify", "stop"]


def _name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(f"must be letters, digits, '.', '_' or '-', got {value!r}")
    return value


Name = Annotated[str, AfterValidator(_name)]


def zone(name: str) -> tzinfo:
    """The IANA time zone ``name`` (``Europe/Berlin``, ``UTC``); ValueError otherwise."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (an IANA name such as Europe/Berlin)"
        ) from None


def check_cron(expr: str, timezone: str = "UTC") -> str:
    """A five-field crontab expression (minute hour day month weekday); ValueError naming
    what is wrong (APScheduler's own parser decides, as it is what runs it)."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(
            f"cron must have 5 fields (minute hour day month weekday), got {len(fields)}: {expr!r}"
        )
    try:
        CronTrigger.from_crontab(expr, timezone=zone(timezone))
    except ValueError as exc:
        raise ValueError(f"invalid cron expression {expr!r}: {exc}") from None
    return expr


def _at(value: object) -> object:
    """``at:`` as YAML gives it: a timestamp (PyYAML reads an unquoted one as a datetime)
    or an ISO 8601 string."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"must be a date and time such as 2026-12-24T18:00:00, got {value!r}"
            ) from None
    return value


def _listed(value: object) -> object:
    return [value] if isinstance(value, str) else value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ScheduleEntry(_Model):
    """Exactly one of ``cron`` (with ``timezone``), ``every`` or ``at`` (one-off)."""

    cron: str | None = None
    every: Duration | None = None
    at: Annotated[datetime, BeforeValidator(_at)] | None = None
    timezone: str = "UTC"  # for cron, and for an ``at`` that names no offset

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        given = [k for k in ("cron", "every", "at") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of cron, every or at"
                + (f" (got {' and '.join(given)})" if given else "")
            )
        zone(self.timezone)
        if self.cron is not None:
            check_cron(self.cron, self.timezone)
        if self.every is not None and self.every < MIN_EVERY_S:
            raise ValueError(f"every must be at least {MIN_EVERY_S:g} s, got {self.every:g} s")
        return self

    def when(self) -> datetime | None:
        """``at`` with its time zone (the entry's ``timezone`` when it names none)."""
        if self.at is None:
            return None
        return (
            self.at if self.at.tzinfo is not None else self.at.replace(tzinfo=zone(self.timezone))
        )


class TargetsEntry(_Model):
    hosts: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _some(self) -> Self:
        if not (self.hosts or self.groups or self.tags):
            raise ValueError("name at least one of hosts, groups or tags")
        return self


STEP_KINDS = ("run", "check", "wake", "reboot")


class StepEntry(_Model):
    """One step of a job that waits (exactly one of ``run``, ``check``, ``wake``, ``reboot``):

    - ``run: CMD`` / ``check: CMD``: a command; a non-zero exit fails the target here;
    - ``wake: true``: Wake-on-LAN to the host, then wait (``wait``) until SSH answers;
    - ``reboot: true``: reboot (``systemctl reboot``, with ``sudo -n`` unless ``sudo: false``)
      under a maintenance window that silences the host's alerts, then wait (``wait``) until
      it is back (its uptime started again); the window closes when it is.
    """

    run: Annotated[str, Field(min_length=1, max_length=16_384)] | None = None
    check: Annotated[str, Field(min_length=1, max_length=16_384)] | None = None
    wake: bool | None = None
    reboot: bool | None = None
    wait: Duration = 300.0  # wake, reboot: how long the host may take to answer
    sudo: bool | None = None  # run, check: default false; reboot: default true

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        given = [k for k in STEP_KINDS if getattr(self, k) not in (None, False)]
        if len(given) != 1:
            named = f" (got {' and '.join(given)})" if given else ""
            raise ValueError(f"a step is exactly one of {', '.join(STEP_KINDS)}{named}")
        if self.wait <= 0:
            raise ValueError("wait must be positive")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in STEP_KINDS if getattr(self, k) not in (None, False))


class JobEntry(_Model):
    description: str = ""
    command: Annotated[str, Field(min_length=1, max_length=16_384)] | None = None
    action: str | None = None
    params: dict[str, str | int] = Field(default_factory=dict)
    confirm: bool = False  # an action that asks for confirmation (reboot) needs it here
    steps: list[StepEntry] = Field(default_factory=list)  # instead of command/action
    targets: TargetsEntry
    schedule: ScheduleEntry | None = None  # none: run only by hand (mirror jobs run NAME)
    concurrency: Annotated[int, Field(ge=1, le=1024)] = 8
    timeout: Duration = 600.0  # per target
    sudo: bool = False
    retries: Annotated[int, Field(ge=0, le=10)] = 0  # a failed target is tried again
    retry_delay: Duration = 30.0
    on_failure: Annotated[list[FailureStep], BeforeValidator(_listed)] = Field(default_factory=list)
    misfire: Literal["skip", "run_once"] = "run_once"
    misfire_grace: Duration = 60.0  # later than this is a missed run
    jitter: Duration = 0.0  # each run starts up to this much after its time
    owner: str | None = None  # who the runs are audited as (default "scheduler")
    enabled: bool = True

    @model_validator(mode="after")
    def _what(self) -> Self:
        given = [k for k in ("command", "action", "steps") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("give exactly one of command, action or steps")
        if self.params and self.action is None:
            raise ValueError("params are for an action; a command takes none")
        if not 0 < self.timeout <= MAX_TIMEOUT_S:
            raise ValueError(f"timeout must be > 0 and at most {MAX_TIMEOUT_S:g} s")
        return self


def cross_check(data: dict[str, Any], group_names: list[str]) -> list[tuple[tuple[Any, ...], str]]:
    """What reaches into the rest of the inventory: hosts, groups and tags targeted, and
    the action named with its parameters (checked as ``mirror action`` checks them)."""
    from mirror.control.actions import ActionError, render

    found: list[tuple[tuple[Any, ...], str]] = []
    jobs = data.get("jobs")
    if not isinstance(jobs, dict):
        return found
    hosts = [h for h in data.get("hosts") or [] if isinstance(h, dict)]
    host_names = sorted(h["name"] for h in hosts if isinstance(h.get("name"), str))
    tags = sorted({t for h in hosts for t in h.get("tags") or [] if isinstance(t, str)})
    actions = _actions(data.get("actions"))
    for name, job in jobs.items():
        if not isinstance(job, dict):
            continue
        targets = job.get("targets")
        if isinstance(targets, dict):
            for key, known, what in (
                ("hosts", host_names, "host"),
                ("groups", group_names, "group"),
                ("tags", tags, "tag on any host"),
            ):
                items = targets.get(key)
                for j, item in enumerate(items if isinstance(items, list) else []):
                    if isinstance(item, str) and item not in known:
                        message = f"unknown {what} {item!r}{did_you_mean(item, known)}"
                        found.append((("jobs", name, "targets", key, j), message))
        action = job.get("action")
        if not isinstance(action, str) or "command" in job:
            continue  # both: the model says to give one
        spec = actions.get(action)
        if spec is None:
            message = f"unknown action {action!r}{did_you_mean(action, sorted(actions))}"
            found.append((("jobs", name, "action"), message))
            continue
        params = job.get("params")
        if params is not None and not isinstance(params, dict):
            continue
        try:
            render(spec, params or {}, confirmed=job.get("confirm") is True)
        except ActionError as exc:
            at = "confirm" if "confirmation" in str(exc) else "params"
            found.append((("jobs", name, at), str(exc)))
    return found


def _actions(entries: object) -> dict[str, Any]:
    """The actions a job may name: built-in ones and the file's (raw entries that are valid
    enough to use; a broken one is reported by the actions section itself)."""
    from mirror.control.actions import BUILTIN_ACTIONS, Action

    found: dict[str, Any] = dict(BUILTIN_ACTIONS)
    for name, entry in (entries or {}).items() if isinstance(entries, dict) else ():
        if isinstance(entry, dict) and isinstance(entry.get("command"), str):
            params = entry.get("params") if isinstance(entry.get("params"), dict) else {}
            found[name] = Action(
                name,
                entry["command"],
                dict(params),
                sudo=entry.get("sudo") is True,
                confirm=entry.get("confirm") is True,
            )
    return found
