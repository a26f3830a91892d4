"""One log line for the host keys recorded on first use, however many hosts start at once.

A fleet (or the demo's 24 simulated hosts) that all trust on first use would greet every
start with one warning per host. Keys recorded within ``QUIET_S`` of each other are
reported together when no new one has come for that long (or ``MAX_WAIT_S`` after the
first), grouped by fingerprint: ``recorded host keys on first use for 24 hosts:
SHA256:… (lab-01, lab-02, …)``. Each key is still recorded at once; only the report waits.
"""

from __future__ import annotations

import asyncio
import logging
import time

log = logging.getLogger("poller.ssh")

QUIET_S = 1.5  # report once no new key has come for this long
MAX_WAIT_S = 10.0  # … or this long after the first, whichever comes first


class FirstUseReport:
    def __init__(self, quiet_s: float = QUIET_S, max_wait_s: float = MAX_WAIT_S) -> None:
        self._quiet_s = quiet_s
        self._max_wait_s = max_wait_s
        self._pending: dict[str, list[str]] = {}  # fingerprint → host names, in order
        self._first = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def note(self, host: str, fingerprint: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop to wait in: say it now
            log.warning("%s: recorded host key %s on first use", host, fingerprint)
            return
        if self._loop is not loop:  # an earlier loop ended before its report: say it now
            self.flush()
            self._loop = loop
        if not self._pending:
            self._first = time.monotonic()
        self._pending.setdefault(fingerprint, []).append(host)
        if self._timer is not None:
            self._timer.cancel()
        left = self._max_wait_s - (time.monotonic() - self._first)
        self._timer = loop.call_later(max(0.0, min(self._quiet_s, left)), self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, self._pending = self._pending, {}
        if not pending:
            return
        hosts = sum(len(names) for names in pending.values())
        if hosts == 1:
            (fingerprint, (host,)), *_ = pending.items()
            log.warning("%s: recorded host key %s on first use", host, fingerprint)
            return
        groups = "; ".join(f"{fp} ({', '.join(names)})" for fp, names in pending.items())
        log.warning("recorded host keys on first use for %d hosts: %s", hosts, groups)


FIRST_USE = FirstUseReport()  # the process's one report (every poller shares it)
