"""Captured REFLECTOR output (tests/fixtures/linux/*/frames.bin) cut into its frames."""

from __future__ import annotations


def split_frames(data: bytes) -> list[bytes]:
    """A capture of several frames back to back → one bytes per frame."""
    parts = data.split(b"@@E\n@@B ")
    return [
        (b"" if i == 0 else b"@@B ") + part + (b"" if i == len(parts) - 1 else b"@@E\n")
        for i, part in enumerate(parts)
    ]
