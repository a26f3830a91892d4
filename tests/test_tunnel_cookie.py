"""A device's web page reached through a tunnel never sees EGO's session cookie.

Browsers keep cookies per host name, not per port: a tunnel listening on EGO's own address
would hand ``mirror_session`` to whatever answers at the far end (a NAS, a printer), and
with it anyone there could act as the admin who opened the page. Tunnels therefore listen
on an address of their own (``MIRROR_TUNNEL_BIND``, default 127.0.0.2).

Real Chromium, the real API and the real OpenSSH server: the browser signs in to EGO, a
tunnel is opened to a small "device" web server behind the SSH host, and the browser loads
the device's page through the tunnel and lets it ``fetch`` more; the device records every
``Cookie`` header it gets. The control case (a tunnel on EGO's address, as before the fix)
shows the test sees the cookie when it is there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from mirror.auth import AuthService
from mirror.errors import ConfigError
from mirror.inventory import Inventory
from mirror.live import LiveHub
from mirror.settings import DEFAULT_TUNNEL_BIND, Settings, tunnel_bind
from mirror.storage import Store
from poller.commands import OwnConnections, SshCommandRunner
from poller.ssh import KnownHosts
from poller.tunnels import TunnelManager
from tests.support.browser import CHROMIUM, launch_async
from tests.support.sshd import Sshd
from tests.test_api import _serve
from tests.test_commands import inventory_for

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")

DEVICE_PAGE = b"""<!doctype html><title>device</title><p id=done>device page</p>
<script>fetch('/more', {credentials: 'include'}).then(() => document.title = 'fetched')</script>
"""


class Device:
    """A device's web UI on loopback: records each request's Cookie header."""

    def __init__(self) -> None:
        self.cookies: list[str] = []
        self.requests = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.close()
            return
        self.requests += 1
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "cookie":
                self.cookies.append(value.strip())
        body = DEVICE_PAGE if head.startswith("GET / ") else b"ok"
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n%s" % (len(body), body)
        )
        await writer.drain()
        writer.close()


@pytest.fixture
async def ego(sshd: Sshd, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    inventory = Inventory.from_dict(inventory_for(sshd).model_dump(mode="json"))
    store = Store.open(f"sqlite:///{tmp_path / 'mirror.db'}")
    store.upgrade()
    auth = AuthService(store.engine)
    auth.add_user("admin", "correct horse battery", "admin")
    source = OwnConnections(inventory.hosts_resolved(), KnownHosts(tmp_path / "kh"))
    runner = SshCommandRunner(source)  # tunnels where `mirror serve` puts them by default
    app = create_app(store, LiveHub(), inventory, auth=auth, control=runner)
    async for address in _serve(app):
        yield {"address": address, "auth": auth, "runner": runner, "source": source}
    await runner.close()
    store.close()


async def _device_sees(ego: dict[str, Any], tunnel_url: str, device: Device) -> list[str]:
    """Sign in to EGO in Chromium, then browse the device through ``tunnel_url``."""
    async_api = pytest.importorskip("playwright.async_api")
    link = ego["auth"].create_login_link("admin")
    async with async_api.async_playwright() as playwright:
        browser = await launch_async(playwright)
        try:
            page = await browser.new_page()
            await page.goto(f"http://{ego['address']}/api/auth/link?token={link}")
            jar = await page.context.cookies()
            assert any(c["name"] == "mirror_session" for c in jar), jar  # signed in to EGO
            await page.goto(tunnel_url)
            await page.wait_for_function("document.title === 'fetched'", timeout=15_000)
        finally:
            await browser.close()
    assert device.requests >= 2  # the page and its fetch both came through the tunnel
    return device.cookies


async def test_device_page_through_a_tunnel_never_sees_egos_cookie(ego: dict[str, Any]) -> None:
    device = Device()
    port = await device.start()
    try:
        token = ego["auth"].create_token("t", "operate", user="admin")[1]
        async with httpx.AsyncClient(
            base_url=f"http://{ego['address']}", headers={"Authorization": f"Bearer {token}"}
        ) as client:
            response = await client.post(
                "/api/tunnels", json={"host": "box", "port": port, "to": "127.0.0.1"}
            )
        assert response.status_code == 201, response.text
        tunnel = response.json()
        assert tunnel["listen_host"] == DEFAULT_TUNNEL_BIND
        url = f"http://{tunnel['listen_host']}:{tunnel['listen_port']}/"
        seen = await _device_sees(ego, url, device)
        assert not any("mirror_session" in c for c in seen), seen
    finally:
        assert device.server is not None
        device.server.close()


async def test_control_a_tunnel_on_egos_own_address_would_leak_the_cookie(
    ego: dict[str, Any],
) -> None:
    """What the fix prevents: the same browser, a tunnel on EGO's address (127.0.0.1)."""
    device = Device()
    port = await device.start()
    tunnels = TunnelManager(ego["source"], "127.0.0.1")
    try:
        info = await tunnels.open("box", port, "127.0.0.1", 0, "tester")
        seen = await _device_sees(ego, f"http://127.0.0.1:{info.listen_port}/", device)
        assert any("mirror_session" in c for c in seen), seen
    finally:
        await tunnels.close_all()
        assert device.server is not None
        device.server.close()


def test_tunnel_bind_is_never_egos_address() -> None:
    assert Settings.from_env({}).tunnel_bind == DEFAULT_TUNNEL_BIND
    env = {"MIRROR_BIND": "127.0.0.5", "MIRROR_TUNNEL_BIND": "127.0.0.6"}
    assert Settings.from_env(env).tunnel_bind == "127.0.0.6"
    for bad, ego_bind, said in [
        ("127.0.0.1", "127.0.0.1", "EGO's own address"),
        ("127.0.0.1", "localhost", "EGO's own address"),
        ("0.0.0.0", "127.0.0.1", "would include EGO's own address"),
        ("::", "127.0.0.1", "would include EGO's own address"),
        ("tunnels.example", "127.0.0.1", "must be an IP address"),
    ]:
        with pytest.raises(ConfigError, match=said):
            tunnel_bind(bad, ego_bind)
        with pytest.raises(ConfigError, match="MIRROR_TUNNEL_BIND"):
            Settings.from_env({"MIRROR_BIND": ego_bind, "MIRROR_TUNNEL_BIND": bad})
