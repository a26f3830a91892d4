"""The REFLECTOR frame: lengths make it impossible to forge, and lies are caught."""

from __future__ import annotations

import asyncio

import pytest

from collectors.frame import parse_frame
from collectors.linux.kind import KIND as LINUX
from mirror.errors import ParseError
from poller.reflector import read_frame


def framed(kind: bytes, body: bytes) -> bytes:
    return b"@@B %s %d\n%s@@E\n" % (kind, len(body), body)


GOOD = framed(b"s", b"@@F /proc/loadavg 8\n@@E\n@@E\n")


def test_content_that_looks_like_a_marker_is_content() -> None:
    frame = parse_frame(GOOD)
    assert frame.files == {"/proc/loadavg": "@@E\n@@E\n"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"@@B s 99\n@@E\n", "does not match"),
        (b"@@B s x\n@@E\n", "does not match"),
        (b"Welcome!\n", "does not start with @@B"),
        (framed(b"s", b"@@F /a 50\nshort"), "shorter than its declared length"),
    ],
)
def test_lies_are_parse_errors(data: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_frame(data)


async def read(data: bytes):  # type: ignore[no-untyped-def]
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return await read_frame(reader)


async def test_read_frame_takes_exactly_one_frame() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(GOOD + framed(b"x", b""))
    reader.feed_eof()
    assert (await read_frame(reader)).kind == "s"
    assert (await read_frame(reader)).kind == "x"


async def test_read_frame_refuses_a_frame_that_ends_elsewhere() -> None:
    with pytest.raises(ParseError, match="does not end with @@E"):
        await read(b"@@B s 3\nabcdefg\n")


async def test_reflector_sends_lengths_that_add_up() -> None:
    proc = await asyncio.create_subprocess_exec(
        "bash",
        "--norc",
        "--noprofile",
        "-c",
        LINUX.program,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate(b"s\nx\nwhat\nq\n")
    reader = asyncio.StreamReader()
    reader.feed_data(out)
    reader.feed_eof()
    kinds = [(await read_frame(reader)).kind for _ in range(3)]
    assert kinds == ["s", "x", "?"]
