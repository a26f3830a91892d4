"""What ``inventory.yaml`` may say under ``alerts:`` and ``notify:``.

Validated with the rest of the inventory (same strict models, same ``file:line field:
message`` problems). A rule is one of five kinds, told apart by the key that names it:

- ``expr: "fs.used_pct[*] > 90"``: a threshold on a series (``[*]``/``[glob]`` matches
  instances), with ``recover:`` as the hysteresis (the value it must get back past);
- ``state: [unreachable, timeout]`` with ``ping: up|down|any``: the host's poll state, so
  "ping answers but SSH does not" is a different rule from "down" (both silent);
- ``absent_polls: 3``: no sample for that many poll intervals;
- ``trend: fs.used_pct[*]`` with ``reaches: 100`` and ``within: 7d``: the least-squares
  line (mirror.storage.trend) crosses a limit soon;
- ``anomaly: "cpu.busy_pct"`` with ``anomaly_rate:``: sustained anomaly (the detector is
  plugged in through :class:`mirror.alerts.conditions.AnomalySource`).

A rule named like a default (:mod:`mirror.alerts.defaults`) overrides only the keys it
gives; ``enabled: false`` switches it off.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from mirror.metrics_catalogue import NAMES as KNOWN_METRICS
from mirror.settings import parse_duration

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")
StateName = Literal[
    "unreachable", "timeout", "auth-failed", "hostkey-changed", "hostkey-unknown", "error"
]
KINDS = ("expr", "state", "absent_polls", "trend", "anomaly")
_NAME = re.compile(r"[A-Za-z0-9._-]+")
_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXPR = re.compile(r"^\s*([A-Za-z0-9_.]+)(\[[^\]]*\])?\s*(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")
_PATTERN = re.compile(r"^\s*([A-Za-z0-9_.]+)(\[[^\]]*\])?\s*$")


def did_you_mean(word: str, choices: list[str]) -> str:
    # As mirror.inventory.problems.did_you_mean; not imported: the inventory imports this.
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def seconds(value: object) -> float:
    """A duration: a number of seconds (0 allowed) or ``"90s"``, ``"5m"``, ``"7d"``…"""
    if isinstance(value, bool):
        raise ValueError("must be a duration such as 90s, 5m, 7d")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"must not be negative, got {value}")
        return float(value)
    if isinstance(value, str):
        if value.strip() == "0":
            return 0.0
        return parse_duration(value)
    raise ValueError("must be a duration such as 90s, 5m, 7d")


Duration = Annotated[float, BeforeValidator(seconds)]


def _name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(f"must be letters, digits, '.', '_' or '-', got {value!r}")
    return value


def _env(value: str) -> str:
    if not _ENV.fullmatch(value):
        raise ValueError("must be the name of an environment variable (letters, digits, _)")
    return value


Name = Annotated[str, AfterValidator(_name)]


@dataclass(frozen=True, slots=True)
class SeriesPattern:
    """``metric`` plus an instance glob; ``instance`` None: the series without ``[...]``."""

    metric: str
    instance: str | None

    def matches_instance(self, instance: str | None) -> bool:
        if self.instance is None:
            return instance is None
        return instance is not None and fnmatch.fnmatchcase(instance, self.instance)

    def __str__(self) -> str:
        return self.metric if self.instance is None else f"{self.metric}[{self.instance}]"


@dataclass(frozen=True, slots=True)
class Threshold:
    series: SeriesPattern
    op: str
    value: float


def _metric(metric: str) -> str:
    if metric not in KNOWN_METRICS:
        raise ValueError(f"unknown metric {metric!r}{did_you_mean(metric, sorted(KNOWN_METRICS))}")
    return metric


def parse_pattern(text: str) -> SeriesPattern:
    match = _PATTERN.match(text)
    if not match:
        raise ValueError(f"must be a series such as fs.used_pct[*], got {text!r}")
    inst = match.group(2)
    return SeriesPattern(_metric(match.group(1)), inst[1:-1] if inst else None)


def parse_expr(text: str) -> Threshold:
    """``"fs.used_pct[*] > 90"`` → ``Threshold``; ValueError naming the form otherwise."""
    match = _EXPR.match(text)
    if not match:
        raise ValueError(f"must be SERIES OP NUMBER such as 'fs.used_pct[*] > 90', got {text!r}")
    metric, inst, op, number = match.groups()
    return Threshold(
        SeriesPattern(_metric(metric), inst[1:-1] if inst else None), op, float(number)
    )


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)


class RuleEntry(_Model):
    name: Name
    enabled: bool = True
    expr: str | None = None
    recover: float | None = None
    per_core: bool = False  # divide the value by the host's core count (load per core)
    was_up: bool = False  # only instances seen at 1 or more before (a port that went down)
    state: list[StateName] | None = None
    ping: Literal["up", "down", "any"] = "any"
    absent_polls: Annotated[int, Field(ge=1)] | None = None
    trend: str | None = None
    reaches: float = 100.0
    within: Duration | None = None
    anomaly: str | None = None
    anomaly_rate: Annotated[float, Field(gt=0, le=1)] = 0.5
    for_s: Duration = Field(default=0.0, alias="for")
    keep_firing: Duration = 0.0
    severity: Severity = "warning"
    hosts: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    kinds: list[Literal["host", "snmp"]] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    summary: str | None = None

    @field_validator("expr")
    @classmethod
    def _expr(cls, value: str | None) -> str | None:
        if value is not None:
            parse_expr(value)
        return value

    @field_validator("trend", "anomaly")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            parse_pattern(value)
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        from mirror.alerts.defaults import DEFAULTS  # the defaults are built from this model

        base = DEFAULTS.get(self.name)
        given = [k for k in KINDS if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"a rule has one kind; this one gives {' and '.join(given)}")
        if not given and base is None and self.enabled:
            raise ValueError(f"says what to check with one of {', '.join(KINDS)}")
        kind = given[0] if given else None
        if kind == "trend" and self.within is None and (base is None or base.within is None):
            raise ValueError("a trend rule needs within: (how soon, e.g. 7d)")
        return self


class AlertsSection(_Model):
    evaluate_every_s: Annotated[float, Field(gt=0)] = 5.0
    history_days: Annotated[float, Field(gt=0)] = 90.0
    defaults: bool = True  # false: only the rules listed here
    rules: list[RuleEntry] = Field(default_factory=list)


class ChannelEntry(_Model):
    """A notification channel: an Apprise URL read from an env var or a file at send time."""

    url_env: Annotated[str, AfterValidator(_env)] | None = None
    url_file: str | None = None
    rate_per_min: Annotated[int, Field(ge=1)] = 20
    timeout_s: Annotated[float, Field(gt=0)] = 10.0

    @model_validator(mode="before")
    @classmethod
    def _no_url(cls, data: Any) -> Any:
        if isinstance(data, dict) and "url" in data:
            raise ValueError(
                "never put a channel URL in the inventory (it carries tokens); "
                "use url_env or url_file"
            )
        return data

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.url_env is None) == (self.url_file is None):
            raise ValueError("give exactly one of url_env or url_file")
        return self


class RouteEntry(_Model):
    channels: list[Name]
    severity: list[Severity] = Field(default_factory=list)  # empty: any
    groups: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    rules: list[str] = Field(default_factory=list)
    group_wait: Duration = 10.0
    repeat: Duration = 4 * 3600.0
    resolved: bool = True


class NotifySection(_Model):
    link_base: str | None = None  # "http://ego.lan:8480": messages link to the host page
    channels: dict[Name, ChannelEntry] = Field(default_factory=dict)
    routes: list[RouteEntry] = Field(default_factory=list)


def cross_check(
    data: Mapping[str, Any], group_names: list[str]
) -> list[tuple[tuple[Any, ...], str]]:
    """Rules that reach into the rest of the inventory: groups named, channels routed to."""
    found: list[tuple[tuple[Any, ...], str]] = []
    alerts = data.get("alerts")
    rules = alerts.get("rules") if isinstance(alerts, dict) else None
    seen: dict[str, int] = {}
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, dict):
            continue
        name = rule.get("name")
        if isinstance(name, str):
            if name in seen:
                message = (
                    f"duplicate rule name {name!r}: already used by alerts.rules[{seen[name]}]"
                )
                found.append((("alerts", "rules", i, "name"), message))
            seen.setdefault(name, i)
        for j, group in enumerate(rule.get("groups") or []):
            if isinstance(group, str) and group not in group_names:
                hint = did_you_mean(group, group_names)
                found.append(
                    (("alerts", "rules", i, "groups", j), f"unknown group {group!r}{hint}")
                )
    notify = data.get("notify")
    if isinstance(notify, dict):
        channels = notify.get("channels")
        names = (
            sorted(c for c in channels if isinstance(c, str)) if isinstance(channels, dict) else []
        )
        names.append("webpush")  # every browser subscribed to Web Push (notify/webpush.py)
        routes = notify.get("routes")
        for i, route in enumerate(routes if isinstance(routes, list) else []):
            targets = route.get("channels") if isinstance(route, dict) else None
            for j, channel in enumerate(targets if isinstance(targets, list) else []):
                if isinstance(channel, str) and channel not in names:
                    message = f"unknown channel {channel!r}{did_you_mean(channel, names)}"
                    found.append((("notify", "routes", i, "channels", j), message))
    return found
