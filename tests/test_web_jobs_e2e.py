"""End to end, the Jobs page (issue 18) in Debian Chromium against the real OpenSSH server:
an operator sees each job's schedule and next run, presses Run now, watches the output
arrive per host and the run end, and finds each target's result and the run in the
history; a viewer sees the jobs without the buttons. Screenshot: tests/artifacts/jobs-desktop.png.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from api.app import built_web_dir, create_app
from mirror.audit import AuditLog
from mirror.auth import AuthService
from mirror.inventory import Inventory
from mirror.inventory.current import CurrentInventory
from mirror.live import LiveHub
from mirror.storage import Store
from poller.commands import PollerConnections, SshCommandRunner
from poller.host import HostPoller
from poller.job_scheduler import JobScheduler
from poller.ssh import KnownHosts
from tests.support.browser import CHROMIUM, launch_async
from tests.support.sshd import Sshd
from tests.test_api import _serve
from tests.test_commands import inventory_for
from tests.test_web_e2e import ARTIFACTS

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")


@pytest.fixture
async def ego(sshd: Sshd, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    web_dir = built_web_dir()
    if web_dir is None:
        pytest.fail("the web UI is not built: cd web && npm run build")
    data = inventory_for(sshd).model_dump(mode="json", exclude_none=True)
    data["jobs"] = {
        "nightly-report": {
            "description": "Disk and uptime report",
            "command": "uptime; df -h / | tail -1",
            "targets": {"groups": ["lab"]},
            "schedule": {"cron": "0 3 * * *", "timezone": "Asia/Seoul"},
        },
        "reach-all": {"command": "echo here", "targets": {"hosts": ["box", "gone"]}},
    }
    inventory = Inventory.from_dict(data)
    store = Store.open(f"sqlite:///{tmp_path / 'mirror.db'}")
    store.upgrade()
    auth = AuthService(store.engine)
    auth.add_user("olive", "correct horse battery", "operator")
    auth.add_user("vera", "correct horse battery", "viewer")
    known = KnownHosts(tmp_path / "kh")
    pollers = [
        HostPoller(h, known, interval_s=5, timeout_s=3, slow_every_s=30)
        for h in inventory.hosts_resolved()
    ]
    runner = SshCommandRunner(PollerConnections(pollers))
    audit = AuditLog(store.engine)
    jobs = JobScheduler(CurrentInventory(inventory), runner, audit, store.engine)
    await jobs.start()
    app = create_app(
        store,
        LiveHub(),
        inventory,
        static_dir=web_dir,
        auth=auth,
        control=runner,
        audit=audit,
        scheduled_jobs=jobs,
    )
    async for address in _serve(app):
        yield {"url": f"http://{address}", "auth": auth}
    await jobs.stop()
    await runner.close()
    for poller in pollers:
        await poller.close()
    store.close()


async def test_operator_runs_a_job_now_and_watches_it(ego: dict[str, Any]) -> None:
    playwright_api = pytest.importorskip("playwright.async_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with playwright_api.async_playwright() as playwright:
        browser = await launch_async(playwright)
        try:
            page = await browser.new_page(viewport={"width": 1440, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            link = ego["auth"].create_login_link("olive")
            await page.goto(f"{ego['url']}/api/auth/link?token={link}")
            await page.click("#nav-jobs")
            row = page.locator("tr[data-job=nightly-report]")
            await row.wait_for(timeout=15_000)
            assert "cron 0 3 * * * (Asia/Seoul)" in await row.inner_text()
            assert (await row.locator("[data-next]").inner_text()).startswith("in ")
            assert await row.locator("[data-last]").inner_text() == "never run"

            await page.locator("tr[data-job=reach-all] button.run-now").click()
            live = page.locator(".job-live")
            await page.wait_for_selector(".job-live[data-state=failed]", timeout=20_000)
            box = live.locator(".run-host[data-host=box]")
            assert await box.get_attribute("data-state") == "ok"
            assert await box.locator("pre.out").inner_text() == "here\n"
            gone = live.locator(".run-host[data-host=gone]")
            assert await gone.get_attribute("data-state") == "error"
            assert "refused" in await gone.locator(".badge").inner_text()

            await row.locator("button.run-now").click()
            await page.wait_for_selector(".job-live[data-state=ok]", timeout=20_000)
            assert "load average" in await page.locator(".job-live pre.out").inner_text()
            # After the run the table reloads: last result per target and the history.
            await page.wait_for_selector(
                "tr[data-job=reach-all] .chip.bad[data-target=gone]", timeout=10_000
            )
            await page.wait_for_selector("tr[data-job=nightly-report] .chip.ok[data-target=box]")
            history = page.locator(".run-history tbody tr")
            assert await history.count() == 2
            first = await history.nth(1).inner_text()
            assert "reach-all" in first and "olive" in first and "failed" in first

            await row.locator("button", has_text="Pause").click()
            await page.wait_for_function(
                "document.querySelector('tr[data-job=nightly-report] [data-next]')"
                ".textContent === 'paused'"
            )
            await page.screenshot(path=str(ARTIFACTS / "jobs-desktop.png"), full_page=True)
            assert errors == []

            viewer = await browser.new_page(viewport={"width": 390, "height": 844})
            link = ego["auth"].create_login_link("vera")
            await viewer.goto(f"{ego['url']}/api/auth/link?token={link}")
            await viewer.click("#nav-jobs")
            await viewer.locator("tr[data-job=nightly-report]").wait_for(timeout=15_000)
            assert await viewer.locator("button.run-now").count() == 0
            assert await viewer.locator(".run-history tbody tr").count() == 2
            await viewer.screenshot(path=str(ARTIFACTS / "jobs-phone.png"), full_page=True)
        finally:
            await browser.close()
