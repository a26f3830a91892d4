"""The files an inventory names for secrets (``key_file``, ``password_file``): do they exist,
can EGO read them, and are they kept from other users? Each problem at its ``file:line``.

Checked by ``mirror check`` and before ``mirror serve`` starts, on the file the inventory is
read from (not on every load: `mirror adopt` or an alert command need no key). A key that
group or others may read is refused as OpenSSH refuses it ("UNPROTECTED PRIVATE KEY FILE").
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import yaml

from mirror.inventory.problems import Loc, Problem, field_path, line_for
from mirror.inventory.yamlfile import key_lines

SECRET_FILE_KEYS = ("key_file", "password_file")


def file_problem(path: Path) -> str | None:
    """Why ``path`` cannot serve as a secret file, or None when it can."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return f"{path}: no such file"
    except OSError as exc:
        return f"{path}: {exc.strerror or exc}"
    if not stat.S_ISREG(info.st_mode):
        return f"{path}: not a regular file"
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        mode = stat.S_IMODE(info.st_mode)
        return f"{path} may be read by others (mode {mode:o}): `chmod 600 {path}`"
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        return f"{path}: cannot read: {exc.strerror or exc}"
    return None


def secret_file_problems(path: Path) -> list[Problem]:
    """Every secret file the inventory at ``path`` names that is missing, unreadable or
    readable by others. Call it on an inventory that loads (``check_file`` is empty)."""
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    lines = key_lines(text)
    base = path.absolute().parent
    problems = []
    for loc, ssh in _ssh_blocks(data):
        for key in SECRET_FILE_KEYS:
            value = ssh.get(key)
            if not isinstance(value, str):
                continue
            file = Path(value).expanduser()
            file = file if file.is_absolute() else base / file
            message = file_problem(file)
            if message is not None:
                at = (*loc, key)
                problems.append(Problem(str(path), line_for(lines, at), field_path(at), message))
    return sorted(problems, key=lambda p: p.line or 0)


def _ssh_blocks(data: Any) -> list[tuple[Loc, dict[str, Any]]]:
    """(location, ssh mapping) of defaults, each group and each host."""
    found: list[tuple[Loc, dict[str, Any]]] = []
    if not isinstance(data, dict):
        return found

    def add(loc: Loc, entry: Any) -> None:
        if isinstance(entry, dict) and isinstance(entry.get("ssh"), dict):
            found.append(((*loc, "ssh"), entry["ssh"]))

    add(("defaults",), data.get("defaults"))
    groups = data.get("groups")
    if isinstance(groups, dict):
        for name, group in groups.items():
            add(("groups", name), group)
    hosts = data.get("hosts")
    if isinstance(hosts, list):
        for i, host in enumerate(hosts):
            add(("hosts", i), host)
    return found
