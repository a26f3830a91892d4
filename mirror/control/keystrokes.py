"""What an operator typed into a web terminal, for the audit log (only when configured:
``MIRROR_AUDIT_KEYSTROKES=1``).

An SSH client cannot read the remote PTY's termios, so "echo is off" (a password prompt,
``sudo``, ``read -s``) is judged by what the host sends back: a typed line is recorded only
if the host echoed its characters, while it was typed or (a paste) up to the line break that
echoes its Enter; a line the host did not echo is withheld and only counted. Limits: a
program that echoes a secret, or output that happens to spell the secret while it is typed,
gets it recorded; a line pasted before the shell is ready is withheld (a banner's line break
comes before its echo); keys that edit the line (arrows, history) are dropped, so a recorded line
is what was typed, not always what ran.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MAX_SESSION_CHARS = 64 * 1024  # recorded per session; the rest is only counted
FLUSH_CHARS = 4096  # an audit entry at least every this many recorded characters
_WINDOW_CHARS = 4096  # output kept per undecided line to look for its echo

# CSI/SS3 sequences and other two-character escapes (arrows, colours, cursor moves).
_ESCAPE = re.compile(r"\x1b(?:\[[0-9;?<=>]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|O.|.)?")
_NAMED = {"\x03": "^C", "\x04": "^D", "\x1a": "^Z"}


@dataclass
class _Line:
    typed: list[str] = field(default_factory=list)  # as recorded (with ^C markers)
    window: str = ""  # output since its first key, for its echo
    # After Enter, output counts only up to its first line break: the echo of the Enter
    # itself. What comes later is the command's (a prompt may hold a user name = password).
    watching: bool = True

    def visible(self) -> str:
        """The characters an echo would show (markers and tabs left out)."""
        return "".join(c for c in self.typed if len(c) == 1 and c.isprintable())

    def echoed(self) -> bool:
        it = iter(self.window)
        return all(ch in it for ch in self.visible())  # a subsequence: edits redraw in between


class KeystrokeRecorder:
    def __init__(self, max_chars: int = MAX_SESSION_CHARS) -> None:
        self._max_chars = max_chars
        self._line = _Line()
        self._pending: list[_Line] = []  # ended, waiting to see whether the host echoed
        self._recorded: list[str] = []
        self._recorded_chars = 0
        self._session_chars = 0
        self._withheld = 0
        self._dropped = 0

    def output(self, text: str) -> None:
        clean = _ESCAPE.sub("", text)
        # The window starts at the line's first key: a prompt printed before it ("password
        # for alice:") must not count as the echo of what is typed next.
        for line in self._pending:
            if line.watching:
                end = clean.find("\n")
                line.window = (line.window + clean[: None if end < 0 else end + 1])[:_WINDOW_CHARS]
                line.watching = end < 0
        if self._line.typed and len(self._line.window) < _WINDOW_CHARS:
            self._line.window = (self._line.window + clean)[:_WINDOW_CHARS]

    def input(self, text: str) -> None:
        # A new message: lines ended by earlier messages had their chance to be echoed.
        self._decide()
        for piece in _pieces(text):
            if piece in ("\x7f", "\b"):
                if self._line.typed:
                    self._line.typed.pop()
            elif piece == "\x15":  # ^U: the line is erased
                self._line.typed.clear()
            elif piece in ("\r", "\n"):
                self._end_line()
            elif piece in _NAMED:
                self._line.typed.append(_NAMED[piece])
                self._end_line()
            elif piece == "\t" or (len(piece) == 1 and piece.isprintable()):
                self._line.typed.append(piece)
            # other control keys and escape sequences (arrows, function keys): dropped

    def due(self) -> bool:
        """Enough recorded for an audit entry of its own."""
        return self._recorded_chars >= FLUSH_CHARS

    def take(self, final: bool = False) -> dict[str, Any] | None:
        """What was recorded since the last take, as an audit detail; ``final`` decides the
        lines still waiting for an echo (and a line typed without Enter)."""
        if final:
            self._end_line()
            self._decide()
        if not (self._recorded or self._withheld or self._dropped):
            return None
        text = "".join(line + "\n" for line in self._recorded)
        detail: dict[str, Any] = {"input": text, "lines": len(self._recorded)}
        if self._withheld:
            detail["withheld_lines"] = self._withheld  # not echoed: passwords
        if self._dropped:
            detail["dropped_chars"] = self._dropped  # over the session's limit
        self._recorded, self._recorded_chars, self._withheld, self._dropped = [], 0, 0, 0
        return detail

    def _end_line(self) -> None:
        if self._line.typed:
            self._pending.append(self._line)
        self._line = _Line()

    def _decide(self) -> None:
        for line in self._pending:
            if not line.echoed():
                self._withheld += 1
                continue
            text = "".join(line.typed)
            if self._session_chars + len(text) > self._max_chars:
                self._dropped += len(text)
                continue
            self._recorded.append(text)
            self._recorded_chars += len(text) + 1
            self._session_chars += len(text) + 1
        self._pending.clear()


def _pieces(text: str) -> list[str]:
    """Characters, with each escape sequence kept whole (so it can be dropped whole)."""
    out: list[str] = []
    at = 0
    for match in _ESCAPE.finditer(text):
        out.extend(text[at : match.start()])
        out.append(match.group())
        at = match.end()
    out.extend(text[at:])
    return out
