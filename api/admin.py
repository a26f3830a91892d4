"""Admin routes: accounts and API tokens (role ``admin``; a token needs ``operate`` scope).

Token secrets are shown once, in the answer that creates them; lists never carry them. A
new account's TOTP enrolment (the otpauth URI) is likewise shown once, to the admin who
creates it, as ``mirror user add`` prints it; its password is never echoed or logged.
Every change to an account is audited; the last enabled admin cannot be demoted, disabled
or deleted.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import anyio
import msgspec
from litestar import Controller, Request, delete, get, patch, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_409_CONFLICT

from api.access import OPERATE_ROLES, LiveAccess
from api.errors import ApiError, BadRequest, NotFound
from api.qr import qr_svg
from mirror.audit import AuditLog
from mirror.auth import AuthError, AuthService, Identity, LastAdmin, NoSuchUser, UserExists
from mirror.auth.names import CLI_TOKEN_PREFIX


def require_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    identity = connection.scope.get("user")
    if not isinstance(identity, Identity) or identity.role != "admin":
        raise PermissionDeniedException("needs role admin")
    if identity.via == "token" and identity.scope != "operate":
        raise PermissionDeniedException("this token's scope is 'read': it cannot administer")


class NewToken(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: str
    scope: str
    user: str | None = None
    expires_in_s: float | None = None


class NewUserRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: str
    role: str = "viewer"
    password: str


class UserChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    role: str | None = None
    disabled: bool | None = None


class Conflict(ApiError):
    status_code = HTTP_409_CONFLICT


def _user_error(exc: AuthError) -> ApiError:
    if isinstance(exc, NoSuchUser):
        return NotFound(str(exc))
    if isinstance(exc, LastAdmin):
        return Conflict(str(exc))
    return BadRequest(str(exc))


class AdminController(Controller):
    path = "/api/admin"
    tags = ["admin"]  # noqa: RUF012 - Litestar reads this class attribute as is
    guards = [require_admin]  # noqa: RUF012

    @get("/users", sync_to_thread=True)
    def users(self, auth_service: NamedDependency[AuthService]) -> list[dict[str, Any]]:
        return auth_service.list_users()

    @post("/users", status_code=201)
    async def create_user(
        self,
        request: Request[Identity, Any, Any],
        data: JSONBody[NewUserRequest],
        auth_service: NamedDependency[AuthService],
        audit: NamedDependency[AuditLog],
    ) -> dict[str, Any]:
        """The answer carries ``totp_uri`` (the enrolment): shown this once, never again."""
        try:
            user = await anyio.to_thread.run_sync(
                lambda: auth_service.add_user(data.name, data.password, data.role)
            )
        except UserExists:
            raise Conflict(f"user {data.name!r} exists") from None
        except AuthError as exc:
            raise _user_error(exc) from None
        await audit_as(audit, request.user, "user.add", user.name, {"role": user.role}, "added")
        return {
            "name": user.name,
            "role": user.role,
            "disabled": False,
            "totp_uri": user.totp_uri,
            "totp_qr": qr_svg(user.totp_uri),  # the same, as an SVG QR code for the page
        }

    @patch("/users/{name:str}")
    async def change_user(
        self,
        request: Request[Identity, Any, Any],
        name: FromPath[str],
        data: JSONBody[UserChange],
        auth_service: NamedDependency[AuthService],
        audit: NamedDependency[AuditLog],
        access: NamedDependency[LiveAccess],
    ) -> dict[str, Any]:
        """``{"role": …}`` and/or ``{"disabled": true|false}``; disabling logs it out."""
        if data.role is None and data.disabled is None:
            raise BadRequest("nothing to change: give role and/or disabled")
        try:
            user = await anyio.to_thread.run_sync(
                lambda: auth_service.update_user(name, role=data.role, disabled=data.disabled)
            )
        except AuthError as exc:
            raise _user_error(exc) from None
        if user["disabled"] or user["role"] not in OPERATE_ROLES:  # before the re-check does
            what = "disabled" if user["disabled"] else f"made {user['role']}"
            await access.end(f"user {what} by {request.user.name}", user=name)
        asked = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
        await audit_as(audit, request.user, "user.change", name, asked, "changed")
        return user

    @delete("/users/{name:str}", status_code=200)
    async def delete_user(
        self,
        request: Request[Identity, Any, Any],
        name: FromPath[str],
        auth_service: NamedDependency[AuthService],
        audit: NamedDependency[AuditLog],
        access: NamedDependency[LiveAccess],
    ) -> dict[str, Any]:
        """Removes the account with its sessions and tokens (and ends what they hold open)."""
        try:
            user = await anyio.to_thread.run_sync(auth_service.delete_user, name)
        except AuthError as exc:
            raise _user_error(exc) from None
        await access.end(f"user deleted by {request.user.name}", user=name)
        await audit_as(audit, request.user, "user.delete", name, {"role": user["role"]}, "deleted")
        return user

    @get("/tokens", sync_to_thread=True)
    def tokens(self, auth_service: NamedDependency[AuthService]) -> list[dict[str, Any]]:
        return [asdict(t) for t in auth_service.list_tokens()]

    @post("/tokens", status_code=201)
    async def create_token(
        self,
        request: Request[Identity, Any, Any],
        data: JSONBody[NewToken],
        auth_service: NamedDependency[AuthService],
        audit: NamedDependency[AuditLog],
    ) -> dict[str, Any]:
        """The answer carries ``secret``: shown this once, never stored. Audited as
        ``token.create`` under the admin who made it (whoever the token is for)."""
        if data.name.startswith(CLI_TOKEN_PREFIX):
            raise BadRequest(
                f"token names starting with {CLI_TOKEN_PREFIX!r} are reserved for the mirror "
                "CLI's own short-lived tokens"
            )
        try:
            info, secret = await anyio.to_thread.run_sync(
                lambda: auth_service.create_token(
                    data.name, data.scope, user=data.user, expires_in_s=data.expires_in_s
                )
            )
        except AuthError as exc:
            raise BadRequest(str(exc)) from None
        detail = {"name": info.name, "scope": info.scope, "user": info.user}
        detail["expires"] = info.expires
        await audit_as(audit, request.user, "token.create", f"token {info.id}", detail, "created")
        return {**asdict(info), "secret": secret, "created_by": request.user.name}

    @delete("/tokens/{token_id:int}", status_code=200)
    async def revoke_token(
        self,
        request: Request[Identity, Any, Any],
        token_id: FromPath[int],
        auth_service: NamedDependency[AuthService],
        audit: NamedDependency[AuditLog],
        access: NamedDependency[LiveAccess],
    ) -> dict[str, Any]:
        try:
            info = await anyio.to_thread.run_sync(auth_service.revoke_token, token_id)
        except AuthError as exc:
            raise NotFound(str(exc)) from None
        await access.end(f"token revoked by {request.user.name}", key=f"t:{token_id}")
        await audit_as(audit, request.user, "token.revoke", f"token {token_id}", None, "revoked")
        return asdict(info)


async def audit_as(
    audit: AuditLog,
    who: Identity,
    action: str,
    target: str,
    detail: dict[str, Any] | None,
    result: str,
) -> None:
    """One audit entry by ``who`` (the request's user), written in a worker thread."""
    await anyio.to_thread.run_sync(
        lambda: audit.record(who.name, who.via, action, target, detail, result)
    )
