"""Alerts in a running EGO against the simulated lab: a host that stops answering fires,
the webhook receives it, the API lists, acknowledges (audited, role-checked) and silences
it, and a rule written over the API lands in inventory.yaml with its comments kept."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from ego.runtime import Running, start
from lab import LabServer, ensure_keys, lab_ssh, make_lab
from mirror.audit import AuditLog
from mirror.auth import AuthService
from mirror.inventory import load_inventory
from mirror.settings import Settings
from tests.support.browser import CHROMIUM, launch_async
from tests.support.receivers import HttpReceiver, http_receiver
from tests.test_api import _serve

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
HEADER = "# the lab under test: this comment must survive a rule edit\n"


@dataclass
class Ego:
    running: Running
    address: str
    tokens: dict[str, str]
    path: Path
    hook: HttpReceiver

    def client(self, who: str) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return httpx.AsyncClient(base_url=f"http://{self.address}", headers=headers, timeout=15)


@pytest.fixture
async def ego(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Ego]:
    host_key, client_key, client_pub = ensure_keys(tmp_path / "keys")
    hosts = make_lab(1, subnet="127.78.9.0/24", start=10, seed="alerts")
    with http_receiver() as hook:
        monkeypatch.setenv("MIRROR_TEST_HOOK", f"json://127.0.0.1:{hook.port}/alerts")
        async with LabServer(hosts, 0, host_key, client_pub) as server:
            path = tmp_path / "inventory.yaml"
            data = {
                "poll": {"interval_s": 1, "timeout_s": 1, "slow_every_s": 30},
                "defaults": {"ssh": lab_ssh(client_key, server.port)},
                "hosts": [
                    {"name": hosts[0].name, "address": hosts[0].address},
                    # nothing listens on this port: SSH is refused
                    {"name": "ghost", "address": "127.78.9.99", "ssh": {"port": 9}},
                ],
                "alerts": {
                    "evaluate_every_s": 0.2,
                    "defaults": False,
                    "rules": [
                        {
                            "name": "ssh-silent",
                            "state": ["unreachable", "timeout"],
                            "severity": "critical",
                            "summary": "SSH does not answer",
                        },
                    ],
                },
                "notify": {
                    "link_base": "http://ego.test",
                    "channels": {"hook": {"url_env": "MIRROR_TEST_HOOK"}},
                    "routes": [{"channels": ["hook"], "group_wait": 0}],
                },
            }
            path.write_text(HEADER + yaml.safe_dump(data, sort_keys=False))
            settings = Settings(
                data_dir=tmp_path / "data",
                database_url=f"sqlite:///{tmp_path / 'mirror.db'}",
                inventory_path=path,
                bind_host="127.0.0.1",
                bind_port=0,
                inventory_watch_s=0,
            )
            running = await start(settings, load_inventory(path))
            try:
                auth = AuthService(running.ego.store.engine)
                tokens = {}
                for role in ("viewer", "operator", "admin"):
                    auth.add_user(role, "correct horse battery", role)
                    tokens[role] = auth.create_token(role, "operate", user=role)[1]
                async for address in _serve(running.app):
                    yield Ego(running, address, tokens, path, hook)
            finally:
                await running.stop()


async def test_a_dead_host_fires_notifies_and_is_acked_and_silenced(ego: Ego) -> None:
    got = await ego.hook.arrived(1, 20)
    assert got, "no notification arrived"
    body = json.loads(got[0].body)
    assert "ssh-silent on ghost: SSH does not answer" in body["message"]
    assert "http://ego.test/#/host/ghost" in body["message"]
    assert got[0].path == "/alerts"

    async with ego.client("viewer") as viewer:
        listed = (await viewer.get("/api/alerts")).json()
        [alert] = [a for a in listed if a["target"] == "ghost"]
        assert (alert["rule"], alert["status"], alert["severity"]) == (
            "ssh-silent",
            "firing",
            "critical",
        )
        summary = (await viewer.get("/api/alerts/summary")).json()
        assert summary["firing"] == 1 and summary["critical"] == 1
        refused = await viewer.post(f"/api/alerts/{alert['id']}/ack", json={"comment": "x"})
        assert refused.status_code == 403
        channels = (await viewer.get("/api/alerts/channels")).json()
        assert channels["hook"]["sent"] >= 1 and "MIRROR_TEST_HOOK" not in json.dumps(channels)
        assert str(ego.hook.port) not in json.dumps(channels)

    async with ego.client("operator") as op:
        acked = await op.post(f"/api/alerts/{alert['id']}/ack", json={"comment": "on it"})
        assert acked.status_code == 200, acked.text
        assert (acked.json()["ack_by"], acked.json()["ack_comment"]) == ("operator", "on it")
        bad = await op.post(
            "/api/alerts/silences",
            json={"matchers": {"host": "ghost"}, "duration": "forever", "comment": "x"},
        )
        assert bad.status_code == 400 and "not a duration" in bad.json()["error"]
        made = await op.post(
            "/api/alerts/silences",
            json={"matchers": {"host": "ghost"}, "duration": "2h", "comment": "moving it"},
        )
        assert made.status_code == 201, made.text
        listed = (await op.get("/api/alerts")).json()
        assert listed[0]["silenced_by"] == made.json()["id"]
        gone = await op.delete(f"/api/alerts/silences/{made.json()['id']}")
        assert gone.status_code == 200 and gone.json()["active"] is False

    audit = AuditLog(ego.running.ego.store.engine)
    actions = [(e.actor, e.action, e.target) for e in audit.entries(action="alert.")]
    assert ("operator", "alert.ack", "ghost") in actions
    assert ("operator", "alert.silence", "host=ghost") in actions
    assert ("operator", "alert.unsilence", "host=ghost") in actions


async def test_rule_edits_over_the_api_land_in_the_file(ego: Ego) -> None:
    rule = {"expr": "mem.used_pct > 99", "for": "5m", "severity": "warning"}
    async with ego.client("operator") as op:
        assert (await op.put("/api/alerts/rules/mem-high", json=rule)).status_code == 403
    async with ego.client("admin") as admin:
        done = await admin.put("/api/alerts/rules/mem-high", json=rule)
        assert done.status_code == 200, done.text
        text = ego.path.read_text()
        assert text.startswith(HEADER) and "name: mem-high" in text
        names = [r["name"] for r in (await admin.get("/api/alerts/rules")).json()]
        assert names == ["ssh-silent", "mem-high"]
        before = ego.path.read_text()
        bad = await admin.put("/api/alerts/rules/typo", json={"expr": "mem.usd_pct > 1"})
        assert bad.status_code == 422
        [problem] = bad.json()["detail"]["problems"]
        assert problem.startswith(f"{ego.path}:") and "did you mean 'mem.used_pct'" in problem
        assert ego.path.read_text() == before
        assert (await admin.delete("/api/alerts/rules/mem-high")).status_code == 200
        assert "mem-high" not in ego.path.read_text()
        test = await admin.post("/api/alerts/channels/hook/test")
        assert test.status_code == 200
        assert (await admin.post("/api/alerts/channels/nope/test")).status_code == 422


async def _mirror(ego: Ego, *args: str) -> tuple[int, str, str]:
    import os
    import sys

    env = dict(os.environ, MIRROR_TOKEN=ego.tokens["operator"])
    mirror = str(Path(sys.executable).with_name("mirror"))
    proc = await asyncio.create_subprocess_exec(
        mirror, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_the_cli_lists_silences_and_tests_a_channel(ego: Ego) -> None:
    await ego.hook.arrived(1, 20)
    server = ["--server", f"http://{ego.address}"]
    rc, out, err = await _mirror(ego, "alerts", "list", *server)
    assert rc == 0, err
    assert "firing" in out and "ssh-silent" in out and "ghost" in out
    rc, out, err = await _mirror(
        ego,
        "alerts",
        "silence",
        *server,
        "--match",
        "host=ghost",
        "--for",
        "1h",
        "--comment",
        "cable swap",
        "--weekly",
        "sat@02:00+2h",
    )
    assert rc == 0, err
    assert out.startswith("silence ")
    rc, out, _ = await _mirror(ego, "alerts", "silences", *server)
    assert "host=ghost" in out and "operator: cable swap" in out
    rc, _, err = await _mirror(
        ego, "alerts", "silence", *server, "--match", "ghost", "--for", "1h", "--comment", "x"
    )
    assert rc == 2 and err.strip() == "mirror: --match 'ghost': expected LABEL=GLOB, e.g. host=nas"
    before = len(ego.hook.got)
    rc, out, err = await _mirror(ego, "notify", "test", "hook", "-i", str(ego.path))
    assert rc == 0, err
    assert out.strip() == "hook: sent"
    got = await ego.hook.arrived(before + 1)
    assert "channel hook works" in json.loads(got[-1].body)["message"]


RECORD_NOTIFICATIONS = """
window.__notes = [];
const Real = window.Notification;
class Recorded extends Real {
  constructor(title, options) {
    super(title, options);
    window.__notes.push({ title, body: options && options.body, note: this });
  }
}
Recorded.requestPermission = Real.requestPermission.bind(Real);
Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
window.Notification = Recorded;
"""


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")
async def test_the_page_badges_notifies_and_opens_the_host(ego: Ego) -> None:
    async_api = pytest.importorskip("playwright.async_api")
    if not (ROOT / "web" / "dist" / "index.html").is_file():
        pytest.fail("web/dist is not built: run `scripts/setup.sh --test`")
    await ego.hook.arrived(1, 20)  # ghost fires
    auth = AuthService(ego.running.ego.store.engine)
    link = auth.create_login_link("operator")
    url = f"http://{ego.address}/"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_api.async_playwright() as playwright:
        browser = await launch_async(playwright)
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 720})
            await context.grant_permissions(["notifications"], origin=url.rstrip("/"))
            await context.add_init_script(RECORD_NOTIFICATIONS)
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            await page.goto(f"{url}api/auth/link?token={link}")
            await page.wait_for_selector("#alert-badge.badge.bad", timeout=15_000)
            assert await page.inner_text("#alert-badge") == "1"
            # Firing before the page opened: not announced. Silenced, then the silence ends:
            # it is firing and unannounced again, and the page says so once.
            async with ego.client("operator") as op:
                made = await op.post(
                    "/api/alerts/silences",
                    json={"matchers": {"host": "ghost"}, "duration": "1h", "comment": "e2e"},
                )
                await page.wait_for_timeout(6000)
                await op.delete(f"/api/alerts/silences/{made.json()['id']}")
            await page.wait_for_function("window.__notes.length > 0", timeout=15_000)
            notes = await page.evaluate("window.__notes.map(n => [n.title, n.body])")
            assert notes == [["CRITICAL: ssh-silent on ghost", "SSH does not answer"]]
            await page.evaluate("window.__notes[0].note.onclick()")
            await page.wait_for_function("location.hash === '#/host/ghost'")

            await page.click("#nav-alerts")
            await page.wait_for_selector("#alerts-table tr[data-status=firing]")
            await page.screenshot(path=str(ARTIFACTS / "alerts-desktop.png"))
            page.on("dialog", lambda d: asyncio.ensure_future(d.accept("rebooting it")))
            await page.click("button[data-ack]")
            await page.wait_for_selector("#alerts-table td >> text=acked by operator")
            await page.click("#tab-channels")
            await page.wait_for_selector("#channels >> text=hook")
            await page.screenshot(path=str(ARTIFACTS / "alerts-channels.png"))
            assert errors == []
        finally:
            await browser.close()


async def test_a_browser_subscribes_to_web_push_and_gets_the_test_message(ego: Ego) -> None:
    import base64

    import http_ece
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    key = ec.generate_private_key(ec.SECP256R1())
    p256dh = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    auth = b"fedcba9876543210"
    with http_receiver() as push_service:
        push_service.ok_status = 201
        endpoint = f"http://127.0.0.1:{push_service.port}/wpush/v2/xyz"
        async with ego.client("viewer") as viewer:
            vapid = (await viewer.get("/api/alerts/push/key")).json()["public_key"]
            assert len(base64.urlsafe_b64decode(vapid + "==")) == 65
            sub = {
                "endpoint": endpoint,
                "keys": {"p256dh": b64(p256dh), "auth": b64(auth)},
                "expirationTime": None,
            }
            made = await viewer.post("/api/alerts/push/subscriptions", json=sub)
            assert made.status_code == 201, made.text
            listed = (await viewer.get("/api/alerts/push/subscriptions")).text
            assert "viewer" in listed and endpoint not in listed and b64(auth) not in listed
            channels = (await viewer.get("/api/alerts/channels")).json()
            assert "webpush" in channels
        async with ego.client("admin") as admin:
            sent = await admin.post("/api/alerts/channels/webpush/test")
            assert sent.status_code == 200, sent.text
        [got] = push_service.got
        message = json.loads(http_ece.decrypt(got.body, private_key=key, auth_secret=auth))
        assert message["title"] == "MIRROR STAGE: test message"
        assert message["url"] == "/#/alerts"
