"""End to end, control (issue 6): `mirror demo` driven by Debian Chromium.

As an operator: run commands on one host, a group and a hand-picked set with live output,
exit status and cancel; a named action's parameter refused by the server; the web terminal
(Korean echo, copy and paste through the clipboard, resize, the close reason); the audit
page with filters and the chain check, then a row edited behind EGO's back and named by
it. Tunnels: opened from the host page, listed, and closed on the tunnels page. As a
viewer: no controls, and the terminal refused by the server. Screenshots go to
tests/artifacts/. The demo and the browser set-up are test_web_e2e's.
"""

from __future__ import annotations

import re
import socket
import sqlite3
from typing import Any

import pytest

from mirror.auth import AuthService
from mirror.storage import Store
from tests import test_web_e2e as web

demo = web.demo  # the same module-scoped fixture: one `mirror demo` for this file

pytestmark = pytest.mark.skipif(
    not web.CHROMIUM.exists(), reason="Debian chromium is not installed"
)

# The terminal's rows as text (xterm's DOM renderer: one div per row, NBSP for blanks).
TERM_LINES = (
    "[...document.querySelectorAll('.xterm-rows > div')]"
    ".map(d => d.textContent.replace(/\\u00a0/g, ' ').trimEnd())"
)
RUN_DONE = ".run[data-done=true]"


def _term_line(page: Any, text: str, timeout_ms: int = 10_000) -> None:
    """Wait until one terminal row reads exactly ``text``."""
    page.wait_for_function(f"t => {TERM_LINES}.includes(t)", arg=text, timeout=timeout_ms)


def _term_size(page: Any) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)×(\d+)", page.inner_text("#term-size"))
    assert match, page.inner_text("#term-size")
    return int(match[1]), int(match[2])


def _run(page: Any, command: str) -> Any:
    """Type ``command`` into the run form, start it, and wait for its run to finish."""
    before = page.locator(".run").count()
    page.fill("input[name=command]", command)
    page.click(".run-form button[type=submit]")
    page.wait_for_function(f"document.querySelectorAll('.run').length > {before}")
    return _finished(page, page.locator(".run").first)  # newest first


def _finished(page: Any, run: Any) -> Any:
    selector = f".run[data-run='{run.get_attribute('data-run')}'][data-done=true]"
    page.wait_for_selector(selector, timeout=20_000)
    return page.locator(selector)


