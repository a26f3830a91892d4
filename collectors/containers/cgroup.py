"""cgroup v2 accounting files of one container (or systemd service), and their rates.

Source: the unified hierarchy (``/sys/fs/cgroup/...``, Linux 4.15+; see the kernel's
Documentation/admin-guide/cgroup-v2.rst), read by the REFLECTOR with shell built-ins like
the /proc files, from the container's own directory:

* ``cpu.stat``: ``usage_usec``, ``user_usec``, ``system_usec`` (microseconds of CPU since
  the cgroup was made; ``nr_throttled``/``throttled_usec`` when the cpu controller is on);
* ``memory.current``: bytes in use (one integer); ``memory.max``: the limit or ``max``;
* ``io.stat``: one line per device ``MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N
  dios=N`` (counters since the cgroup was made).

Where a container lives: Docker with the systemd driver ``system.slice/docker-<ID>.scope``,
with cgroupfs ``docker/<ID>``; Podman ``machine.slice/libpod-<ID>.scope`` (root) or under
the user's slice; a systemd service ``system.slice/<unit>``. Rates, like everywhere
else, divide by the host's uptime difference.
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.linux._util import to_int
from collectors.rates import counter_rate
from mirror.errors import ParseError
from mirror.model import series_name

PLACES = 2


@dataclass(frozen=True, slots=True)
class CgroupCounters:
    cpu_usec: int
    mem_bytes: int | None
    mem_limit_bytes: int | None
    read_bytes: int
    write_bytes: int


def parse_cpu_stat(text: str) -> dict[str, int]:
    values: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            values[parts[0]] = to_int(parts[1], f"cpu.stat {parts[0]}")
    if "usage_usec" not in values:
        raise ParseError("cpu.stat has no usage_usec line")
    return values


def parse_io_stat(text: str) -> tuple[int, int]:
    """(read bytes, written bytes) summed over the devices."""
    read = written = 0
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if ":" not in parts[0]:
            raise ParseError(f"io.stat line does not start with MAJ:MIN: {line[:60]!r}")
        fields = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        read += to_int(fields.get("rbytes", "0"), "io.stat rbytes")
        written += to_int(fields.get("wbytes", "0"), "io.stat wbytes")
    return read, written


def parse_memory(text: str | None) -> int | None:
    """``memory.current`` or ``memory.max`` (``max``: no limit)."""
    if text is None or text.strip() == "max":
        return None
    return to_int(text.strip(), "memory file")


def counters(files: dict[str, str]) -> CgroupCounters:
    """One cgroup's files by name (``cpu.stat``, ``memory.current``, ...)."""
    if "cpu.stat" not in files:
        raise ParseError("cgroup lacks cpu.stat")
    read, written = parse_io_stat(files.get("io.stat", ""))
    return CgroupCounters(
        cpu_usec=parse_cpu_stat(files["cpu.stat"])["usage_usec"],
        mem_bytes=parse_memory(files.get("memory.current")),
        mem_limit_bytes=parse_memory(files.get("memory.max")),
        read_bytes=read,
        write_bytes=written,
    )


def metrics(
    prev: dict[str, CgroupCounters] | None, cur: dict[str, CgroupCounters], dt_s: float | None
) -> dict[str, float]:
    """``container.cpu_pct[name]`` (100 = one CPU busy, as ``docker stats``),
    ``container.mem_bytes[name]``, ``container.read_bytes_per_s[name]``/``write``."""
    m: dict[str, float] = {}
    for name, c in cur.items():
        if c.mem_bytes is not None:
            m[series_name("container.mem_bytes", name)] = c.mem_bytes
        if c.mem_limit_bytes is not None:
            m[series_name("container.mem_limit_bytes", name)] = c.mem_limit_bytes
        p = (prev or {}).get(name)
        if p is None or not dt_s:
            continue
        cpu = counter_rate(p.cpu_usec, c.cpu_usec, dt_s, wrap_bits=None)
        if cpu is not None:
            m[series_name("container.cpu_pct", name)] = round(cpu / 1e4, PLACES)
        for key, a, b in (("read", p.read_bytes, c.read_bytes),
                          ("write", p.write_bytes, c.write_bytes)):  # fmt: skip
            r = counter_rate(a, b, dt_s, wrap_bits=None)
            if r is not None:
                m[series_name(f"container.{key}_bytes_per_s", name)] = round(r, 1)
    return m
