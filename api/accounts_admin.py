"""The users page's routes beside ``api.admin``: reset a user's TOTP (admins), and each user's
own sessions, listed and ended (any signed-in user, for their own account only).

A reset's enrolment (otpauth URI and its QR code) is in the one answer, never again; it
logs the account out everywhere. Ending a session also ends what it holds open.
"""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from api.access import LiveAccess
from api.admin import _user_error, audit_as, require_admin
from api.errors import NotFound
from api.qr import qr_svg
from mirror.audit import AuditLog
from mirror.auth import AuthError, AuthService, Identity


@post("/api/admin/users/{name:str}/totp", guards=[require_admin], status_code=200, tags=["admin"])
async def reset_totp(
    request: Request[Identity, Any, Any],
    name: FromPath[str],
    auth_service: NamedDependency[AuthService],
    audit: NamedDependency[AuditLog],
    access: NamedDependency[LiveAccess],
) -> dict[str, Any]:
    """A new TOTP seed for ``name``: ``totp_uri`` and ``totp_qr`` (SVG) are shown this once."""
    try:
        user = await anyio.to_thread.run_sync(auth_service.reset_totp, name)
    except AuthError as exc:
        raise _user_error(exc) from None
    await access.end(f"TOTP reset by {request.user.name}", user=name)
    await audit_as(audit, request.user, "user.totp-reset", name, None, "reset")
    return {"name": user.name, "totp_uri": user.totp_uri, "totp_qr": qr_svg(user.totp_uri)}


@get("/api/auth/sessions", tags=["auth"])
async def my_sessions(
    request: Request[Identity, Any, Any], auth_service: NamedDependency[AuthService]
) -> list[dict[str, Any]]:
    """The signed-in user's own open sessions; ``current`` marks the one asking."""
    rows = await anyio.to_thread.run_sync(auth_service.list_sessions, request.user.name)
    mine = request.user.key
    return [
        {**{k: v for k, v in r.items() if k != "key"}, "current": r["key"] == mine} for r in rows
    ]


@delete("/api/auth/sessions/{session_id:str}", status_code=200, tags=["auth"])
async def end_my_session(
    request: Request[Identity, Any, Any],
    session_id: FromPath[str],
    auth_service: NamedDependency[AuthService],
    access: NamedDependency[LiveAccess],
) -> dict[str, Any]:
    """End one of one's own sessions (another browser, a lost phone)."""
    who = request.user
    try:
        key = await anyio.to_thread.run_sync(auth_service.end_session, who.name, session_id)
    except AuthError as exc:
        raise NotFound(str(exc)) from None
    await access.end(f"session ended by {who.name}", key=key)
    return {"id": session_id, "ended": True, "current": key == who.key}


ROUTES = [reset_totp, my_sessions, end_my_session]
