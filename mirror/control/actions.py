"""Named actions: a command template whose parameters are checked before anything runs.

A parameter has a kind (``service``, ``package``, ``word``, ``integer``); a value that is
not of its kind is refused with a message naming the parameter. A value that passes is
still shell-quoted when put into the template, so no value can become shell syntax even if
a kind were too lax. Templates use ``{name}`` placeholders only (no attribute, index,
conversion or format spec).
"""

from __future__ import annotations

import re
import shlex
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mirror.errors import MirrorError

# systemd.unit(5): unit names are ASCII letters, digits, ":", "-", "_", ".", "\" and "@";
# "\" is left out (escaping is not needed to name a service) and so is a leading "-"
# (it would read as an option).
PARAM_KINDS: dict[str, tuple[re.Pattern[str], str]] = {
    "service": (
        re.compile(r"[A-Za-z0-9_][A-Za-z0-9:_.@-]{0,254}"),
        "a systemd unit name (letters, digits, ':', '_', '.', '@', '-')",
    ),
    "package": (
        re.compile(r"[a-z0-9][a-z0-9+.-]{0,127}"),
        "a package name (lower-case letters, digits, '+', '.', '-')",
    ),
    "word": (
        re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"),
        "a word (letters, digits, '_', '.', '-')",
    ),
    "integer": (re.compile(r"[0-9]{1,9}"), "a whole number"),
}


class ActionError(MirrorError):
    """An action that cannot run as asked (unknown, bad parameter, not confirmed)."""


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    command: str
    params: Mapping[str, str] = field(default_factory=dict)  # name -> kind
    sudo: bool = False
    confirm: bool = False  # the caller must say so explicitly (reboot)
    description: str = ""
    groups: tuple[str, ...] = ()  # offered to hosts in any of these; () = every SSH host

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "params": dict(self.params),
            "sudo": self.sudo,
            "confirm": self.confirm,
        }


BUILTIN_ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action(
            "service-status",
            "systemctl status --no-pager --lines=20 {service}",
            {"service": "service"},
            description="Show a systemd service's state and its last log lines",
        ),
        Action(
            "restart-service",
            "systemctl restart {service}",
            {"service": "service"},
            sudo=True,
            description="Restart a systemd service",
        ),
        Action(
            "reboot",
            "systemctl reboot",
            sudo=True,
            confirm=True,
            description="Reboot the host",
        ),
        Action(
            "upgradable",
            "apt list --upgradable",
            description="List packages with a newer version available (Debian, Ubuntu)",
        ),
        Action("disk-usage", "df -h", description="Disk usage per mount"),
    )
}


def placeholders(template: str) -> set[str]:
    """The ``{name}`` fields of ``template``; ValueError for anything fancier."""
    names = set()
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name) or spec or conversion:
            raise ValueError(f"placeholder {{{name}}} must be a plain {{name}}")
        names.add(name)
    return names


def check_param(name: str, kind: str, value: object) -> str:
    if kind not in PARAM_KINDS:
        raise ActionError(f"parameter {name!r} has unknown kind {kind!r}")
    pattern, what = PARAM_KINDS[kind]
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ActionError(f"parameter {name!r} must be {what}")
    text = str(value)
    if not pattern.fullmatch(text):
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise ActionError(f"parameter {name!r} must be {what}, got {shown!r}")
    return text


def render(action: Action, params: Mapping[str, object], *, confirmed: bool = False) -> str:
    """The command to run, or ActionError saying what is wrong with the request."""
    if action.confirm and not confirmed:
        raise ActionError(f"action {action.name!r} needs confirmation (confirm: true)")
    extra = sorted(set(params) - set(action.params))
    if extra:
        raise ActionError(f"action {action.name!r} takes no parameter {', '.join(extra)}")
    missing = sorted(set(action.params) - set(params))
    if missing:
        raise ActionError(f"action {action.name!r} needs parameter {', '.join(missing)}")
    values = {
        name: shlex.quote(check_param(name, kind, params[name]))
        for name, kind in action.params.items()
    }
    return action.command.format_map(values)


def offered_to(groups: Iterable[str], actions: Mapping[str, Action]) -> list[Action]:
    """The actions a host in ``groups`` is offered, by name."""
    mine = set(groups)
    return [a for _, a in sorted(actions.items()) if not a.groups or mine & set(a.groups)]


def inventory_actions(entries: Mapping[str, Any]) -> dict[str, Action]:
    """The built-in actions, with the inventory's ``actions:`` added or replacing them."""
    found = dict(BUILTIN_ACTIONS)
    for name, entry in entries.items():
        found[name] = Action(
            name,
            entry.command,
            dict(entry.params),
            sudo=entry.sudo,
            confirm=entry.confirm,
            description=entry.description,
            groups=tuple(entry.groups),
        )
    return found
