"""Text from outside (names, addresses, details) made safe to print in a terminal table.

Control characters (TAB, newline, ESC, …), Unicode format characters (bidi overrides,
zero-width joiners) and line separators are shown as escapes, so a value can neither add
columns or lines to ``mirror audit list`` nor send escape sequences to the terminal.
"""

from __future__ import annotations

import unicodedata

_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def printable(value: str) -> str:
    if value.isprintable() and "\\" not in value:
        return value
    out = []
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif unicodedata.category(ch) in _HIDDEN:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)
