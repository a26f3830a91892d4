"""Admin routes: accounts and API tokens (role ``admin``; a token needs ``operate`` scope).

Token secrets are shown once, in the answer that creates them; lists never carry them.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import anyio
import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, JSONBody

from api.errors import BadRequest, NotFound
from mirror.audit import AuditLog
from mirror.auth import AuthError, AuthService, Identity


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


class AdminController(Controller):
    path = "/api/admin"
    tags = ["admin"]  # noqa: RUF012 - Litestar reads this class attribute as is
    guards = [require_admin]  # noqa: RUF012

    @get("/users", sync_to_thread=True)
    def users(self, auth_service: NamedDependency[AuthService]) -> list[dict[str, Any]]:
        return auth_service.list_users()

    @get("/tokens", sync_to_thread=True)
    def tokens(self, auth_service: NamedDependency[AuthService]) -> list[dict[str, Any]]:
        return [asdict(t) for t in auth_service.list_tokens()]

    @post("/tokens", status_code=201)
    async def create_token(
        self,
        request: Request[Identity, Any, Any],
        data: JSONBody[NewToken],
        auth_service: NamedDependency[AuthService],
    ) -> dict[str, Any]:
        """The answer carries ``secret``: shown this once, never stored."""
        try:
            info, secret = await anyio.to_thread.run_sync(
                lambda: auth_service.create_token(
                    data.name, data.scope, user=data.user, expires_in_s=data.expires_in_s
                )
            )
        except AuthError as exc:
            raise BadRequest(str(exc)) from None
        return {**asdict(info), "secret": secret, "created_by": request.user.name}

    @delete("/tokens/{token_id:int}", status_code=200)
    async def revoke_token(
        self,
        request: Request[Identity, Any, Any],
        token_id: FromPath[int],
        auth_service: NamedDependency[AuthService],
        audit: NamedDependency[AuditLog],
    ) -> dict[str, Any]:
        try:
            info = await anyio.to_thread.run_sync(auth_service.revoke_token, token_id)
        except AuthError as exc:
            raise NotFound(str(exc)) from None
        who = request.user
        await anyio.to_thread.run_sync(
            audit.record, who.name, who.via, "token.revoke", f"token {token_id}", None, "revoked"
        )
        return asdict(info)
