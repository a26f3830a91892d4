"""Control through the API against the real OpenSSH server: roles per route, commands with
live output, cancel, actions (and injection attempts), the PTY terminal, tunnels, audit."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from api.app import create_app
from mirror.audit import AuditLog
from mirror.auth import AuthService
from mirror.control.actions import Action, ActionError, render
from mirror.inventory import Inventory
from mirror.live import LiveHub
from mirror.storage import Store
from poller.commands import OwnConnections, SshCommandRunner
from poller.ssh import KnownHosts
from tests.support.sshd import Sshd
from tests.test_api import _serve
from tests.test_commands import inventory_for

PASSWORD = "correct horse battery"
ROLES = ("viewer", "operator", "admin")


@pytest.fixture
async def env(sshd: Sshd, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    async for served in serve_control(sshd, tmp_path):
        yield served


async def serve_control(
    sshd: Sshd, tmp_path: Path, **app_options: Any
) -> AsyncIterator[dict[str, Any]]:
    """The API with the real command runner on ``sshd``, a user and token per role."""
    base = inventory_for(sshd).model_dump(mode="json")
    base["actions"] = {
        "greet": {"command": "echo hello {who}", "params": {"who": "word"}},
        "lab-only": {"command": "true", "groups": ["nowhere"]},
    }
    inventory = Inventory.from_dict(base)
    store = Store.open(f"sqlite:///{tmp_path / 'mirror.db'}")
    store.upgrade()
    auth = AuthService(store.engine)
    tokens = {}
    for role in ROLES:
        auth.add_user(role, PASSWORD, role)
        tokens[role] = auth.create_token(role, "operate", user=role)[1]
    tokens["admin-read"] = auth.create_token("ro", "read", user="admin")[1]
    source = OwnConnections(inventory.hosts_resolved(), KnownHosts(tmp_path / "kh"))
    runner = SshCommandRunner(source)
    app = create_app(store, LiveHub(), inventory, auth=auth, control=runner, **app_options)
    async for address in _serve(app):
        yield {"address": address, "tokens": tokens, "store": store}
    await runner.close()
    store.close()


def client(env: dict[str, Any], who: str) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {env['tokens'][who]}"}
    return httpx.AsyncClient(base_url=f"http://{env['address']}", headers=headers, timeout=15)


def ws(env: dict[str, Any], who: str, path: str) -> Any:
    headers = {"Authorization": f"Bearer {env['tokens'][who]}"}
    return ws_connect(f"ws://{env['address']}{path}", additional_headers=headers)


# (method, path, body, least role); every route of issue 6 plus WoL and the admin routes.
ROUTES: list[tuple[str, str, Any, str]] = [
    ("POST", "/api/commands", {"command": "true", "hosts": ["box"]}, "operator"),
    ("GET", "/api/commands/nosuch", None, "operator"),
    ("POST", "/api/commands/nosuch/cancel", None, "operator"),
    ("GET", "/api/hosts/box/actions", None, "operator"),
    ("POST", "/api/hosts/box/actions/greet", {"params": {"who": "x"}}, "operator"),
    ("GET", "/api/tunnels", None, "operator"),
    ("POST", "/api/tunnels", {"host": "box", "port": 1}, "operator"),
    ("DELETE", "/api/tunnels/nosuch", None, "operator"),
    ("POST", "/api/hosts/box/wake", None, "operator"),
    ("GET", "/api/audit", None, "operator"),
    ("GET", "/api/audit/verify", None, "operator"),
    ("GET", "/api/admin/users", None, "admin"),
    ("GET", "/api/admin/tokens", None, "admin"),
    ("POST", "/api/admin/tokens", {"name": "x", "scope": "read"}, "admin"),
    ("DELETE", "/api/admin/tokens/999", None, "admin"),
]


@pytest.mark.parametrize(("method", "path", "body", "least"), ROUTES)
async def test_roles_are_enforced_per_route(
    env: dict[str, Any], method: str, path: str, body: Any, least: str
) -> None:
    for who in (*ROLES, "admin-read"):
        async with client(env, who) as c:
            response = await c.request(method, path, json=body)
        allowed = who != "admin-read" and ROLES.index(who) >= ROLES.index(least)
        if allowed:
            assert response.status_code not in (401, 403), (who, response.text)
            assert response.status_code != 500, (who, response.text)
        else:
            assert response.status_code == 403, (who, response.text)
            assert "error" in response.json()


@pytest.mark.parametrize(
    "path", ["/api/hosts/box/terminal", "/api/commands/nosuch/stream"], ids=["terminal", "stream"]
)
async def test_websockets_refuse_viewers_and_read_tokens(env: dict[str, Any], path: str) -> None:
    for who in ("viewer", "admin-read"):
        with pytest.raises((ConnectionClosed, Exception)) as caught:
            async with ws(env, who, path) as sock:
                await asyncio.wait_for(sock.recv(), 5)
        text = str(caught.value)
        assert "403" in text or "4403" in text or "needs role" in text or "scope" in text, text


async def _stream(env: dict[str, Any], job_id: str) -> list[dict[str, Any]]:
    messages = []
    async with ws(env, "operator", f"/api/commands/{job_id}/stream") as sock:
        while True:
            message = json.loads(await asyncio.wait_for(sock.recv(), 15))
            messages.append(message)
            if message["type"] == "done":
                return messages


async def test_command_streams_and_is_audited(env: dict[str, Any]) -> None:
    async with client(env, "operator") as c:
        response = await c.post(
            "/api/commands",
            json={"command": "echo one; sleep 0.3; echo two >&2; exit 4", "hosts": ["box"]},
        )
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]
        messages = await _stream(env, job_id)
        outputs = [(m["stream"], m["text"]) for m in messages if m["type"] == "output"]
        assert outputs == [("stdout", "one\n"), ("stderr", "two\n")]
        [result] = messages[-1]["results"]
        assert result["exit_status"] == 4 and result["state"] == "failed"
        status = (await c.get(f"/api/commands/{job_id}")).json()
        assert status["done"] and status["results"][0]["stdout"] == "one\n"
        bad = await c.post("/api/commands", json={"command": "true", "hosts": ["nosuch"]})
        assert bad.status_code == 400 and "nosuch" in bad.json()["error"]
        bad = await c.post("/api/commands", json={"command": "true", "groups": ["lab"], "x": 1})
        assert bad.status_code == 400
    log = AuditLog(env["store"].engine)
    for _ in range(50):  # the results are stored just after the stream's last message
        entries = log.entries(actor="operator")
        if any(e.action == "command.done" for e in entries):
            break
        await asyncio.sleep(0.05)
    actions = [e.action for e in entries]
    assert actions[:2] == ["command.done", "command"]
    assert entries[1].detail and entries[1].detail["command"].startswith("echo one")
    assert entries[0].result == "1 failed"
    assert log.results(job_id)[0]["exit_status"] == 4
    assert log.verify().ok


async def test_cancel_through_the_api(env: dict[str, Any]) -> None:
    async with client(env, "operator") as c:
        response = await c.post(
            "/api/commands", json={"command": "echo go; sleep 30", "hosts": ["box", "gone"]}
        )
        job_id = response.json()["id"]
        async with ws(env, "operator", f"/api/commands/{job_id}/stream") as sock:
            first = json.loads(await asyncio.wait_for(sock.recv(), 10))
            assert first["type"] == "output" and first["text"] == "go\n"
            assert (await c.post(f"/api/commands/{job_id}/cancel")).status_code == 200
            message = first
            while message["type"] != "done":
                message = json.loads(await asyncio.wait_for(sock.recv(), 10))
    results = {r["host"]: r for r in message["results"]}
    assert results["box"]["state"] == "cancelled"
    assert results["box"]["error"] == "cancelled by operator"
    assert results["gone"]["state"] == "error"  # offline: its own error, not a hang


INJECTIONS = [
    "x; touch {f}",
    "$(touch {f})",
    "`touch {f}`",
    "x && touch {f}",
    "x\ntouch {f}",
    "x | touch {f}",
    "-n",
    "a b",
    "x' ; touch {f} ; '",
    "",
]


async def test_actions_validate_parameters_against_injection(env: dict[str, Any]) -> None:
    marker_dir = Path(tempfile.mkdtemp(prefix="mirror-inject-"))
    marker_dir.chmod(0o1777)
    marker = marker_dir / "pwned"
    async with client(env, "operator") as c:
        offered = [a["name"] for a in (await c.get("/api/hosts/box/actions")).json()]
        assert "greet" in offered and "restart-service" in offered and "lab-only" not in offered
        for value in INJECTIONS:
            bad = value.replace("{f}", str(marker))
            for action, param in (("greet", "who"), ("restart-service", "service")):
                response = await c.post(
                    f"/api/hosts/box/actions/{action}", json={"params": {param: bad}}
                )
                assert response.status_code == 400, (action, bad, response.text)
                assert f"parameter '{param}' must be" in response.json()["error"]
        extra = await c.post(
            "/api/hosts/box/actions/greet", json={"params": {"who": "x", "cmd": "id"}}
        )
        assert extra.status_code == 400 and "no parameter cmd" in extra.json()["error"]
        reboot = await c.post("/api/hosts/box/actions/reboot", json={})
        assert reboot.status_code == 400 and "confirmation" in reboot.json()["error"]
        ok = await c.post("/api/hosts/box/actions/greet", json={"params": {"who": "world"}})
        assert ok.status_code == 202
        messages = await _stream(env, ok.json()["id"])
        assert messages[-1]["results"][0]["stdout"] == "hello world\n"
    assert not marker.exists()


def test_values_are_quoted_even_if_a_kind_let_them_through(monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    from mirror.control import actions

    lax = dict(actions.PARAM_KINDS)
    lax["word"] = (re.compile(r".*", re.S), "anything")
    monkeypatch.setattr(actions, "PARAM_KINDS", lax)
    command = render(Action("x", "echo {v}", {"v": "word"}), {"v": "a; rm -rf ~"})
    assert command == "echo 'a; rm -rf ~'"
    with pytest.raises(ActionError):
        render(Action("x", "echo {v}", {"v": "nokind"}), {"v": "a"})


async def _read_until(sock: Any, needle: str, timeout_s: float = 5) -> str:
    seen = ""
    async with asyncio.timeout(timeout_s):
        while needle not in seen:
            seen += await sock.recv()
    return seen


async def test_terminal_echo_resize_korean_and_audit(env: dict[str, Any]) -> None:
    async with ws(env, "operator", "/api/hosts/box/terminal?cols=100&rows=30") as sock:
        await sock.send(json.dumps({"type": "input", "data": "stty size\n"}))
        assert "30 100" in await _read_until(sock, "30 100")
        await sock.send(json.dumps({"type": "resize", "cols": 120, "rows": 40}))
        await sock.send(json.dumps({"type": "input", "data": "stty size\n"}))
        assert "40 120" in await _read_until(sock, "40 120")
        await sock.send(json.dumps({"type": "input", "data": "echo 한국어 테스트\n"}))
        assert "한국어 테스트" in await _read_until(sock, "한국어 테스트\r\n")
        await sock.send(json.dumps({"type": "input", "data": "exit\n"}))
        with pytest.raises(ConnectionClosed) as closed:
            await _read_until(sock, "never")
    # The close frame says why, for the web terminal to show.
    assert closed.value.rcvd is not None and closed.value.rcvd.reason == "the shell ended"
    log = AuditLog(env["store"].engine)
    for _ in range(50):
        actions = [e.action for e in log.entries(action="terminal")]
        if "terminal.end" in actions:
            break
        await asyncio.sleep(0.05)
    assert actions == ["terminal.end", "terminal.start"]
    assert log.entries(action="terminal.end")[0].result == "the shell ended"


async def test_terminal_idle_timeout_says_why(
    env: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.control

    monkeypatch.setattr(api.control, "TERMINAL_IDLE_S", 0.5)
    async with ws(env, "operator", "/api/hosts/box/terminal") as sock:
        with pytest.raises(ConnectionClosed) as closed:
            await _read_until(sock, "never")
    # The UI shows the close frame's reason; the text is for a client that does not.
    assert closed.value.rcvd is not None and closed.value.rcvd.reason == "idle timeout"
    log = AuditLog(env["store"].engine)
    for _ in range(50):
        ended = log.entries(action="terminal.end")
        if ended:
            break
        await asyncio.sleep(0.05)
    assert [e.result for e in ended] == ["idle timeout"]


async def test_tunnel_carries_http_to_a_loopback_server(env: dict[str, Any]) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = b"device web ui"
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
            % (len(body), body)
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with client(env, "operator") as c:
            response = await c.post(
                "/api/tunnels", json={"host": "box", "port": port, "to": "127.0.0.1"}
            )
            assert response.status_code == 201, response.text
            tunnel = response.json()
            assert tunnel["listen_host"] == "127.0.0.2"  # never EGO's address (its cookie)
            url = f"http://127.0.0.2:{tunnel['listen_port']}/"
            async with httpx.AsyncClient() as plain:
                answer = await plain.get(url)
            assert answer.text == "device web ui"
            [listed] = (await c.get("/api/tunnels")).json()
            assert listed["id"] == tunnel["id"] and listed["connections"] == 1
            closed = await c.delete(f"/api/tunnels/{tunnel['id']}")
            assert closed.status_code == 200
            # Listed as closed, with who closed it, until newer tunnels push it out.
            [gone] = (await c.get("/api/tunnels")).json()
            assert (gone["id"], gone["state"]) == (tunnel["id"], "closed")
            assert gone["close_reason"] == "closed by operator" and gone["bytes_from_host"] > 0
            assert (await c.delete(f"/api/tunnels/{tunnel['id']}")).status_code == 404
            async with httpx.AsyncClient() as plain:
                with pytest.raises(httpx.ConnectError):
                    await plain.get(url)
            audit = (await c.get("/api/audit", params={"action": "tunnel"})).json()
            assert [e["action"] for e in audit] == ["tunnel.close", "tunnel.open"]
            assert (await c.get("/api/audit/verify")).json()["ok"] is True
    finally:
        server.close()
        await server.wait_closed()


async def test_without_a_poller_control_answers_503(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'm.db'}")
    store.upgrade()
    _, secret = AuthService(store.engine).create_token("t", "operate")
    app = create_app(store, LiveHub(), Inventory.from_dict({}))
    async for address in _serve(app):
        async with httpx.AsyncClient(
            base_url=f"http://{address}", headers={"Authorization": f"Bearer {secret}"}
        ) as c:
            response = await c.post("/api/commands", json={"command": "true", "hosts": ["x"]})
            assert response.status_code == 503 and "mirror serve" in response.json()["error"]
            assert (await c.get("/api/tunnels")).status_code == 503
    store.close()


async def test_wake_on_lan_is_audited(env: dict[str, Any]) -> None:
    async with client(env, "operator") as c:
        await c.post("/api/hosts/box/wake")  # 503 here (no poller), but it was asked for
        [entry] = (await c.get("/api/audit", params={"action": "wol"})).json()
    assert entry["actor"] == "operator" and entry["target"] == "box"
    assert entry["result"] == "requested"
