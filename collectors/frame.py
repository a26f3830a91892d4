"""Split one REFLECTOR frame (see ``collectors/linux/reflector.sh``) into its sections."""

from __future__ import annotations

from dataclasses import dataclass, field

from mirror.errors import ParseError


@dataclass(frozen=True, slots=True)
class Frame:
    kind: str
    files: dict[str, str] = field(default_factory=dict)
    # command name → (exit status, stdout)
    commands: dict[str, tuple[int, str]] = field(default_factory=dict)


def parse_frame(data: bytes) -> Frame:
    """Parse ``@@B kind bytes`` … ``@@E``; the frame and each section carry their length."""
    pos = 0
    line, pos = _line(data, pos)
    head = line.split(" ")
    if head[0] != "@@B" or len(head) not in (2, 3):
        raise ParseError(f"frame does not start with @@B: {line[:60]!r}")
    # "@@B kind bytes" since the frame carries its length; "@@B kind" in older captures.
    if len(head) == 3 and (not head[2].isdigit() or len(data) != pos + int(head[2]) + 4):
        raise ParseError(f"frame length {head[2][:20]!r} does not match its content")
    frame = Frame(kind=head[1])
    while True:
        line, pos = _line(data, pos)
        if line == "@@E":
            return frame
        parts = line.split(" ")
        try:
            if parts[0] == "@@F" and len(parts) >= 3:
                size = int(parts[-1])
                path = " ".join(parts[1:-1])
                frame.files[path], pos = _take(data, pos, size)
            elif parts[0] == "@@C" and len(parts) == 4:
                status, size = int(parts[2]), int(parts[3])
                text, pos = _take(data, pos, size)
                frame.commands[parts[1]] = (status, text)
            else:
                raise ParseError(f"unexpected line in frame: {line[:60]!r}")
        except ValueError as exc:
            raise ParseError(f"bad section header {line[:60]!r}") from exc


def _line(data: bytes, pos: int) -> tuple[str, int]:
    end = data.find(b"\n", pos)
    if end == -1:
        raise ParseError("frame ends before @@E")
    return data[pos:end].decode("utf-8", "replace"), end + 1


def _take(data: bytes, pos: int, size: int) -> tuple[str, int]:
    if size < 0 or pos + size > len(data):
        raise ParseError("section is shorter than its declared length")
    return data[pos : pos + size].decode("utf-8", "replace"), pos + size
