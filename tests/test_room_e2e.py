"""The 3D room in Debian Chromium (software GL) against `mirror demo`: the demo's two racks and
desks, the cable documented on the wrong port in the drift list, search flies to a device and
a click on it opens its page, heat mode; a generated room of 20 racks, 300 devices and 300
cables draws in <= 30 calls (three's renderer.info). Screenshots (desktop and phone) go to
tests/artifacts/.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.browser import CHROMIUM, launch
from tests.test_web_e2e import ARTIFACTS, Demo, demo  # noqa: F401 - the demo fixture

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")

MAX_DRAW_CALLS = 30
ROOM_READY = "!!window.__mirrorRoom"


def _signed_in(browser: Any, demo: Demo) -> Any:  # noqa: F811
    """A browser context signed in with the demo's one-time login link."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(demo.link)
    page.wait_for_selector("tr.host", timeout=15_000)
    return context, page


def test_demo_room_drift_search_click_and_heat(demo: Demo) -> None:  # noqa: F811
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            context, page = _signed_in(browser, demo)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.click("#nav-room")
            page.wait_for_function(ROOM_READY, timeout=20_000)
            # The demo documents lab-05 on lab-06's port: the check says so once the hosts'
            # interfaces are known (the page refreshes every 10 s).
            page.wait_for_selector("#room-drift li[data-status=wrong-port]", timeout=40_000)
            drift = page.inner_text("#room-drift")
            assert "P-05" in drift and "documented lab-05:eth0" in drift, drift
            info = page.evaluate("window.__mirrorRoom.info()")
            assert 0 < info["calls"] <= MAX_DRAW_CALLS, info
            page.screenshot(path=str(ARTIFACTS / "room-desktop.png"))

            page.fill("#room-search", "lab-03")
            page.press("#room-search", "Enter")
            page.wait_for_timeout(1200)  # the 0.7 s flight
            assert not page.is_visible(".room-bar .error")
            page.screenshot(path=str(ARTIFACTS / "room-fly-lab-03.png"))
            box = page.locator("#room-canvas").bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.wait_for_function("location.hash === '#/host/lab-03'", timeout=5_000)

            page.evaluate("window.__mirrorRoom = undefined")
            page.goto(demo.url + "#/room")
            page.wait_for_function(ROOM_READY, timeout=20_000)
            page.check("#room-heat")
            page.wait_for_timeout(300)
            page.screenshot(path=str(ARTIFACTS / "room-heat-desktop.png"))
            page.fill("#room-search", "no-such-box")
            page.press("#room-search", "Enter")
            assert "no-such-box" in page.inner_text(".room-bar .error")
            assert errors == []

            # An admin moves a device from the page: written, reloaded, drawn there.
            page.select_option("#room-edit-device", "lab-02")
            page.select_option("#room-edit-target", "rack:rack-b")
            page.fill("#room-edit-u", "30")
            page.click("#room-edit button[type=submit]")
            page.wait_for_selector("#room-edit-result.muted")
            world = page.evaluate("fetch('/api/world').then(r => r.json())")
            [rack_b] = [r for r in world["sites"][0]["rooms"][0]["racks"] if r["name"] == "rack-b"]
            assert {"device": "lab-02", "u": 30, "height_u": 2} in rack_b["devices"]
            page.select_option("#room-edit-device", "lab-03")
            page.fill("#room-edit-u", "31")
            page.click("#room-edit button[type=submit]")
            page.wait_for_selector("#room-edit-result.error")
            refused = page.inner_text("#room-edit-result")
            assert "inventory.yaml:" in refused and "U31 is already taken by 'lab-02'" in refused
            page.screenshot(path=str(ARTIFACTS / "room-edit-refused.png"), full_page=True)
            assert errors == []

            phone = context.new_page()
            phone.set_viewport_size({"width": 390, "height": 844})
            phone.goto(demo.url + "#/room")
            phone.wait_for_function(ROOM_READY, timeout=20_000)
            phone.wait_for_selector("#room-drift li", timeout=20_000)
            phone.screenshot(path=str(ARTIFACTS / "room-phone.png"), full_page=True)

            # The scale: a made-up room of 20 racks, 300 devices and 300 cables.
            page.evaluate("window.__mirrorRoom = undefined")
            page.goto(demo.url + "#/room?generated=20x300x300")
            page.wait_for_function(ROOM_READY + " && window.__mirrorRoom.info().calls > 0")
            info = page.evaluate("window.__mirrorRoom.info()")
            # floor, walls, racks, places, devices, beacons, labels, cables, selection: one each
            assert 0 < info["calls"] <= MAX_DRAW_CALLS, info
            assert info["triangles"] > 300 * 12  # every device box is drawn
            page.screenshot(path=str(ARTIFACTS / "room-generated-300.png"))
        finally:
            browser.close()
