"""A cheap look at a host's SSH port between backed-off polls: is its server back?

A host that failed is retried after a doubling backoff (poller.health); without a look in
between, an sshd back a moment after a retry waited up to a minute more. At each of the
loop's ticks while backing off, the poller opens a TCP connection to the SSH port and reads
the server's banner line (``SSH-2.0-…``, sent before any authentication): when it comes,
the next poll runs at once, so a host is polled again within one interval of being
reachable. A port that refuses, or accepts but sends no banner (a hung server), leaves the
backoff as it was. Nothing is logged in to; the server sees a connection closed before
its key exchange.
"""

from __future__ import annotations

import asyncio
import contextlib

BANNER_PREFIX = b"SSH-"
PROBE_TIMEOUT_S = 1.0  # cap: a probe never holds the loop longer than this


async def ssh_port_answers(address: str, port: int, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """True when ``address:port`` accepts a TCP connection and sends an SSH banner."""
    writer = None
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(address, port)
            line = await reader.readline()
            # RFC 4253 4.2: lines before the version line are allowed; one is enough here.
            return line.startswith(BANNER_PREFIX) or (
                bool(line) and (await reader.readline()).startswith(BANNER_PREFIX)
            )
    except (OSError, TimeoutError, asyncio.IncompleteReadError):
        return False
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(writer.wait_closed(), 0.5)
