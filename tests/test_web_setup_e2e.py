"""End to end, the setup pages (issue 19): `mirror demo` (a real EGO on its own inventory.yaml)
driven by Debian Chromium, at desktop and phone sizes.

As the demo's admin: a broken value is refused and shown next to its field; "test connection"
logs in to a simulated host and shows its OS and host key; inventory.yaml edited by hand while
a form is open makes the save refused with a message, the hand edit kept; the save made again
is written with the owner's comments, and a new group and a subnet are added. Discovered
addresses are adopted and ignored; a user is created (the TOTP QR code shown once), its role
changed, its TOTP reset, it is deleted; a token is created and revoked; the admin's own
sessions and the settings are listed. As a viewer: no setup link, only the sessions tab, and
the server refuses the inventory. Screenshots go to tests/artifacts/setup-*.png.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ego.demo import DEMO_USER
from mirror.auth import AuthService
from mirror.storage import Store
from tests import test_web_e2e as web
from tests.support.sshd import keygen
from tests.test_inventory_forms import fingerprint

demo = web.demo  # one `mirror demo` for this module

pytestmark = pytest.mark.skipif(
    not web.CHROMIUM.exists(), reason="Debian chromium is not installed"
)

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def _link(demo: web.Demo, user: str, role: str | None = None) -> str:
    store = Store.open(f"sqlite:///{demo.data / 'mirror.db'}")
    try:
        auth = AuthService(store.engine)
        if role is not None:
            auth.add_user(user, "a long enough password", role, replace=True)
        return f"{demo.url}api/auth/link?token={auth.create_login_link(user)}"
    finally:
        store.close()


@pytest.fixture
def page(demo: web.Demo) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    web.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = web.launch(playwright)
        try:
            context = browser.new_context(viewport=DESKTOP)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("dialog", lambda dialog: dialog.accept())  # confirm() of remove, reset
            yield page
            assert not errors, errors
        finally:
            browser.close()


def host_up(page: Any, name: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    state = None
    while state != "up":
        assert time.monotonic() < deadline, f"{name} is {state}, not up"
        page.wait_for_timeout(300)
        state = page.evaluate(
            "async (name) => (await (await fetch('/api/hosts/' + name)).json()).state", name
        )


def shot(page: Any, name: str, *, full: bool = True) -> None:
    page.screenshot(path=str(web.ARTIFACTS / f"setup-{name}.png"), full_page=full)


def open_tab(page: Any, demo: web.Demo, tab: str) -> None:
    page.goto(f"{demo.url}#/setup?tab={tab}")
    page.wait_for_selector(f".setup-page[data-tab={tab}]", timeout=15_000)


def edit(page: Any, name: str) -> Any:
    page.click(f"tr[data-name='{name}'] .edit-entry")
    form = page.locator(f"form.entry-form[data-editing='{name}']")
    form.wait_for()
    return form


def test_hosts_and_gear_forms(page: Any, demo: web.Demo, tmp_path: Path) -> None:
    inventory = demo.data / "inventory.yaml"
    page.goto(_link(demo, DEMO_USER))
    page.wait_for_selector("tr.host[data-host=lab-01]", timeout=15_000)
    host_up(page, "lab-01")  # polled once: its host key is recorded (trusted on first use)
    page.click("#nav-setup")
    page.wait_for_selector("tr[data-name=lab-01]", timeout=15_000)
    assert page.locator("tr[data-name=lab-01] .badge").inner_text() == "up"
    shot(page, "hosts-desktop")

    # A broken value: the server's message next to the field, nothing written.
    before = inventory.read_text()
    page.click("#add-entry")
    form = page.locator("form.entry-form[data-editing='']")
    form.locator("input[name=name]").fill("new-box")
    form.locator("input[name=address]").fill("127.77.0.250")
    form.locator("input[name='ssh.port']").fill("70000")
    form.locator("#save-entry").click()
    error = form.locator("label[data-field='ssh.port'] .field-error")
    error.wait_for()
    assert "65535" in error.inner_text()
    assert form.locator("label[data-field=address] .field-error").count() == 0
    shot(page, "field-error-desktop")
    page.set_viewport_size(PHONE)
    shot(page, "field-error-phone")
    page.set_viewport_size(DESKTOP)
    assert inventory.read_text() == before
    # The demo polls loopback only: an address elsewhere is refused next to its field, by a
    # test connection (nothing is dialled) as by a save.
    form.locator("input[name='ssh.port']").fill("")
    for button in ("#test-connection", "#save-entry"):
        form.locator("input[name=address]").fill(f"10.0.0.{len(button)}")  # clears its error
        assert form.locator("label[data-field=address] .field-error").count() == 0
        form.locator(button).click()
        error = form.locator("label[data-field=address] .field-error")
        error.wait_for()
        assert "loopback" in error.inner_text()
        assert form.locator(".test-result").count() == 0
    assert inventory.read_text() == before
    form.locator("button", has_text="Cancel").click()

    # Test connection: one login to the simulated host, its OS and host key shown.
    form = edit(page, "lab-01")
    form.locator("#test-connection").click()
    result = form.locator(".test-result")
    result.wait_for(timeout=15_000)
    assert result.get_attribute("data-ok") == "true", result.inner_text()
    assert "Linux" in result.inner_text() and "SHA256:" in result.inner_text()
    assert result.get_attribute("data-key") == "known"  # the poller trusted it on first use
    shot(page, "test-connection-desktop")
    form.locator("button", has_text="Cancel").click()

    # The file edited by hand while the form is open: the save is refused, the edit kept.
    form = edit(page, "lab-02")
    form.locator("input[name=tags]").fill("edited-in-browser")
    by_hand = inventory.read_text() + "# added by hand while the form was open\n"
    inventory.write_text(by_hand)
    form.locator("#save-entry").click()
    refused = form.locator(".form-error[data-conflict=true]")
    refused.wait_for()
    assert "changed by someone else" in refused.inner_text()
    shot(page, "conflict-desktop")
    assert inventory.read_text() == by_hand

    # Read again and save: written, the hand comment and the demo's header kept.
    page.click("button:has-text('Read the file again')")
    form = edit(page, "lab-02")
    form.locator("input[name=tags]").fill("edited-in-browser")
    form.locator("#save-entry").click()
    page.wait_for_selector("#setup-notice")
    assert "update host lab-02: tags" in page.inner_text("#setup-notice")
    text = inventory.read_text()
    assert "# added by hand while the form was open" in text
    assert text.startswith("# Written by `mirror demo`")
    lab02 = next(h for h in yaml.safe_load(text)["hosts"] if h["name"] == "lab-02")
    assert lab02["tags"] == ["edited-in-browser"]

    # A group with SSH defaults, and a subnet.
    open_tab(page, demo, "groups")
    page.click("#add-entry")
    form = page.locator("form.entry-form[data-section=groups]")
    form.locator("input[name=name]").fill("racks")
    form.locator("input[name='ssh.user']").fill("ops")
    form.locator("#save-entry").click()
    page.wait_for_selector("tr[data-name=racks]")
    open_tab(page, demo, "subnets")
    page.wait_for_selector("tr[data-name=demo-lab]")
    shot(page, "subnets-desktop")
    data = yaml.safe_load(inventory.read_text())
    assert data["groups"]["racks"] == {"ssh": {"user": "ops"}}

    # A re-installed host: another key recorded for lab-04, which is removed and added again
    # (a new connection): hostkey-changed, and the page trusts the key it offers now.
    host_up(page, "lab-04")
    known = demo.data / "known_hosts"
    lines = known.read_text().splitlines()
    mine = next(ln for ln in lines if ln.startswith("[127.77.0.13]:"))
    other = keygen(tmp_path / "reinstalled")
    old_key = other.with_suffix(".pub").read_text().split()
    old_line = f"{mine.split()[0]} {old_key[0]} {old_key[1]}"
    known.write_text("\n".join([*(ln for ln in lines if ln != mine), old_line]) + "\n")
    open_tab(page, demo, "hosts")
    page.click("tr[data-name=lab-04] .remove-entry")  # confirm() accepted by the fixture
    page.wait_for_selector("tr[data-name=lab-04]", state="detached")
    page.click("#add-entry")
    form = page.locator("form.entry-form[data-editing='']")
    form.locator("input[name=name]").fill("lab-04")
    form.locator("input[name=address]").fill("127.77.0.13")
    form.locator("#save-entry").click()
    page.wait_for_selector("tr[data-name=lab-04]")
    deadline = time.monotonic() + 30
    while page.locator("tr[data-name=lab-04] .trust-entry").count() == 0:
        assert time.monotonic() < deadline, page.inner_text("tr[data-name=lab-04]")
        page.wait_for_timeout(500)
        page.click("button:has-text('Read the file again')")
    page.click("tr[data-name=lab-04] .trust-entry")
    panel = page.locator(".trust-key[data-host=lab-04]")
    panel.locator(".new-key").wait_for()
    assert panel.locator(".old-key").inner_text() == fingerprint(other.with_suffix(".pub"))
    offered = panel.locator(".new-key").inner_text().split()[0]
    assert offered.startswith("SHA256:") and offered != panel.locator(".old-key").inner_text()
    shot(page, "trust-key-desktop")
    panel.locator("#trust-confirm").click()
    panel.locator("p.ok").wait_for()
    assert offered in panel.locator("p.ok").inner_text()
    host_up(page, "lab-04")
    assert old_key[1] not in known.read_text()

    # Discovered addresses (the demo sweeps 127.77.0.0/24: every address answers on
    # loopback): the vendor column, adopt one, ignore another.
    deadline = time.monotonic() + 60
    while not page.evaluate("async () => (await (await fetch('/api/discovered')).json()).length"):
        assert time.monotonic() < deadline, "the demo's sweep found nothing new"
        page.wait_for_timeout(1000)
    open_tab(page, demo, "discovered")
    rows = page.locator(".discovered-list tbody tr")
    rows.first.wait_for()
    assert page.locator("#discovered-error").count() == 0
    assert page.locator(".discovered-list th", has_text="Vendor").count() == 1
    first, second = (rows.nth(i).get_attribute("data-address") for i in (0, 1))
    rows.nth(1).locator(".ignore-button").click()
    page.wait_for_selector(f"tr[data-address='{second}']", state="detached")
    page.check("input[name=show-ignored]")
    page.wait_for_selector(f"tr[data-address='{second}'].muted")
    rows.nth(0).locator("input[name=adopt-name]").fill("adopted-one")
    rows.nth(0).locator(".adopt-button").click()
    page.wait_for_selector(f"tr[data-address='{first}']", state="detached", timeout=15_000)
    adopted = {h["name"]: h for h in yaml.safe_load(inventory.read_text())["hosts"]}
    assert adopted["adopted-one"]["address"] == first
    ignored = json.loads((demo.data / "discovery_ignored.json").read_text())
    assert list(ignored) == [second] and ignored[second]["by"] == DEMO_USER
    shot(page, "discovered-desktop", full=False)  # 240 rows
    page.set_viewport_size(PHONE)
    shot(page, "discovered-phone", full=False)
    page.set_viewport_size(DESKTOP)

    open_tab(page, demo, "settings")
    page.wait_for_selector("#data-dir")
    assert str(demo.data) in page.inner_text("#data-dir")
    assert "MIRROR_RETENTION_RAW" in page.inner_text(".settings-list")
    assert page.locator(".usage-list tr[data-entry='mirror.db']").count() == 1
    shot(page, "settings-desktop")


def test_users_tokens_and_sessions(page: Any, demo: web.Demo) -> None:
    page.goto(_link(demo, DEMO_USER))
    page.wait_for_selector("tr.host[data-host=lab-01]", timeout=15_000)
    open_tab(page, demo, "users")
    page.wait_for_selector(f"tr[data-user={DEMO_USER}]")
    page.fill("input[name=new-name]", "carol")
    page.select_option("select[name=new-role]", "operator")
    page.fill("input[name=new-password]", "carol's long password")
    page.click("#create-user")
    card = page.locator(".enrolment[data-user=carol]")
    card.wait_for()
    assert card.locator(".qr svg").count() == 1 and "otpauth://totp/" in card.inner_text()
    shot(page, "users-enrolment-desktop")
    page.set_viewport_size(PHONE)
    shot(page, "users-enrolment-phone")
    page.set_viewport_size(DESKTOP)
    page.click("#enrolment-done")
    assert page.locator(".enrolment").count() == 0  # shown once
    row = page.locator("tr[data-user=carol]")
    row.locator("select[name=role]").select_option("viewer")
    page.wait_for_function(
        "document.querySelector('tr[data-user=carol] select').value === 'viewer'"
    )
    row.locator(".reset-totp").click()
    page.locator(".enrolment[data-user=carol] .qr svg").wait_for()
    page.click("#enrolment-done")

    page.fill("input[name=token-name]", "grafana")
    page.select_option("select[name=token-user]", "carol")
    page.fill("input[name=token-days]", "30")
    page.click("#create-token")
    secret = page.locator("#token-secret")
    secret.wait_for()
    assert len(secret.inner_text()) > 20
    token = page.locator("tr[data-token=grafana]")
    assert "never" in token.locator(".last-used").inner_text()
    shot(page, "tokens-desktop")
    token.locator(".revoke-token").click()
    page.wait_for_selector("tr[data-token=grafana] .revoke-token", state="detached")
    row.locator(".delete-user").click()
    page.wait_for_selector("tr[data-user=carol]", state="detached")

    page.click("#who")  # one's own sessions
    page.wait_for_selector(".session-list tr[data-current=true]")
    shot(page, "sessions-desktop")
    page.set_viewport_size(PHONE)
    open_tab(page, demo, "hosts")
    page.wait_for_selector("tr[data-name=lab-01]")
    shot(page, "hosts-phone")
    page.click("button:has-text('한국어')")  # the owner's language
    page.wait_for_selector("#tab-users:has-text('사용자와 토큰')")
    page.click("#add-entry")
    page.wait_for_selector("#save-entry:has-text('저장')")
    shot(page, "hosts-phone-ko")


def test_viewer_sees_no_setup_and_is_refused(page: Any, demo: web.Demo) -> None:
    page.goto(_link(demo, "watcher2", "viewer"))
    page.wait_for_selector("tr.host[data-host=lab-01]", timeout=15_000)
    assert page.locator("#nav-setup").count() == 0
    open_tab(page, demo, "sessions")
    page.wait_for_selector(".session-list tr[data-current=true]")
    assert [page.locator(".setup-page .tabs a").nth(i).get_attribute("id") for i in range(1)] == [
        "tab-sessions"
    ]
    assert page.locator(".setup-page .tabs a").count() == 1
    page.goto(f"{demo.url}#/setup?tab=hosts")  # asked for by hand: still only sessions
    page.wait_for_selector(".setup-page[data-tab=sessions]")
    assert page.locator("#add-entry").count() == 0
    page.set_viewport_size(PHONE)
    shot(page, "viewer-phone")
    refused = page.evaluate(
        """async () => {
            const me = await (await fetch('/api/auth/me')).json();
            const get = await fetch('/api/admin/inventory');
            const put = await fetch('/api/admin/inventory/hosts', {method: 'POST',
                body: JSON.stringify({version: 'x', entry: {name: 'x'}}),
                headers: {'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf}});
            return [get.status, put.status];
        }"""
    )
    assert refused == [403, 403]