def test_operator_runs_commands_uses_the_terminal_and_reads_the_audit(demo: web.Demo) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    web.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = web.launch(playwright)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            context.grant_permissions(
                ["clipboard-read", "clipboard-write"], origin=demo.url.rstrip("/")
            )
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(demo.link)  # the demo account is an admin: it may operate
            page.wait_for_selector("tr.host[data-host=lab-01]", timeout=15_000)
            # The control pages and xterm are not in the first load.
            scripts = page.evaluate(
                "performance.getEntriesByType('resource').map(e => e.name)"
                ".filter(n => n.endsWith('.js'))"
            )
            assert not any("Terminal" in s or "controlPages" in s for s in scripts), scripts

            # One host: uptime, streamed, exit 0 and a duration.
            page.click("#nav-run")
            page.wait_for_function(
                "[...document.querySelectorAll('select[name=host] option')]"
                ".some(o => o.value === 'lab-01')"
            )
            page.select_option("select[name=host]", "lab-01")
            run = _run(page, "uptime")
            host = run.locator(".run-host[data-host=lab-01]")
            assert host.get_attribute("data-state") == "ok"
            assert host.locator("[data-exit]").inner_text() == "exit 0"
            assert "load average" in host.locator("pre.out").inner_text()
            assert re.fullmatch(r"\d+\.\d\d s", host.locator("[data-duration]").inner_text())

            # stderr shows apart (red), with the exit status the shell gave.
            run = _run(page, "no-such-tool --help")
            host = run.locator(".run-host[data-host=lab-01]")
            assert host.get_attribute("data-state") == "failed"
            assert host.locator("[data-exit]").inner_text() == "exit 127"
            assert "not found" in host.locator("pre.out .stderr").inner_text()

            # A group: each host's output in its own box.
            page.check("input[name=mode][value=group]")
            page.select_option("select[name=group]", "workstations")
            run = _run(page, "hostname")
            boxes = run.locator(".run-host")
            names = [boxes.nth(i).get_attribute("data-host") for i in range(boxes.count())]
            assert len(names) >= 2, names
            for name in names:
                box = run.locator(f".run-host[data-host='{name}']")
                assert box.locator("pre.out").inner_text().strip() == name
                assert box.get_attribute("data-state") == "ok"

            # Hand-picked, and cancelled while it runs.
            page.check("input[name=mode][value=picked]")
            page.fill(".picker input[type=search]", "lab-0")
            page.check("input[name=pick][value=lab-02]")
            page.check("input[name=pick][value=lab-03]")
            page.fill("input[name=command]", "sleep 30")
            page.click(".run-form button[type=submit]")
            page.wait_for_selector(".run[data-done=false] [data-cancel]")
            page.screenshot(path=str(web.ARTIFACTS / "run-desktop.png"), full_page=True)
            page.click(".run[data-done=false] [data-cancel]")
            run = _finished(page, page.locator(".run").first)
            states = run.locator(".run-host").evaluate_all(
                "els => els.map(e => [e.dataset.host, e.dataset.state])"
            )
            assert states == [["lab-02", "cancelled"], ["lab-03", "cancelled"]]
            page.set_viewport_size({"width": 390, "height": 844})
            page.screenshot(path=str(web.ARTIFACTS / "run-phone.png"), full_page=True)
            page.set_viewport_size({"width": 1440, "height": 900})

            # A named action from the host page: the server's 400 is shown as is.
            page.goto(demo.url + "#/host/lab-01")
            page.wait_for_selector("#controls details.actions")
            page.click("#controls summary")
            form = page.locator("form.action[data-action=service-status]")
            form.locator("input[name=service]").fill("ssh; rm -rf /")
            form.locator("button[type=submit]").click()
            assert "must be a systemd unit name" in form.locator("p.error").inner_text()
            reboot = page.locator("form.action[data-action=reboot]")
            reboot.locator("button[type=submit]").click()
            assert "needs confirmation" in reboot.locator("p.error").inner_text()
            form.locator("input[name=service]").fill("ssh")
            form.locator("button[type=submit]").click()
            page.wait_for_selector("#controls .run[data-done=true] .run-host[data-host=lab-01]")
            # The simulated host answers `systemctl status ssh` as a real one (lab/tools.py).
            assert "ssh.service - OpenBSD Secure Shell server" in page.inner_text(
                "#controls .run pre.out"
            )
            page.screenshot(path=str(web.ARTIFACTS / "host-controls-desktop.png"), full_page=True)

            # The terminal: Korean in and out, copy and paste, resize, the close reason.
            page.click("#open-terminal")
            page.wait_for_selector("#term-status[data-state=open]", timeout=15_000)
            _term_line(page, "demo@lab-01:~$")
            page.keyboard.type("echo 안녕")
            page.keyboard.press("Enter")
            _term_line(page, "안녕")
            row = page.evaluate(f"{TERM_LINES}.indexOf('안녕')")
            box = page.locator(".xterm-rows > div").nth(row).bounding_box()
            assert box is not None
            # Three clicks select the line (xterm takes the mouse on its screen layer).
            page.mouse.click(box["x"] + 12, box["y"] + box["height"] / 2, click_count=3)
            page.keyboard.press("Control+Shift+C")
            page.wait_for_function("navigator.clipboard.readText().then(t => t.includes('안녕'))")
            page.evaluate("navigator.clipboard.writeText('echo pasted-42')")
            page.keyboard.press("Control+Shift+V")
            _term_line(page, "demo@lab-01:~$ echo pasted-42")  # the paste reads the clipboard first
            page.keyboard.press("Enter")
            _term_line(page, "pasted-42")
            page.screenshot(path=str(web.ARTIFACTS / "terminal-desktop.png"))

            cols, rows = _term_size(page)
            page.set_viewport_size({"width": 900, "height": 560})
            page.wait_for_function(
                "s => document.querySelector('#term-size').textContent !== s",
                arg=f"{cols}×{rows}",
            )
            smaller = _term_size(page)
            assert smaller[0] < cols and smaller[1] < rows, (cols, rows, smaller)
            page.keyboard.type("stty size")
            page.keyboard.press("Enter")
            _term_line(page, f"{smaller[1]} {smaller[0]}")

            page.set_viewport_size({"width": 390, "height": 844})
            page.wait_for_function(
                "s => document.querySelector('#term-size').textContent !== s",
                arg=f"{smaller[0]}×{smaller[1]}",
            )
            phone = _term_size(page)
            page.keyboard.type("stty size")
            page.keyboard.press("Enter")
            _term_line(page, f"{phone[1]} {phone[0]}")
            page.screenshot(path=str(web.ARTIFACTS / "terminal-phone.png"))

            page.keyboard.type("exit")
            page.keyboard.press("Enter")
            page.wait_for_selector("#term-status[data-state=closed]")
            assert "the shell ended" in page.inner_text("#term-status")
            assert page.is_visible("#term-reconnect")

            # The audit page: what was done, filtered; the chain checks out.
            page.set_viewport_size({"width": 1440, "height": 900})
            page.click("#nav-audit")
            page.wait_for_selector("table.audit-log tr[data-action=command]")
            command_row = page.locator("table.audit-log tr[data-action=command]", has_text="uptime")
            assert command_row.count() == 1
            cells = command_row.locator("td").all_inner_texts()
            assert cells[2].startswith("demo") and cells[4] == "lab-01", cells
            assert cells[6] == "started", cells
            done_row = page.locator("table.audit-log tr[data-action='command.done']").last
            assert "lab-01" in done_row.inner_text() and "ok" in done_row.inner_text()
            page.fill("input[name=action]", "terminal")
            page.fill("input[name=target]", "lab-01")
            page.wait_for_function(
                "[...document.querySelectorAll('table.audit-log tbody tr')]"
                ".map(r => r.dataset.action).join() === 'terminal.end,terminal.start'"
            )
            assert "the shell ended" in page.inner_text(
                "table.audit-log tr[data-action='terminal.end']"
            )
            page.fill("input[name=action]", "")
            page.fill("input[name=target]", "")
            page.wait_for_selector("table.audit-log tr[data-action^=auth]")
            page.click("#verify")
            page.wait_for_selector("#verify-result[data-ok=true]")
            assert "Chain intact" in page.inner_text("#verify-result")
            page.screenshot(path=str(web.ARTIFACTS / "audit-desktop.png"), full_page=True)

            # Someone edits a row in the database (after removing the guard trigger).
            edited = int(command_row.get_attribute("data-id") or 0)
            with sqlite3.connect(demo.data / "mirror.db", timeout=10) as db:
                db.execute("DROP TRIGGER audit_log_no_update")
                db.execute("UPDATE audit_log SET result = 'nothing ran' WHERE id = ?", (edited,))
            page.click("#verify")
            page.wait_for_selector("#verify-result[data-ok=false]")
            assert f"entry {edited}" in page.inner_text("#verify-result")
            assert page.get_attribute(f"tr[data-id='{edited}']", "class") == "broken"
            page.set_viewport_size({"width": 390, "height": 844})
            page.screenshot(path=str(web.ARTIFACTS / "audit-phone.png"), full_page=True)
            assert not errors, errors
        finally:
            browser.close()


