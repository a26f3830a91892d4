"""Helpers of the BSD-family kinds: their program, a command's section of a frame, swapinfo."""

from __future__ import annotations

from importlib import resources

from collectors.bsd import sysctl
from collectors.frame import Frame
from collectors.linux._util import to_int
from mirror.errors import ParseError


def program(path: str) -> str:
    """``collectors/bsd/common.sh`` (run/send) followed by the kind's own program."""
    root = resources.files("collectors")
    return root.joinpath("bsd/common.sh").read_text() + root.joinpath(path).read_text()


def sysctl_values(frame: Frame, kind: str) -> tuple[dict[str, str], float]:
    """The frame's ``sysctl`` values and the boot time (unix seconds), both required."""
    if frame.kind != kind:
        raise ParseError(f"expected a {kind!r} frame, got {frame.kind!r}")
    values = sysctl.parse(required(frame, "sysctl", any_status=True))
    boot = sysctl.boottime(values)
    if boot is None:
        raise ParseError(f"{kind!r} frame lacks kern.boottime")
    return values, boot


def output(frame: Frame, name: str, *, any_status: bool = False) -> str | None:
    """stdout of the command ``name`` when it ran (and succeeded, unless ``any_status``:
    sysctl exits 1 when one OID is unknown but prints all the others)."""
    found = frame.commands.get(name)
    if found is None:
        return None
    status, text = found
    if status != 0 and not (any_status and text.strip()):
        return None
    return text


def required(frame: Frame, name: str, *, any_status: bool = False) -> str:
    text = output(frame, name, any_status=any_status)
    if text is None:
        status = frame.commands.get(name, (None,))[0]
        raise ParseError(f"{frame.kind!r} frame lacks {name} output (status {status})")
    return text


def epoch(frame: Frame) -> float:
    text = required(frame, "date").strip()
    return float(to_int(text, "date +%s"))


def swapinfo_used(text: str) -> tuple[int, int]:
    """FreeBSD ``swapinfo -k``: (total, used) bytes over the swap devices."""
    lines = [line.split() for line in text.splitlines() if line.strip()]
    if not lines or lines[0][:1] != ["Device"]:
        raise ParseError("swapinfo output does not start with a 'Device' header")
    total = used = 0
    for parts in lines[1:]:
        if parts[0] == "Total" or len(parts) < 5:
            continue
        total += to_int(parts[1], "swapinfo 1K-blocks") * 1024
        used += to_int(parts[2], "swapinfo Used") * 1024
    return total, used
