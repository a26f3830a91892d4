"""Accounts over the API (admins only): create (the TOTP enrolment shown once), change role,
disable, delete, the last admin kept, every change audited; roles enforced per route."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from api.app import create_app
from mirror.audit import AuditLog
from mirror.auth import AuthService
from mirror.inventory import Inventory
from mirror.live import LiveHub
from mirror.storage import Store
from tests.support.accounts import PASSWORD, ROLES, client, role_tokens
from tests.test_api import _serve


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    store = Store.open(f"sqlite:///{tmp_path / 'mirror.db'}")
    store.upgrade()
    auth = AuthService(store.engine)
    tokens = role_tokens(auth)
    app = create_app(store, LiveHub(), Inventory.from_dict({}), auth=auth)
    async for address in _serve(app):
        yield {"address": address, "tokens": tokens, "store": store, "auth": auth}
    store.close()


ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/api/admin/users", None),
    ("POST", "/api/admin/users", {"name": "new", "role": "viewer", "password": PASSWORD}),
    ("PATCH", "/api/admin/users/viewer", {"role": "viewer"}),
    ("DELETE", "/api/admin/users/nosuch", None),
    ("POST", "/api/admin/inventory/reload", None),
    ("POST", "/api/discovered/127.0.0.9/adopt", {"name": "x"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_only_admins_with_operate_tokens_pass(
    env: dict[str, Any], method: str, path: str, body: Any
) -> None:
    for who in (*ROLES, "admin-read"):
        async with client(env, who) as c:
            response = await c.request(method, path, json=body)
        if who == "admin":
            assert response.status_code not in (401, 403, 500), response.text
        else:
            assert response.status_code == 403, (who, response.text)
            assert "error" in response.json()


async def test_reload_needs_the_poller(env: dict[str, Any]) -> None:
    async with client(env, "admin") as c:
        response = await c.post("/api/admin/inventory/reload")
    assert response.status_code == 503 and "mirror serve" in response.json()["error"]


async def test_create_user_shows_the_enrolment_once(env: dict[str, Any]) -> None:
    async with client(env, "admin") as c:
        created = await c.post(
            "/api/admin/users", json={"name": "carol", "role": "operator", "password": PASSWORD}
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["role"] == "operator" and PASSWORD not in created.text
        uri = body["totp_uri"]
        secret = pyotp.parse_uri(uri).secret
        listed = await c.get("/api/admin/users")
        assert secret not in listed.text and "totp" not in listed.text
        assert {"name": "carol", "role": "operator", "disabled": False}.items() <= next(
            u for u in listed.json() if u["name"] == "carol"
        ).items()
        again = await c.post(
            "/api/admin/users", json={"name": "carol", "role": "viewer", "password": PASSWORD}
        )
        assert again.status_code == 409, again.text
        bad = await c.post(
            "/api/admin/users", json={"name": "dave", "role": "root", "password": PASSWORD}
        )
        assert bad.status_code == 400 and "unknown role" in bad.json()["error"]
        short = await c.post("/api/admin/users", json={"name": "dave", "password": "short"})
        assert short.status_code == 400 and "8 characters" in short.json()["error"]
    # The seed works: carol can log in with it.
    login = env["auth"].login("carol", PASSWORD, pyotp.TOTP(secret).now(), "127.0.0.1")
    assert login.role == "operator"
    entries = AuditLog(env["store"].engine).entries(action="user.")
    assert [(e.actor, e.action, e.target) for e in entries] == [("admin", "user.add", "carol")]
    assert secret not in str(entries[0].detail) and PASSWORD not in str(entries[0].detail)


async def test_role_change_disable_and_delete(env: dict[str, Any]) -> None:
    async with client(env, "viewer") as as_viewer:
        assert (await as_viewer.get("/api/audit")).status_code == 403
    async with client(env, "admin") as c:
        promoted = await c.patch("/api/admin/users/viewer", json={"role": "operator"})
        assert promoted.status_code == 200 and promoted.json()["role"] == "operator"
        async with client(env, "viewer") as as_viewer:  # the same token, the new role
            assert (await as_viewer.get("/api/audit")).status_code == 200
        disabled = await c.patch("/api/admin/users/viewer", json={"disabled": True})
        assert disabled.json()["disabled"] is True
        async with client(env, "viewer") as as_viewer:  # its tokens stop working at once
            assert (await as_viewer.get("/api/hosts")).status_code == 401
        assert (await c.patch("/api/admin/users/viewer", json={})).status_code == 400
        assert (await c.patch("/api/admin/users/nosuch", json={"role": "admin"})).status_code == 404
        gone = await c.delete("/api/admin/users/operator")
        assert gone.status_code == 200 and gone.json()["deleted"] is True
        async with client(env, "operator") as as_operator:
            assert (await as_operator.get("/api/hosts")).status_code == 401
        names = [u["name"] for u in (await c.get("/api/admin/users")).json()]
        assert "operator" not in names
        assert (await c.delete("/api/admin/users/operator")).status_code == 404
    entries = AuditLog(env["store"].engine).entries(action="user.")
    assert [(e.action, e.target, e.result) for e in reversed(entries)] == [
        ("user.change", "viewer", "changed"),
        ("user.change", "viewer", "changed"),
        ("user.delete", "operator", "deleted"),
    ]
    assert entries[-1].detail == {"role": "operator"}


async def test_the_last_enabled_admin_stays(env: dict[str, Any]) -> None:
    async with client(env, "admin") as c:
        for method, body in (
            ("PATCH", {"role": "operator"}),
            ("PATCH", {"disabled": True}),
            ("DELETE", None),
        ):
            response = await c.request(method, "/api/admin/users/admin", json=body)
            assert response.status_code == 409, response.text
            assert "last enabled admin" in response.json()["error"]
        # With a second admin, the first may step down.
        await c.patch("/api/admin/users/operator", json={"role": "admin"})
        stepped = await c.patch("/api/admin/users/admin", json={"role": "viewer"})
        assert stepped.status_code == 200, stepped.text
    users = {u["name"]: u for u in env["auth"].list_users()}
    assert users["admin"]["role"] == "viewer" and users["operator"]["role"] == "admin"


async def test_cli_token_names_are_reserved(env: dict[str, Any]) -> None:
    """A ``cli:NAME`` token is audited as NAME: only the CLI itself may mint one."""
    async with client(env, "admin") as c:
        refused = await c.post("/api/admin/tokens", json={"name": "cli:bob", "scope": "operate"})
        allowed = await c.post("/api/admin/tokens", json={"name": "bob-ci", "scope": "read"})
    assert refused.status_code == 400
    assert "reserved" in refused.json()["error"]
    assert allowed.status_code == 201
    assert [t.name for t in env["auth"].list_tokens() if t.name.startswith("cli:")] == []
