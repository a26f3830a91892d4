"""Container names and where their cgroups are, from the engines' CLIs (slow cadence).

Commands (their output is a format MIRROR chooses, one container per line, tab-separated):

* Docker: ``docker ps --no-trunc --format '{{.ID}}\\t{{.Names}}\\t{{.State}}'``
* Podman: ``podman ps --no-trunc --format '{{.ID}}\\t{{.Names}}\\t{{.State}}'``

``cgroup_dirs`` gives the directories under ``/sys/fs/cgroup`` where each engine and
cgroup driver puts a container; the REFLECTOR reads the first that exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from mirror.errors import ParseError

FORMAT = "{{.ID}}\\t{{.Names}}\\t{{.State}}"
COMMANDS = {
    "docker": f"docker ps --no-trunc --format '{FORMAT}'",
    "podman": f"podman ps --no-trunc --format '{FORMAT}'",
}


@dataclass(frozen=True, slots=True)
class Container:
    engine: str
    id: str
    name: str
    state: str


def parse_ps(engine: str, text: str) -> list[Container]:
    found = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 3 or len(parts[0]) < 12 or not _hex(parts[0]):
            raise ParseError(f"{engine} ps line not understood: {line[:80]!r}")
        found.append(Container(engine, parts[0], parts[1].split(",")[0], parts[2]))
    return found


def cgroup_dirs(c: Container, root: str = "/sys/fs/cgroup") -> list[str]:
    if c.engine == "docker":
        return [f"{root}/system.slice/docker-{c.id}.scope", f"{root}/docker/{c.id}"]
    return [f"{root}/machine.slice/libpod-{c.id}.scope", f"{root}/libpod_parent/libpod-{c.id}"]


def _hex(text: str) -> bool:
    return all(ch in "0123456789abcdef" for ch in text)
