"""Pure pieces of running a command: the wrapper sent to the host and the output kept.

The wrapper makes the remote shell announce its process group on stderr before the command
runs: OpenSSH delivers a ``signal`` request to the session's first process only, so a
timeout or a cancel would leave that process's children running (``a; b``, pipes,
``x &``). With the group known, EGO stops all of it (``kill -s TERM -- -PGID``). sshd starts each
session with ``setsid()``, so the shell's pid is its group. The announcement is removed
from what the user sees. Hosts whose shell is not POSIX simply never announce; only the
signal is sent then.
"""

from __future__ import annotations

import re
import shlex

PGID_TAG = b"\x1eMIRROR-PGID "
# The literal prefix of every wrapped command (the simulator strips it too).
PGID_ANNOUNCE = "printf '\\036MIRROR-PGID %s\\n' \"$$\" >&2; "
MAX_ANNOUNCE_WAIT_BYTES = 4096

SUDO_PROMPT = re.compile(
    rb"sudo: (a password is required|a terminal is required|.*is not in the sudoers file"
    rb"|.*may not run sudo|sorry, you must have a tty)",
    re.IGNORECASE,
)
SUDO_MISSING = re.compile(rb"sudo: (command )?not found|sudo: No such file", re.IGNORECASE)


def wrap_command(command: str, *, sudo: bool) -> str:
    """The string sent in the SSH ``exec`` request."""
    body = f"sudo -n -- sh -c {shlex.quote(command)}" if sudo else command
    return PGID_ANNOUNCE + body


def kill_group_command(pgid: int, grace_s: float = 1.0) -> str:
    """TERM the whole group, give it ``grace_s`` to go, then KILL what is left.

    ``kill -s SIG -- -PGID``, never ``kill -SIG -- -PGID``: dash (Debian's ``/bin/sh``)
    takes the ``--`` after ``-TERM`` for a pid ("Illegal number: -") and kills nothing;
    the ``-s`` form works in dash, bash, zsh, ksh and busybox."""
    steps = max(1, round(grace_s / 0.1))
    return (
        f"kill -s TERM -- -{pgid} 2>/dev/null; i=0; "
        f"while kill -s 0 -- -{pgid} 2>/dev/null && [ $i -lt {steps} ]; do sleep 0.1; "
        f"i=$((i+1)); done; kill -s KILL -- -{pgid} 2>/dev/null; true"
    )


def sudo_refusal(stderr_head: bytes, exit_status: int | None) -> str | None:
    """Why sudo did not run the command, or None when it did."""
    if exit_status == 127 and SUDO_MISSING.search(stderr_head):
        return "sudo is not installed on the host"
    if exit_status == 1 and SUDO_PROMPT.search(stderr_head):
        return (
            "sudo would prompt for a password (sudo -n refused): give the login user "
            "NOPASSWD rights for this command in sudoers, or run it without sudo"
        )
    return None


class PgidFilter:
    """Takes the announcement out of stderr and remembers the group.

    Lines before it (a login script's noise) pass through; after ``MAX_ANNOUNCE_WAIT_BYTES``
    without it (a host that is not POSIX, the simulator) it stops looking.
    """

    def __init__(self) -> None:
        self.pgid: int | None = None
        self._buf = b""
        self._seen = 0
        self._done = False

    def feed(self, data: bytes) -> bytes:
        """What of ``data`` belongs to the user's stderr."""
        if self._done:
            return data
        self._seen += len(data)
        self._buf += data
        out = bytearray()
        while (nl := self._buf.find(b"\n")) >= 0:
            line, self._buf = self._buf[: nl + 1], self._buf[nl + 1 :]
            if line.startswith(PGID_TAG):
                digits = line[len(PGID_TAG) : -1]
                if digits.isdigit():
                    self.pgid = int(digits)
                out += self._buf
                self._buf, self._done = b"", True
                return bytes(out)
            out += line
        could_be_tag = PGID_TAG.startswith(self._buf) or self._buf.startswith(PGID_TAG)
        if self._seen >= MAX_ANNOUNCE_WAIT_BYTES or not could_be_tag:
            out += self._buf
            self._buf = b""
            self._done = self._seen >= MAX_ANNOUNCE_WAIT_BYTES
        return bytes(out)

    def flush(self) -> bytes:
        out, self._buf, self._done = self._buf, b"", True
        return out


class OutputCap:
    """Keeps the first and the last ``cap_bytes // 2`` bytes of a stream and its full size."""

    def __init__(self, cap_bytes: int) -> None:
        self._half = max(1, cap_bytes // 2)
        self._head = bytearray()
        self._tail = bytearray()
        self.total_bytes = 0

    def add(self, data: bytes) -> None:
        self.total_bytes += len(data)
        room = self._half - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if data:
            self._tail += data
            if len(self._tail) > self._half:
                del self._tail[: len(self._tail) - self._half]

    @property
    def truncated(self) -> bool:
        return self.total_bytes > len(self._head) + len(self._tail)

    @property
    def head(self) -> bytes:
        return bytes(self._head)

    def text(self) -> str:
        head = self._head.decode("utf-8", errors="replace")
        tail = self._tail.decode("utf-8", errors="replace")
        if not self.truncated:
            return head + tail
        omitted = self.total_bytes - len(self._head) - len(self._tail)
        return f"{head}\n… [{omitted} bytes omitted] …\n{tail}"