def test_viewer_gets_no_controls_and_no_terminal(demo: web.Demo) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    store = Store.open(f"sqlite:///{demo.data / 'mirror.db'}")
    try:
        auth = AuthService(store.engine)
        auth.add_user("watcher", "a viewer's password", "viewer", replace=True)
        token = auth.create_login_link("watcher")
    finally:
        store.close()
    with sync_api.sync_playwright() as playwright:
        browser = web.launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(f"{demo.url}api/auth/link?token={token}")
            page.wait_for_selector("tr.host[data-host=lab-01]", timeout=15_000)
            assert "viewer" in page.inner_text(".who")
            assert not page.is_visible("#nav-run") and not page.is_visible("#nav-audit")
            page.click("tr.host[data-host=lab-01] a")
            page.wait_for_selector(".identity h2")
            page.wait_for_selector("figure[data-family]", timeout=15_000)
            assert page.locator("#controls").count() == 0
            # Hidden is not enough: the server refuses a viewer's terminal.
            page.goto(demo.url + "#/terminal/lab-01")
            page.wait_for_selector("#term-status[data-state=closed]", timeout=15_000)
            assert "refused" in page.inner_text("#term-status")
            refused = page.evaluate(
                """async () => {
                    const me = await (await fetch('/api/auth/me')).json();
                    const r = await fetch('/api/commands', {method: 'POST', body: JSON.stringify(
                        {command: 'true', hosts: ['lab-01']}), headers: {'Content-Type':
                        'application/json', 'X-CSRF-Token': me.csrf}});
                    return [r.status, (await r.json()).error];
                }"""
            )
            assert refused == [403, "needs role operator or admin"], refused
        finally:
            browser.close()


