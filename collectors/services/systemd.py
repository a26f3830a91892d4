"""systemd units: ``systemctl list-units`` (failed units) and ``systemctl show`` (the state
and restart count of the services the inventory names).

Source: systemctl(1), systemd 219+ (CentOS 7 and later). ``list-units`` prints
``UNIT LOAD ACTIVE SUB DESCRIPTION`` columns, a ``●`` (or ``*`` without UTF-8) before
units that are failed or not found, then a legend; with ``--plain --no-legend`` only the
rows. ``show -p Id,LoadState,ActiveState,SubState,NRestarts,Result UNIT...`` prints
``KEY=VALUE`` lines, one blank line between units. ``NRestarts`` exists since systemd 235
(absent before: the count is ``None``).
"""

from __future__ import annotations

from dataclasses import dataclass

from mirror.errors import ParseError
from mirror.model import series_name

LIST_FAILED = "systemctl list-units --failed --all --plain --no-legend --no-pager"
SHOW_PROPERTIES = "Id,LoadState,ActiveState,SubState,NRestarts,Result"
SHOW = f"systemctl show --no-pager -p {SHOW_PROPERTIES} -- {{units}}"
_LOAD_STATES = frozenset({"loaded", "not-found", "bad-setting", "error", "masked", "stub",
                          "merged"})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Unit:
    name: str
    load: str
    active: str
    sub: str
    description: str = ""
    restarts: int | None = None
    result: str | None = None


def parse_list(text: str) -> list[Unit]:
    units: list[Unit] = []
    for line in text.splitlines():
        parts = line.lstrip(" ●*").rstrip().split(None, 4)
        if not parts:
            if units:
                break  # the rows end with a blank line; the legend follows
            continue
        if parts[0] == "UNIT":
            continue
        if len(parts) < 4 or parts[1] not in _LOAD_STATES:
            raise ParseError(f"systemctl list-units line not understood: {line[:100]!r}")
        units.append(Unit(parts[0], parts[1], parts[2], parts[3], _at(parts, 4)))
    return units


def failed(units: list[Unit]) -> list[Unit]:
    return [u for u in units if u.active == "failed"]


def parse_show(text: str) -> list[Unit]:
    units: list[Unit] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if not props:
            continue
        if "Id" not in props or "ActiveState" not in props:
            raise ParseError(f"systemctl show block lacks Id/ActiveState: {block[:80]!r}")
        restarts = props.get("NRestarts", "")
        units.append(
            Unit(
                name=props["Id"],
                load=props.get("LoadState", ""),
                active=props["ActiveState"],
                sub=props.get("SubState", ""),
                restarts=int(restarts) if restarts.isdigit() else None,
                result=props.get("Result") or None,
            )
        )
    return units


def metrics(listed: list[Unit], watched: list[Unit]) -> dict[str, float]:
    """``services.failed`` (count), and per watched unit ``service.up[unit]`` (1 active,
    0 otherwise) and ``service.restarts[unit]``."""
    m: dict[str, float] = {"services.failed": float(len(failed(listed)))}
    for u in watched:
        m[series_name("service.up", u.name)] = 1.0 if u.active == "active" else 0.0
        if u.restarts is not None:
            m[series_name("service.restarts", u.name)] = float(u.restarts)
    return m


def _at(parts: list[str], i: int) -> str:
    return parts[i].strip() if len(parts) > i else ""
