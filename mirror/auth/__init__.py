"""Who may use EGO: users (argon2 password + TOTP), sessions, API tokens, auth events.

The API's middleware (``api/auth.py``) and the CLI (``mirror user``/``mirror token``) both go
through :class:`AuthService`; the pure pieces (hashes, TOTP steps, rate limits) live in
``crypto`` and ``ratelimit`` so they are tested without a database.
"""

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
