"""What `mirror user …` and `mirror token …` do, apart from argument parsing (cli/main.py).

A new user's TOTP seed is shown once, as an otpauth URI and a QR code drawn in the terminal
(segno); a new token is shown once. Neither is printed again or logged.
"""

from __future__ import annotations

import getpass
import io
import os
import sys
from datetime import UTC, datetime
from typing import TextIO

import segno

from mirror.auth.service import AuthError, NewUser, TokenInfo
from mirror.text import printable


def read_new_password(password_env: str | None) -> str:
    """From the variable named by ``--password-env`` (scripts), else asked twice on the tty."""
    if password_env:
        value = os.environ.get(password_env)
        if not value:
            raise AuthError(f"--password-env {password_env}: that variable is not set or empty")
        return value
    if not sys.stdin.isatty():
        raise AuthError("no terminal to ask the password on: use --password-env VARIABLE")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise AuthError("the two passwords differ; nothing was changed")
    return first


def qr_text(data: str) -> str:
    out = io.StringIO()
    segno.make(data, error="m").terminal(out=out, compact=True)
    return out.getvalue()


def enrolment_text(user: NewUser, *, qr: bool = True) -> str:
    lines = [
        f"user {user.name} ({user.role}) is ready. Add it to an authenticator app",
        "(scan the code, or paste the URI); it is shown only this once:",
        "",
        f"  {user.totp_uri}",
        "",
    ]
    if qr:
        lines.append(qr_text(user.totp_uri))
    lines.append("Log in with the password and the 6-digit code the app shows.")
    return "\n".join(lines)


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def token_table(tokens: list[TokenInfo]) -> str:
    if not tokens:
        return "no API tokens (create one with `mirror token create --scope read`)"
    rows = [("ID", "NAME", "PREFIX", "SCOPE", "USER", "CREATED", "LAST USED", "STATE")]
    for t in tokens:
        state = "revoked" if t.revoked is not None else "active"
        if t.revoked is None and t.expires is not None:
            state = f"expires {_when(t.expires)}"
        rows.append(
            (
                str(t.id),
                printable(t.name),  # names come from the API too: no escape sequences
                t.prefix + "…",
                t.scope,
                t.user or "-",
                _when(t.created),
                _when(t.last_used),
                state,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def print_token(info: TokenInfo, secret: str, out: TextIO = sys.stdout) -> None:
    print(
        f"token {info.id} ({printable(info.name)}, scope {info.scope}) — shown only this once:\n\n"
        f"  {secret}\n\n"
        f"use it as: curl -H 'Authorization: Bearer {secret[:10]}…' http://127.0.0.1:8077/api/hosts",
        file=out,
    )
