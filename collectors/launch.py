"""Command lines that run the same way whatever the user's login shell is.

sshd hands every ``exec`` request to the login shell as ``$SHELL -c TEXT``. TEXT is
therefore parsed by sh, dash, bash, zsh, ksh, busybox ash, **fish** or **csh/tcsh**, and
the shells disagree on nearly everything: csh cannot hold a newline inside quotes and
reads ``>&2`` as "to a file named 2"; fish refuses ``$$`` and ``$(...)`` outside quotes,
and inside single quotes it still turns ``\\\\`` and ``\\'`` into one character.

The one construct they all read the same is a single line ``exec /bin/sh -c '...'``
whose quoted part holds no newline, no single quote, no ``!`` (csh history) and no
backslash except before an octal digit or ``n``. Everything here is built from that: the
quoted part is fixed, harmless text (``SAFE``), and the program or command itself travels
in a way no login shell parses:

* ``reflector_launch``: the program is written to the channel's stdin ahead of the
  requests; ``/bin/sh`` takes exactly its ``N`` bytes with ``dd bs=1 count=N`` (one byte a
  read, so not one byte of the requests behind it is swallowed) and runs it under bash
  when the host has bash (fast ``read -d ''``), else under ``/bin/sh``.
* ``command_launch``: a one-shot command (``mirror run``, actions) is spelled out in
  ``printf %b`` octal escapes, so it needs no stdin (the command may want it).

Both print a marker before anything else they run, ``READY`` on stdout for the
REFLECTOR and the ``\\036MIRROR-PGID <pid>`` tag on stderr for commands: what a login
shell's rc files print before it (banners, ``stty`` complaints) is not ours, and a
session that never shows it did not run our text at all (a ``ForceCommand``, a shell
that refused the line): ``launch_failure`` says which, from what came back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Printed by the launcher on stdout once the program is read, before it runs:
# "@@R <pid>" (the pid is that of the session's process group: sshd starts each session
# with setsid() and every step here is an exec, so it is still the group leader).
READY = b"@@R "
# Same tag as mirror.control.output.PGID_TAG (collectors may not import the control room's
# modules; the test checks they agree).
PGID_TAG = b"\x1eMIRROR-PGID "
# What every login shell reads literally inside single quotes: printable ASCII less the
# single quote, the backslash and csh's history "!" (and no newline: csh ends the command).
_PLAIN = r"A-Za-z0-9 _./,:;=+@%^(){}\[\]<>|&$\"*?#~-"
# ... and a backslash when it is followed by an octal digit or "n": fish changes only "\\"
# and "\'" inside single quotes, csh/tcsh only a backslash before a newline or "!".
SAFE = re.compile(rf"^(?:[{_PLAIN}]|\\[0-7n])*$")
_KEEP = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 _./,:=+@-")
# The longest stdout/stderr head launch_failure looks at.
HEAD_BYTES = 4096
# Exit status of the launcher when /bin/sh could not read the program from stdin.
NO_PROGRAM_STATUS = 111


@dataclass(frozen=True, slots=True)
class Launch:
    """What to send: ``command`` as the SSH exec request, then ``stdin`` on the channel."""

    command: str
    stdin: bytes


def _exec_sh(body: str) -> str:
    if not SAFE.match(body):
        raise ValueError(f"launcher text holds a character a login shell may read: {body!r}")
    return f"exec /bin/sh -c '{body}'"


def reflector_launch(program: str, *, prefer_bash: bool = True) -> Launch:
    """The REFLECTOR program, read from stdin by ``/bin/sh`` then run (see module doc)."""
    data = program.encode()
    run = 'exec /bin/sh -c "$P"'
    if prefer_bash:
        run = (
            'if command -v bash >/dev/null 2>&1; then exec bash --norc --noprofile -c "$P"; '
            f"else {run}; fi"
        )
    body = (
        f'P=$(dd bs=1 count={len(data)} 2>/dev/null) && [ -n "$P" ] '
        f'|| {{ echo "mirror: could not read the program from stdin" >&2; '
        f"exit {NO_PROGRAM_STATUS}; }}; "
        f'echo "@@R $$"; {run}'
    )
    return Launch(_exec_sh(body), data)


def command_launch(command: str, *, announce_pgid: bool = True) -> str:
    """A one-shot ``command`` run by ``/bin/sh`` (POSIX syntax, its real exit status, a
    process group to kill), spelled so that no login shell can change a byte of it: every
    character outside ``_KEEP`` is a ``printf %b`` octal escape, expanded by /bin/sh."""
    escaped = "".join(chr(b) if chr(b) in _KEEP else f"\\0{b:03o}" for b in command.encode())
    announce = 'printf "\\036MIRROR-PGID %s\\n" "$$" >&2; ' if announce_pgid else ""
    return _exec_sh(f'{announce}eval "$(printf "%b" "{escaped}")"')


def find_ready(data: bytes) -> tuple[int, int] | None:
    """``(pid, offset just past the marker line)`` once ``data`` holds the REFLECTOR's
    ``@@R <pid>`` line; what comes before it is the login shell's noise."""
    at = 0 if data.startswith(READY) else data.find(b"\n" + READY) + 1
    if at == 0 and not data.startswith(READY):
        return None
    end = data.find(b"\n", at)
    if end == -1:
        return None
    pid = data[at + len(READY) : end].strip()
    return (int(pid), end + 1) if pid.isdigit() else None


def launch_failure(stdout_head: bytes, stderr_head: bytes, exit_status: int | None) -> str:
    """Why a launch never printed its marker, in words for the host's state."""
    err = stderr_head[:HEAD_BYTES].decode("utf-8", "replace").strip()
    out = stdout_head[:HEAD_BYTES].decode("utf-8", "replace").strip()
    if exit_status == NO_PROGRAM_STATUS and "could not read the program" in err:
        return "the host's /bin/sh could not read the REFLECTOR program from stdin (no dd?)"
    detail = f": {err.splitlines()[-1][:200]}" if err else ""
    if not err and out:
        detail = f" (it printed {out.splitlines()[0][:120]!r})"
    status = "" if exit_status is None else f" (exit status {exit_status})"
    return (
        "the host did not run MIRROR's launcher: its login shell refused it or the key "
        f"only allows a fixed command{status}{detail}"
    )