def _login_link(user: str, demo: web.Demo) -> str:
    """A fresh one-use login link (the demo's own was used by the first test)."""
    store = Store.open(f"sqlite:///{demo.data / 'mirror.db'}")
    try:
        return AuthService(store.engine).create_login_link(user)
    finally:
        store.close()


def test_operator_opens_lists_and_closes_a_tunnel(demo: web.Demo) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    web.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = web.launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{demo.url}api/auth/link?token={_login_link('demo', demo)}")
            page.wait_for_selector("tr.host[data-host=lab-01]", timeout=15_000)

            # From the host page: the host is fixed; a bad port is refused before asking.
            page.goto(demo.url + "#/host/lab-01")
            page.click("#controls details.host-tunnels summary")
            form = page.locator("#controls .tunnel-form")
            form.locator("input[name=port]").fill("99999")
            form.locator("#open-tunnel").click()
            assert "1-65535" in form.locator("[role=alert]").inner_text()
            form.locator("input[name=port]").fill("8080")
            form.locator("#open-tunnel").click()
            opened = page.wait_for_selector("#tunnel-opened", timeout=15_000)
            route = re.search(r"127\.0\.0\.2:(\d+) → localhost:8080", opened.inner_text())
            assert route, opened.inner_text()

            # Listed on the tunnels page with who opened it, then closed there.
            page.click("#nav-tunnels")
            row = page.locator("table.tunnel-list tr[data-state=open]")
            row.wait_for(timeout=10_000)
            assert row.count() == 1
            cells = row.locator("td")
            assert cells.nth(0).inner_text() == "lab-01"
            assert cells.nth(1).inner_text() == f"127.0.0.2:{route[1]} → localhost:8080"
            assert cells.nth(2).inner_text() == "demo"
            page.screenshot(path=str(web.ARTIFACTS / "tunnels.png"), full_page=True)
            row.locator("button.close-tunnel").click()
            closed = page.locator("table.tunnel-list tr[data-state=closed]")
            closed.wait_for(timeout=10_000)
            assert "closed by demo" in closed.locator(".closed-reason").inner_text()
            assert page.locator("table.tunnel-list tr[data-state=open]").count() == 0
            with pytest.raises(OSError):  # nothing listens there any more
                socket.create_connection(("127.0.0.2", int(route[1])), timeout=2).close()

            audit = page.evaluate(
                "async () => (await (await fetch('/api/audit?action=tunnel')).json())"
                ".map(e => [e.action, e.actor])"
            )
            assert audit[:2] == [["tunnel.close", "demo"], ["tunnel.open", "demo"]], audit
            assert not errors, errors
        finally:
            browser.close()
