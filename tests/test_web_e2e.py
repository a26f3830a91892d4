"""End to end: `mirror demo` (real EGO, simulated lab on 127.77.0.x) driven by Debian Chromium.

Log in with password + TOTP, see the fleet update live, open a host, change the range, log
out. Screenshots at desktop and phone sizes go to tests/artifacts/ (gitignored).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest

from tests.support.browser import CHROMIUM, launch
from tests.support.sshd import free_port

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
DEMO_HOSTS = 12
CHARTS_LOADED = (
    "!document.querySelector('.charts > p') && "
    "!!document.querySelector('figure[data-family=cpu] .uplot')"
)
DEMO_COMMAND = [sys.executable, "-m", "cli", "demo"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")


@dataclass
class Demo:
    url: str
    password: str
    totp_secret: str
    link: str
    data: Path  # the demo's data directory (its SQLite database: more accounts for a test)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    if not (ROOT / "web" / "dist" / "index.html").is_file():
        pytest.fail(
            "web/dist is not built: run `scripts/setup.sh --test` (npm ci && npm run build)"
        )
    data = tmp_path_factory.mktemp("demo")
    port, sim = free_port(), str(free_port("127.77.0.10"))
    log = data / "demo.log"
    env = {**os.environ, "MIRROR_DATA_DIR": str(data)}
    env.pop("MIRROR_DATABASE_URL", None)
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*DEMO_COMMAND, "--hosts", str(DEMO_HOSTS), "--port", str(port), "--sim-port", sim],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
        )
    try:
        deadline = time.monotonic() + 30
        text = ""
        while "Ctrl-C stops it." not in text:
            assert proc.poll() is None, f"mirror demo exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"mirror demo did not start:\n{text}"
            time.sleep(0.1)
            text = log.read_text()
        assert "THIS IS A DEMO ACCOUNT" in text
        password = re.search(r"password '([^']+)'", text)
        secret = re.search(r"secret=([A-Z2-7]+)", text)
        link = re.search(r"(http://\S+/api/auth/link\?token=\S+)", text)
        assert password and secret and link, text
        yield Demo(f"http://127.0.0.1:{port}/", password[1], secret[1], link[1], data)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_login_live_fleet_host_page_and_logout(demo: Demo) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))

            # Not logged in: the login page, and the API refuses.
            page.goto(demo.url)
            page.wait_for_selector("form input[name=name]")
            assert page.evaluate("fetch('/api/hosts').then(r => r.status)") == 401
            page.screenshot(path=str(ARTIFACTS / "login-desktop.png"))

            # A wrong code first: a clear message, still on the login page.
            page.fill("input[name=name]", "demo")
            page.fill("input[name=password]", demo.password)
            page.fill("input[name=code]", "000000")
            page.click("button[type=submit]")
            page.wait_for_selector("p.error")
            assert "wrong name, password or code" in page.inner_text("p.error")

            page.fill("input[name=password]", demo.password)
            page.fill("input[name=code]", pyotp.TOTP(demo.totp_secret).now())
            page.click("button[type=submit]")
            page.wait_for_selector("#link.live", timeout=15_000)
            # EGO, the simulated hosts and whatever else the demo adds (SNMP gear).
            page.wait_for_function(
                f"document.querySelectorAll('tr.host').length >= {DEMO_HOSTS + 1}"
            )
            assert page.is_visible(f"tr.host[data-host=lab-{DEMO_HOSTS:02d}]")

            # Live: rows change without a reload, from WebSocket events painted on screen.
            before = page.inner_text("table.hosts")
            page.wait_for_function(
                "(window.__mirrorPaints || []).filter(p => p.host === 'lab-01').length >= 2",
                timeout=20_000,
            )
            page.wait_for_function(
                "text => document.querySelector('table.hosts').innerText !== text",
                arg=before,
            )
            assert "up" in page.inner_text("tr.host[data-host=lab-01]")
            # Each row draws its last hour as sparklines (from the overview and live events).
            page.wait_for_selector(
                "tr.host[data-host=lab-01] svg.spark path", state="attached", timeout=20_000
            )
            # Filter and search.
            page.fill("input[type=search]", "lab-0")
            page.wait_for_function(
                "[...document.querySelectorAll('tr.host')].map(r => r.dataset.host).join() === "
                "'lab-01,lab-02,lab-03,lab-04,lab-05,lab-06,lab-07,lab-08,lab-09'"
            )
            page.fill("input[type=search]", "")
            page.click("th:has-text('CPU')")
            page.screenshot(path=str(ARTIFACTS / "fleet-desktop.png"), full_page=True)

            # A host page: identity, charts per family, range presets.
            page.click("tr.host[data-host=lab-01] a")
            page.wait_for_selector("figure[data-family=cpu] .uplot", timeout=15_000)
            assert "lab-01" in page.inner_text(".identity h2")
            families = page.eval_on_selector_all(
                "figure[data-family]", "els => els.map(e => e.dataset.family)"
            )
            assert {"cpu", "mem", "net"} <= set(families), families
            for preset in ("24h", "15m"):
                page.click(f"button[data-range='{preset}']")
                page.wait_for_selector(f"button.on[data-range='{preset}']")
                page.wait_for_function(CHARTS_LOADED, timeout=15_000)
            page.screenshot(path=str(ARTIFACTS / "host-desktop.png"), full_page=True)

            # The same session on a phone-sized screen.
            page.set_viewport_size({"width": 390, "height": 844})
            page.screenshot(path=str(ARTIFACTS / "host-phone.png"), full_page=True)
            page.click("a.crumb")
            page.wait_for_selector("tr.host[data-host=lab-01]")
            page.screenshot(path=str(ARTIFACTS / "fleet-phone.png"))

            # Log out: back to the login page; the session no longer opens the API.
            page.click("#logout")
            page.wait_for_selector("form input[name=name]")
            assert page.evaluate("fetch('/api/hosts').then(r => r.status)") == 401
            assert not errors, errors
        finally:
            browser.close()


def test_one_time_link_logs_in_once(demo: Demo) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            first = browser.new_page()
            first.goto(demo.link)
            first.wait_for_selector("tr.host", timeout=15_000)
            second = browser.new_context().new_page()
            second.goto(demo.link)
            second.wait_for_selector("p.error")
            assert "already used or has expired" in second.inner_text("p.error")
        finally:
            browser.close()


def test_api_reference_page_is_served_by_ego_alone(demo: Demo) -> None:
    """/schema: Swagger UI with EGO's OpenAPI, every file from EGO (no CDN)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from mirror.auth import AuthService
    from mirror.storage import Store

    with Store.open(f"sqlite:///{demo.data / 'mirror.db'}") as store:
        _, token = AuthService(store.engine).create_token("api-docs", "read")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            context = browser.new_context(extra_http_headers={"Authorization": f"Bearer {token}"})
            page = context.new_page()
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            page.goto(demo.url + "schema")
            page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
            assert "MIRROR STAGE" in page.inner_text(".swagger-ui .info .title")
            page.wait_for_selector("#operations-hosts-ApiHostsListHosts, .opblock", timeout=15_000)
            assert "/api/hosts" in page.inner_text(".swagger-ui")
            page.screenshot(path=str(ARTIFACTS / "api-docs.png"))
        finally:
            browser.close()
    foreign = [url for url in requested if not url.startswith(demo.url)]
    assert not foreign, foreign
