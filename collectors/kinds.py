"""The host kinds EGO knows (``KINDS``, by the inventory's ``os:`` value), found by folder.

Each folder ``collectors/<name>/`` with a ``kind.py`` that defines ``KIND`` (a
``collectors.hostkind.HostKind``) is a kind; Linux is the first. Adding one is a new
folder plus fixtures, nothing here or in the poller (``collectors/KINDS.md``).
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from collectors.hostkind import HostKind

# What ``uname -s`` prints on each OS the inventory can name (mirror.inventory.OS_NAMES),
# so a host of an OS that has no kind yet gets a clear message, not "unknown".
UNAME_OS = {
    "Linux": "linux",
    "Darwin": "macos",
    "FreeBSD": "freebsd",
    "Windows_NT": "windows",
}


def _discover() -> dict[str, HostKind]:
    found: dict[str, HostKind] = {}
    here = Path(__file__).parent
    for module in sorted(pkgutil.iter_modules([str(here)]), key=lambda m: m.name):
        if not module.ispkg or not (here / module.name / "kind.py").is_file():
            continue
        kind = getattr(importlib.import_module(f"collectors.{module.name}.kind"), "KIND", None)
        if kind is None:  # parsers ready, no launch the poller can use yet (Windows)
            continue
        if not isinstance(kind, HostKind):
            raise TypeError(f"collectors/{module.name}/kind.py: KIND is not a HostKind")
        found[kind.os] = kind
    # Linux first: the kind of most hosts, and the one an unknown uname is compared to.
    return dict(sorted(found.items(), key=lambda item: item[0] != "linux"))


KINDS: dict[str, HostKind] = _discover()


def os_from_uname(text: str) -> str | None:
    """The inventory's OS name for what ``uname -s`` printed; None when it names none we know
    (Windows' own shells have no uname; MSYS/Cygwin print ``MINGW64_NT-…``/``CYGWIN_NT-…``)."""
    word = text.strip().split()[0] if text.strip() else ""
    for kind in KINDS.values():
        if word == kind.uname:
            return kind.os
    if word.startswith(("MINGW", "MSYS", "CYGWIN")):
        return "windows"
    return UNAME_OS.get(word)


def kind_for(os_name: str) -> HostKind | None:
    return KINDS.get(os_name)


def known_kinds() -> str:
    return ", ".join(KINDS)
