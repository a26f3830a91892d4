"""Captured REFLECTOR output (tests/fixtures/linux/*/frames.bin) cut into its frames."""

from __future__ import annotations


def split_frames(data: bytes) -> list[bytes]:
    """A capture of several frames back to back → one bytes per frame."""
    parts = data.split(b"@@E\n@@B ")
    return [
        (b"" if i == 0 else b"@@B ") + part + (b"" if i == len(parts) - 1 else b"@@E\n")
        for i, part in enumerate(parts)
    ]


def command_frame(kind: str, sections: list[tuple[str, int, str]]) -> bytes:
    """A frame holding command sections ``(name, exit status, stdout)``, as the BSD and
    macOS REFLECTORs send them (for golden tests on captured command output)."""
    body = b""
    for name, status, text in sections:
        data = text.encode()
        body += f"@@C {name} {status} {len(data)}\n".encode() + data
    return f"@@B {kind} {len(body)}\n".encode() + body + b"@@E\n"
