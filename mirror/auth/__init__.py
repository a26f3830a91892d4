"""Who may use EGO: users (argon2 password + TOTP), sessions, API tokens, auth events.

The API's middleware (``api/auth.py``) and the CLI (``mirror user``/``mirror token``) both go
through :class:`AuthService`; the pure pieces (hashes, TOTP steps, rate limits) live in
``crypto`` and ``ratelimit`` so they are tested without a database.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mirror.auth.service import (
        ROLES,
        SCOPES,
        AuthError,
        AuthService,
        Identity,
        LastAdmin,
        LoginRefused,
        NewLogin,
        NewUser,
        NoSuchUser,
        RateLimited,
        TokenInfo,
        UserExists,
    )

__all__ = [
    "ROLES",
    "SCOPES",
    "AuthError",
    "AuthService",
    "Identity",
    "LastAdmin",
    "LoginRefused",
    "NewLogin",
    "NewUser",
    "NoSuchUser",
    "RateLimited",
    "TokenInfo",
    "UserExists",
]


def __getattr__(name: str) -> Any:
    # Loaded on first use: the service brings SQLAlchemy and argon2 (~0.15 s), which
    # `mirror --help` and the CLI's API client (mirror.auth.names) do not need.
    if name in __all__:
        return getattr(importlib.import_module("mirror.auth.service"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
