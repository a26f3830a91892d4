"""Pure helpers: password hashes (argon2id), random tokens and their digests, TOTP steps.

Tokens (session cookies, API tokens, login links) are 256-bit random strings; only their
SHA-256 digest is stored, so a copy of the database does not let anyone in. SHA-256 (not
argon2) is enough for them because they are random, not chosen by a person.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOTP_STEP_S = 30
TOTP_DRIFT_STEPS = 1  # a code from the step before or after is accepted (clock drift)

_hasher = PasswordHasher()  # argon2id with the library's current (RFC 9106 low-memory) defaults


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so an unknown name costs the same
    time. Made on first use, not at import: hashing takes ~0.3 s and every `mirror`
    command imports this module."""
    return _hasher.hash("mirror-stage: no such user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token(prefix: str) -> str:
    """``prefix`` + 43 url-safe characters (256 random bits)."""
    return prefix + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_for(session_token: str) -> str:
    """The CSRF token bound to one session; derived, so nothing more is stored."""
    return hashlib.sha256(b"mirror-csrf:" + session_token.encode()).hexdigest()


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, account: str, issuer: str = "MIRROR STAGE") -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def totp_code(secret: str, now: float) -> str:
    """The code an authenticator shows at ``now`` (the demo and tests use it)."""
    return pyotp.TOTP(secret).at(now)


def totp_step(now: float) -> int:
    return int(now // TOTP_STEP_S)


def match_totp(secret: str, code: str, now: float) -> int | None:
    """The time step ``code`` belongs to (within the allowed drift), or None.

    Only the ASCII digits 0-9: ``str.isdigit`` also takes Arabic-Indic or full-width
    digits, which ``hmac.compare_digest`` then refuses with a TypeError."""
    code = code.strip().replace(" ", "")
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    here = totp_step(now)
    found = None
    for step in range(here - TOTP_DRIFT_STEPS, here + TOTP_DRIFT_STEPS + 1):
        # No early exit: each candidate is compared, in constant time.
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found
