"""Accounts for API tests: a user per role, each with a bearer token, and clients that send one."""

from __future__ import annotations

from typing import Any

import httpx

from mirror.auth import AuthService

PASSWORD = "correct horse battery"
ROLES = ("viewer", "operator", "admin")


def role_tokens(auth: AuthService) -> dict[str, str]:
    """A user per role (named after it, password ``PASSWORD``), each with an operate-scoped
    token; ``"admin-read"``: a read-scoped token of the admin. Role (or key) → token secret."""
    tokens = {}
    for role in ROLES:
        auth.add_user(role, PASSWORD, role)
        tokens[role] = auth.create_token(role, "operate", user=role)[1]
    tokens["admin-read"] = auth.create_token("ro", "read", user="admin")[1]
    return tokens


def client(env: dict[str, Any], who: str) -> httpx.AsyncClient:
    """A client of ``env["address"]`` sending ``env["tokens"][who]``."""
    headers = {"Authorization": f"Bearer {env['tokens'][who]}"}
    return httpx.AsyncClient(base_url=f"http://{env['address']}", headers=headers, timeout=15)
