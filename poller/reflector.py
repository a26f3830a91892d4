"""Run a host kind's REFLECTOR program on a host and ask it for frames.

The program (its host kind's, see ``collectors/hostkind.py``) runs through the kind's
launch command on one long-lived channel: the host's login shell and rc files run once
per connection, not once per poll, and nothing is written to the host's disk. The same
command runs as a local subprocess for the machine EGO itself runs on.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

import asyncssh

from collectors.frame import Frame, parse_frame
from mirror.errors import CollectError, ParseError

# A frame bigger than this is garbage or an attack, not a sample (a 256-core host's
# slow frame with 5000 processes is ~2 MB).
MAX_FRAME_BYTES = 16 * 1024 * 1024


class _Reader(Protocol):
    async def readline(self) -> bytes: ...
    async def readexactly(self, n: int) -> bytes: ...


async def read_frame(stdout: _Reader) -> Frame:
    """Read exactly one frame: its header line says how many bytes follow."""
    first = await stdout.readline()
    if not first:
        raise CollectError("reflector exited (channel closed by the host)")
    head = first.split()
    if len(head) != 3 or head[0] != b"@@B" or not head[2].isdigit():
        raise ParseError(f"reflector answered {first[:80]!r} instead of a frame")
    size = int(head[2])
    if size > MAX_FRAME_BYTES:
        raise ParseError(f"frame of {size} bytes is larger than {MAX_FRAME_BYTES}")
    body = await stdout.readexactly(size + 4)
    if not body.endswith(b"@@E\n"):
        raise ParseError("frame does not end with @@E where its length says")
    return parse_frame(first + body)


class Reflector(Protocol):
    async def request(self, kind: str) -> Frame: ...
    async def close(self) -> None: ...


class SshReflector:
    """The program on a session channel of an existing connection."""

    def __init__(self, process: asyncssh.SSHClientProcess[bytes]) -> None:
        self._process = process

    @classmethod
    async def start(cls, conn: asyncssh.SSHClientConnection, command: str) -> SshReflector:
        """``command``: the host kind's ``HostKind.command()``."""
        process = await conn.create_process(command, encoding=None)
        return cls(process)

    async def request(self, kind: str) -> Frame:
        self._process.stdin.write(kind.encode() + b"\n")
        try:
            return await read_frame(self._process.stdout)
        except asyncio.IncompleteReadError as exc:
            raise CollectError("reflector exited in the middle of a section") from exc

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self._process.stdin.write(b"q\n")
        self._process.close()


class LocalReflector:
    """The same program as a child process, for the machine EGO runs on."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process

    @classmethod
    async def start(cls, command: str) -> LocalReflector:
        process = await asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            limit=MAX_FRAME_BYTES,
        )
        return cls(process)

    async def request(self, kind: str) -> Frame:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(kind.encode() + b"\n")
        try:
            return await read_frame(self._process.stdout)
        except asyncio.IncompleteReadError as exc:
            raise CollectError("local reflector exited in the middle of a section") from exc

    async def close(self) -> None:
        if self._process.returncode is None:
            self._process.kill()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._process.wait(), timeout=2)
