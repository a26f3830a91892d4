"""What an attacker on the LAN or a low-privilege user tried (issue 10), each now refused.

Real app over real HTTP (uvicorn with EGO's own server options), real SQLite; the clock of
the auth service is injected where limits and windows matter.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api import proxies
from api.app import create_app
from cli.main import main
from mirror.audit import AuditLog
from mirror.auth import AuthService, crypto
from mirror.inventory import Inventory
from mirror.live import LiveHub
from mirror.settings import Settings
from mirror.storage import Store
from mirror.text import printable
from tests.test_api import _serve

PASSWORD = "correct horse battery"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(f"sqlite:///{tmp_path / 'mirror.db'}")
    store.upgrade()
    yield store
    store.close()


async def _app(store: Store, **options: Any) -> AsyncIterator[tuple[str, AuthService]]:
    auth = AuthService(store.engine)
    inventory = Inventory.from_dict({"hosts": [{"name": "alpha", "address": "127.77.0.1"}]})
    async for address in _serve(create_app(store, LiveHub(), inventory, auth=auth, **options)):
        yield address, auth


@pytest.fixture
async def served(store: Store) -> AsyncIterator[tuple[str, AuthService]]:
    async for pair in _app(store):
        yield pair


def _code(secret: str) -> str:
    return crypto.totp_code(secret, time.time())


# --- X-Forwarded-For: believed only from proxies the owner lists --------------------------


def test_client_address_walks_only_trusted_hops() -> None:
    trusted = proxies.networks(["127.0.0.1", "127.8.0.0/16"])
    walk = proxies.client_address
    assert walk("127.0.0.9", "127.5.5.5", trusted) == "127.0.0.9"  # peer not a proxy
    assert walk("127.0.0.1", None, trusted) == "127.0.0.1"
    assert walk("127.0.0.1", "127.5.5.5", trusted) == "127.5.5.5"
    # The client may prepend anything: only the hops our proxies added count.
    assert walk("127.0.0.1", "127.6.6.6, 127.5.5.5, 127.8.0.3", trusted) == "127.5.5.5"
    assert walk("127.0.0.1", "127.5.5.5\tforged", trusted) == "127.0.0.1"  # not an address
    assert walk("127.0.0.1", "x, 127.8.0.3", trusted) == "127.8.0.3"
    assert walk("127.0.0.1", "127.5.5.5", ()) == "127.0.0.1"


def test_trusted_proxies_setting() -> None:
    assert Settings.from_env({}).trusted_proxies == ()
    env = {"MIRROR_TRUSTED_PROXIES": "127.0.0.1, 127.8.0.0/16"}
    assert Settings.from_env(env).trusted_proxies == ("127.0.0.1/32", "127.8.0.0/16")
    from mirror.errors import ConfigError

    with pytest.raises(ConfigError, match="MIRROR_TRUSTED_PROXIES"):
        Settings.from_env({"MIRROR_TRUSTED_PROXIES": "proxy.example"})


async def test_forged_forwarded_for_neither_dodges_limits_nor_reaches_the_log(
    served: tuple[str, AuthService],
) -> None:
    address, auth = served
    auth.add_user("owner", PASSWORD)
    statuses = []
    async with httpx.AsyncClient(base_url=f"http://{address}") as client:
        for i in range(30):
            forged = f"127.66.0.{i}\tFAKE\tCOLUMN"
            response = await client.post(
                "/api/auth/login",
                json={"name": f"nobody{i}", "password": "wrong password", "code": "000000"},
                headers={"X-Forwarded-For": forged},
            )
            statuses.append(response.status_code)
    assert statuses[:20] == [401] * 20 and set(statuses[20:]) == {429}, statuses
    logins = [e for e in auth.events(100) if e["kind"].startswith("login")]
    assert {e["address"] for e in logins} == {"127.0.0.1"}


async def test_a_listed_proxy_is_believed(store: Store) -> None:
    async for address, auth in _app(store, trusted_proxies=["127.0.0.1"]):
        async with httpx.AsyncClient(base_url=f"http://{address}") as client:
            for forwarded in ("127.66.0.7", "junk\tjunk"):
                await client.post(
                    "/api/auth/login",
                    json={"name": "x", "password": "y", "code": "000000"},
                    headers={"X-Forwarded-For": forwarded},
                )
        assert [e["address"] for e in auth.events(2)] == ["127.0.0.1", "127.66.0.7"]


def test_printable_escapes_what_would_add_columns_or_drive_the_terminal() -> None:
    assert printable("alice") == "alice" and printable("하늘") == "하늘"
    assert printable("a\tb\nc") == "a\\x09b\\x0ac"
    assert printable("\x1b[31mred") == "\\x1b[31mred"
    assert printable("rtl\u202eevil") == "rtl\\u202eevil"
    assert printable("back\\x09slash") == "back\\\\x09slash"  # no forged escapes either


def test_audit_list_prints_one_row_of_seven_columns_whatever_the_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "mirror.db"
    monkeypatch.setenv("MIRROR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MIRROR_DATABASE_URL", f"sqlite:///{db}")
    with Store.open(f"sqlite:///{db}") as store:
        store.upgrade()
        AuditLog(store.engine).record(
            "eve\tadmin", "session", "command", "web1\tfake\nline", {"k": "\x1b]0;t\x07"}, "ok\t1"
        )
    assert main(["audit", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and len(lines[0].split("\t")) == 7, lines
    assert "\x1b" not in lines[0]


# --- TOTP: ASCII digits only; no password oracle -----------------------------------------


@pytest.mark.parametrize("code", ["١٢٣٤٥٦", "１２３４５６", "۱۲۳۴۵۶", "12345\u0667", "½23456"])
async def test_non_ascii_digits_are_a_refusal_that_counts(
    served: tuple[str, AuthService], code: str
) -> None:
    address, auth = served
    auth.add_user("owner", PASSWORD)
    async with httpx.AsyncClient(base_url=f"http://{address}") as client:
        answers = [
            await client.post(
                "/api/auth/login", json={"name": "owner", "password": password, "code": code}
            )
            for password in (PASSWORD, "wrong password")
        ]
    # The right and the wrong password look the same: no oracle, no 500.
    assert [a.status_code for a in answers] == [401, 401]
    assert answers[0].json() == answers[1].json()
    failed = [e["detail"] for e in auth.events(10) if e["kind"] == "login-failed"]
    assert failed == ["wrong-password", "wrong-totp"]  # both counted towards the limits


def test_match_totp_takes_ascii_digits_only() -> None:
    secret = crypto.new_totp_secret()
    now = 1_700_000_000.0
    code = crypto.totp_code(secret, now)
    assert crypto.match_totp(secret, code, now) is not None
    arabic = code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert crypto.match_totp(secret, arabic, now) is None


# --- live work ends when access does -----------------------------------------------------


@pytest.fixture
async def control(sshd: Any, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    from tests.test_control_api import serve_control

    async for served in serve_control(sshd, tmp_path):
        yield served


async def _closed_reason(sock: Any, timeout: float = 15) -> str:
    from websockets.exceptions import ConnectionClosed

    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(timeout):
            while True:
                await sock.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.reason


async def _open_everything(env: dict[str, Any], who: str) -> dict[str, Any]:
    """A terminal, a long command run with its stream, and a tunnel, all held by ``who``."""
    from tests.test_control_api import client, ws

    async with client(env, who) as c:
        run = await c.post("/api/commands", json={"command": "sleep 60", "hosts": ["box"]})
        tunnel = await c.post("/api/tunnels", json={"host": "box", "port": 22, "to": "127.0.0.1"})
    assert run.status_code == 202 and tunnel.status_code == 201, (run.text, tunnel.text)
    term = await ws(env, who, "/api/hosts/box/terminal").__aenter__()
    stream = await ws(env, who, f"/api/commands/{run.json()['id']}/stream").__aenter__()
    return {"run": run.json()["id"], "tunnel": tunnel.json()["id"], "term": term, "stream": stream}


async def _stream_end(stream: Any) -> dict[str, Any]:
    async with asyncio.timeout(15):
        while True:
            message = json.loads(await stream.recv())
            if message["type"] in ("ended", "done"):
                return message


async def test_disabling_a_user_ends_their_terminal_run_stream_and_tunnel(
    control: dict[str, Any],
) -> None:
    from tests.test_control_api import client

    held = await _open_everything(control, "operator")
    async with client(control, "admin") as admin:
        changed = await admin.patch("/api/admin/users/operator", json={"disabled": True})
        assert changed.status_code == 200, changed.text
        assert await _closed_reason(held["term"]) == "user disabled by admin"
        ended = await _stream_end(held["stream"])
        assert ended == {"type": "ended", "reason": "user disabled by admin"}
        for _ in range(100):
            run = (await admin.get(f"/api/commands/{held['run']}")).json()
            if run["done"]:
                break
            await asyncio.sleep(0.1)
        assert run["cancelled"] and run["results"][0]["state"] == "cancelled", run
        [tunnel] = (await admin.get("/api/tunnels")).json()
        assert tunnel["state"] == "closed" and tunnel["close_reason"] == "user disabled by admin"
    await held["stream"].close()


async def test_demoting_to_viewer_ends_the_terminal(control: dict[str, Any]) -> None:
    from tests.test_control_api import client, ws

    async with ws(control, "operator", "/api/hosts/box/terminal") as term:
        async with client(control, "admin") as admin:
            await admin.patch("/api/admin/users/operator", json={"role": "viewer"})
        # The PATCH ends it at once; under load the periodic role re-check can get there first.
        assert await _closed_reason(term) in {"user made viewer by admin", "role is now viewer"}


async def test_a_change_behind_the_apis_back_is_caught_by_the_recheck(
    control: dict[str, Any],
) -> None:
    """`mirror user disable` writes the database directly: the re-check ends the terminal."""
    from tests.test_control_api import ws

    async with ws(control, "operator", "/api/hosts/box/terminal") as term:
        AuthService(control["store"].engine).update_user("operator", disabled=True)
        assert await _closed_reason(term) == "access withdrawn"


async def test_logout_ends_the_sessions_terminal(control: dict[str, Any]) -> None:
    from websockets.asyncio.client import connect as ws_connect

    auth = AuthService(control["store"].engine)
    login = auth.login_with_link(auth.create_login_link("operator"), "127.0.0.1")
    address = control["address"]
    cookie = {"Cookie": f"mirror_session={login.token}", "Origin": f"http://{address}"}
    async with ws_connect(
        f"ws://{address}/api/hosts/box/terminal", additional_headers=cookie
    ) as term:
        async with httpx.AsyncClient(base_url=f"http://{address}") as c:
            out = await c.post("/api/auth/logout", headers={**cookie, "X-CSRF-Token": login.csrf})
            assert out.status_code == 200
        assert await _closed_reason(term) == "logged out"


# --- login limits hold back the source, not the account ---------------------------------


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _fail(auth: AuthService, name: str, address: str, times: int) -> None:
    from mirror.auth import LoginRefused

    for _ in range(times):
        with pytest.raises(LoginRefused):
            auth.login(name, "wrong password", "000000", address)


def test_an_attacker_cannot_lock_the_owner_out(store: Store) -> None:
    from mirror.auth import RateLimited
    from mirror.auth.ratelimit import PER_SOURCE

    clock = Clock()
    auth = AuthService(store.engine, clock)
    secret = auth.add_user("owner", PASSWORD).totp_secret
    attacker, owner_home = "127.0.66.6", "127.0.5.5"
    _fail(auth, "owner", attacker, PER_SOURCE.max_failures)
    with pytest.raises(RateLimited, match="for this account from this address"):
        auth.login("owner", PASSWORD, crypto.totp_code(secret, clock.now), attacker)
    # ... for as long as the attacker keeps trying: limited attempts are not failures.
    clock.now += 600
    with pytest.raises(RateLimited):
        auth.login("owner", "wrong password", "000000", attacker)
    # The owner, from anywhere else, gets in with the right password and code.
    auth.login("owner", PASSWORD, crypto.totp_code(secret, clock.now), owner_home)


def test_a_crowd_of_addresses_does_not_hold_back_a_familiar_one(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mirror.auth import RateLimited, ratelimit

    monkeypatch.setattr(ratelimit, "PER_ACCOUNT", ratelimit.Limit(8, 900))  # fewer hashes
    clock = Clock()
    auth = AuthService(store.engine, clock)
    secret = auth.add_user("owner", PASSWORD).totp_secret
    auth.login("owner", PASSWORD, crypto.totp_code(secret, clock.now), "127.0.5.5")
    clock.now += 3600
    for i in range(8):
        _fail(auth, "owner", f"127.0.70.{i}", 1)
    with pytest.raises(RateLimited, match="addresses new to it"):
        auth.login("owner", PASSWORD, crypto.totp_code(secret, clock.now), "127.0.71.1")
    auth.login("owner", PASSWORD, crypto.totp_code(secret, clock.now), "127.0.5.5")


def test_one_address_guessing_many_accounts_is_held_back_alone(store: Store) -> None:
    from mirror.auth import RateLimited
    from mirror.auth.ratelimit import PER_ADDRESS

    clock = Clock()
    auth = AuthService(store.engine, clock)
    secret = auth.add_user("owner", PASSWORD).totp_secret
    for i in range(PER_ADDRESS.max_failures):
        _fail(auth, f"guess{i}", "127.0.66.6", 1)
    with pytest.raises(RateLimited, match="from this address"):
        auth.login("owner", PASSWORD, crypto.totp_code(secret, clock.now), "127.0.66.6")
    auth.login("owner", PASSWORD, crypto.totp_code(secret, clock.now), "127.0.5.5")


# --- tunnels: who may use them, which ports, where they lead -----------------------------


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"listen_port": 81}, "listen_port must be 0 (any free port) or 1024-65535"),
        ({"listen_port": 70000}, "listen_port must be 0"),
        ({"port": 0}, "port must be 1-65535"),
        ({"to": "127.0.0.1\nX-Injected: 1"}, "to must be an IP address or a host name"),
        ({"to": "bad host"}, "to must be an IP address or a host name"),
        ({"to": ""}, "to must be an IP address or a host name"),
        ({"allowed_from": ["everyone"]}, "allowed_from must list IP addresses or networks"),
    ],
)
async def test_tunnel_requests_are_validated(
    control: dict[str, Any], body: dict[str, Any], said: str
) -> None:
    from tests.test_control_api import client

    async with client(control, "operator") as c:
        answer = await c.post("/api/tunnels", json={"host": "box", "port": 22, **body})
    assert answer.status_code == 400 and said in answer.json()["error"], answer.text


async def _echo_through(host: str, port: int, source: str) -> bytes:
    reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
    writer.write(b"hello")
    await writer.drain()
    try:
        async with asyncio.timeout(5):
            return await reader.read(10)
    except ConnectionResetError:
        return b""  # closed unread: the kernel resets
    finally:
        writer.close()


async def test_only_the_allowed_clients_use_a_tunnel(control: dict[str, Any]) -> None:
    from tests.test_control_api import client

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.readexactly(5))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with client(control, "operator") as c:
            default = (await c.post("/api/tunnels", json={"host": "box", "port": port})).json()
            # Opened from EGO's machine: any loopback client (that is, this machine) may use it.
            assert default["allowed_from"] == ["127.0.0.0/8", "::1/128"]
            answer = await c.post(
                "/api/tunnels",
                json={
                    "host": "box",
                    "port": port,
                    "to": "127.0.0.1",
                    "allowed_from": ["127.0.0.9"],
                },
            )
            tunnel = answer.json()
            assert tunnel["allowed_from"] == ["127.0.0.9/32"], tunnel
            where = (tunnel["listen_host"], tunnel["listen_port"])
            assert await _echo_through(*where, "127.0.0.9") == b"hello"
            assert await _echo_through(*where, "127.0.0.1") == b""  # closed at once
            listed = {t["id"]: t for t in (await c.get("/api/tunnels")).json()}
            assert (listed[tunnel["id"]]["connections"], listed[tunnel["id"]]["refused"]) == (1, 1)
    finally:
        server.close()


async def test_a_token_made_for_another_user_is_audited_under_its_maker(
    control: dict[str, Any],
) -> None:
    from tests.test_control_api import client

    async with client(control, "admin") as admin:
        made = await admin.post(
            "/api/admin/tokens", json={"name": "backup", "scope": "operate", "user": "operator"}
        )
    assert made.status_code == 201, made.text
    [entry] = AuditLog(control["store"].engine).entries(action="token.create")
    assert (entry.actor, entry.target) == ("admin", f"token {made.json()['id']}")
    assert entry.detail == {
        "name": "backup",
        "scope": "operate",
        "user": "operator",
        "expires": None,
    }
    assert made.json()["secret"] not in json.dumps(entry.detail)


# --- bad input is a 4xx with a message, never a 500 ------------------------------------

DEEP = "[" * 1000 + "]" * 1000


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/hosts/alpha/series?metric=cpu.busy_pct&from=-" + "9" * 400 + "s", None),
        ("GET", "/api/hosts/alpha/series?metric=cpu.busy_pct&from=1e18&to=2e18", None),
        ("GET", "/api/hosts/alpha/series?metric=cpu.busy_pct&from=0001-01-01", None),
        ("GET", "/api/hosts/alpha/trend?metric=cpu.busy_pct&from=1e18&to=2e18", None),
        ("GET", "/api/hosts/alpha/trend?metric=cpu.busy_pct&from=-" + "9" * 400 + "s", None),
        ("GET", "/api/hosts/alpha/trend?metric=cpu.busy_pct&limit=inf", None),
        ("POST", "/api/admin/tokens", '{"name": "t", "scope": "read", "expires_in_s": 1e17}'),
        ("POST", "/api/admin/tokens", '{"name": "t", "scope": "read", "expires_in_s": 1e308}'),
        ("POST", "/api/admin/tokens", '{"name": "t", "scope": "read", "expires_in_s": -1}'),
        ("DELETE", "/api/admin/tokens/4556182848470770935599726592", None),  # schemathesis
        ("POST", "/api/commands", '{"command": "true", "hosts": ' + DEEP + "}"),
        ("POST", "/api/commands", '{"zz": ' + DEEP + "}"),
        ("POST", "/api/auth/login", '{"zz": ' + DEEP + ', "name": "a", "password": "b"}'),
    ],
)
async def test_bad_input_is_a_4xx_with_a_message(
    served: tuple[str, AuthService],
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    body: str | None,
) -> None:
    address, auth = served
    auth.add_user("owner", PASSWORD)
    token = auth.create_token("t", "operate", user="owner")[1]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=f"http://{address}") as client:
        answer = await client.request(method, path, content=body, headers=headers)
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)
    assert answer.json()["error"]
    assert "Traceback" not in caplog.text and "unhandled error" not in caplog.text


# --- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("oper1\n", "bad user name"),
        ("аdmin", "bad user name"),  # Cyrillic а
        ("ego", "reserved"),
        ("EGO", "reserved"),
        ("-", "bad user name"),
        (".hidden", "bad user name"),
        ("x" * 65, "bad user name"),
        ("", "bad user name"),
    ],
)
def test_user_names_are_plain(store: Store, name: str, said: str) -> None:
    from mirror.auth import AuthError

    with pytest.raises(AuthError, match=said):
        AuthService(store.engine).add_user(name, PASSWORD)


@pytest.mark.parametrize("name", ["\x1b[2Jgone", "tab\there", "new\nline", "", " pad", "x" * 65])
def test_token_names_are_printable(store: Store, name: str) -> None:
    from mirror.auth import AuthError

    with pytest.raises(AuthError, match="bad token name"):
        AuthService(store.engine).create_token(name, "read")


def test_good_names_still_work(store: Store) -> None:
    auth = AuthService(store.engine)
    for name in ("oper1", "first.last", "me@lab", "a_b-c"):
        auth.add_user(name, PASSWORD)
    auth.create_token("nightly backup (nas)", "read")
    auth.create_token("백업", "read")  # printable in any script


# --- a refused adopt leaves the inventory file as it was ---------------------------------


async def test_a_refused_adopt_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    import yaml

    from mirror.inventory import InventoryError
    from mirror.inventory.adopt import adopt_host
    from mirror.inventory.current import CurrentInventory
    from mirror.inventory.loopback import off_loopback
    from mirror.inventory.reload import InventoryReloader

    data = {"hosts": [{"name": "a", "address": "127.77.0.10"}]}
    path = tmp_path / "inventory.yaml"
    path.write_text("# the owner's comment\n" + yaml.safe_dump(data))
    before = path.read_bytes()

    async def apply(new: Inventory, change: object) -> None:
        pass

    reloader = InventoryReloader(
        path, CurrentInventory(Inventory.from_dict(data)), apply, guard=off_loopback
    )
    with pytest.raises(InventoryError):  # the demo's guard: loopback IPv4 only
        await reloader.edit_and_reload(lambda p: adopt_host(p, "v6", "::1"), "admin", "session")
    assert path.read_bytes() == before
    # The next reload (of an adopt the guard allows) works: nothing broken was left behind.
    await reloader.edit_and_reload(
        lambda p: adopt_host(p, "b", "127.77.0.11", tags=["🚀 rack", "새 서버"]), "admin", "session"
    )
    assert [h.name for h in reloader.current.get().hosts] == ["a", "b"]
    assert reloader.current.get().hosts[1].tags == ["🚀 rack", "새 서버"]


async def test_the_openapi_document_describes_real_error_bodies(
    served: tuple[str, AuthService],
) -> None:
    address, auth = served
    token = auth.create_token("t", "read")[1]
    async with httpx.AsyncClient(base_url=f"http://{address}") as client:
        doc = (
            await client.get("/schema/openapi.json", headers={"Authorization": f"Bearer {token}"})
        ).json()
        unknown = await client.get(
            "/api/hosts/nosuch", headers={"Authorization": f"Bearer {token}"}
        )
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error"] and set(unknown.json()) <= set(error["properties"])
    hosts = doc["paths"]["/api/hosts/{name}"]["get"]["responses"]
    assert {"400", "401", "403", "404", "503"} <= set(hosts)
    assert hosts["404"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    login = doc["paths"]["/api/auth/login"]["post"]["responses"]
    assert {"401", "415", "429"} <= set(login)
    assert "302" in doc["paths"]["/api/auth/link"]["get"]["responses"]
