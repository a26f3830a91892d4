"""``/proc/<pid>/stat``: one process's CPU time and resident memory, and the top lists.

Source: ``/proc/<pid>/stat`` (proc(5)), Linux 2.6+. ``comm`` is the name in
parentheses; it may hold spaces, parentheses and newlines (anything a process
writes to ``prctl(PR_SET_NAME)``), so it ends at the LAST ``)``. Units:
``utime``/``stime``/``starttime`` in clock ticks (``getconf CLK_TCK``),
``rss`` in pages (page size 4096 on x86 and most ARM; 16/64 KiB on some ARM/POWER).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from collectors.linux._util import to_int
from mirror.errors import ParseError


@dataclass(frozen=True, slots=True)
class ProcStat:
    pid: int
    comm: str
    state: str
    utime_ticks: int
    stime_ticks: int
    rss_pages: int
    starttime_ticks: int


def parse(text: str) -> ProcStat:
    open_at, close_at = text.find("("), text.rfind(")")
    if open_at < 1 or close_at < open_at:
        raise ParseError(f"/proc/<pid>/stat has no '(comm)': {text[:60]!r}")
    pid = to_int(text[:open_at].strip(), "/proc/<pid>/stat pid")
    rest = text[close_at + 1 :].split()
    # rest[0] is field 3 (state) of proc(5); field k is rest[k - 3].
    if len(rest) < 22:
        raise ParseError(f"/proc/{pid}/stat has {len(rest) + 2} fields, needs at least 24")
    what = f"/proc/{pid}/stat"
    return ProcStat(
        pid=pid,
        comm=text[open_at + 1 : close_at],
        state=rest[0],
        utime_ticks=to_int(rest[11], what),
        stime_ticks=to_int(rest[12], what),
        rss_pages=to_int(rest[21], what),
        starttime_ticks=to_int(rest[19], what),
    )


def top_processes(
    prev: dict[int, ProcStat] | None,
    cur: dict[int, ProcStat],
    dt_s: float,
    clk_tck: int,
    page_size: int = 4096,
    n: int = 10,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``n`` busiest processes by CPU and by resident memory.

    ``cpu_pct`` is CPU time over wall time in percent of one core (like top), from
    tick deltas between ``prev`` and ``cur``; it is ``None`` for a process without a
    baseline (new, or its pid was reused: ``starttime`` changed) and such processes
    are left out of the CPU list.
    """
    rows: list[dict[str, Any]] = []
    for pid, p in cur.items():
        before = prev.get(pid) if prev else None
        cpu_pct = None
        if before is not None and before.starttime_ticks == p.starttime_ticks and dt_s > 0:
            ticks = p.utime_ticks + p.stime_ticks - before.utime_ticks - before.stime_ticks
            if ticks >= 0:
                cpu_pct = round(ticks / clk_tck / dt_s * 100, 2)
        rows.append(
            {"pid": pid, "name": p.comm, "cpu_pct": cpu_pct, "rss_bytes": p.rss_pages * page_size}
        )
    measured = [r for r in rows if r["cpu_pct"] is not None]
    by_cpu = sorted(measured, key=lambda r: (-r["cpu_pct"], r["pid"]))
    by_mem = sorted(rows, key=lambda r: (-r["rss_bytes"], r["pid"]))
    return by_cpu[:n], by_mem[:n]
