"""End to end: the 2D map, the switch page and the host page's network panel, in Chromium.

A real `mirror demo` (the simulated lab on 127.77.0.x, its snmpsim switch and router, the
ICMP loop) serves them; one demo for this file (the module-scoped fixture of
tests/test_web_e2e.py). Screenshots at desktop and phone size go to tests/artifacts/.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from mirror.auth import AuthService
from mirror.storage import Store
from tests import test_web_e2e as web

demo = web.demo  # the same module-scoped fixture: one `mirror demo` for this file

SWITCH, ROUTER = "core-switch", "gateway"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def _login_link(user: str, demo: web.Demo) -> str:
    store = Store.open(f"sqlite:///{demo.data / 'mirror.db'}")
    try:
        return AuthService(store.engine).create_login_link(user)
    finally:
        store.close()


def _open(browser: Any, demo: web.Demo, viewport: dict[str, int]) -> tuple[Any, list[str]]:
    page = browser.new_page(viewport=viewport)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{demo.url}api/auth/link?token={_login_link('demo', demo)}")
    page.wait_for_selector("tr.host[data-host=lab-01]", timeout=15_000)
    return page, errors


def _topology_ready(page: Any) -> dict[str, Any]:
    """Wait until the switch's MAC table placed every lab host (SNMP table poll done) and
    its ports have rates (a second poll)."""
    deadline = time.monotonic() + 40
    while True:
        topo = page.evaluate("fetch('/api/topology').then(r => r.json())")
        fdb = [link for link in topo["links"] if "fdb" in link["sources"]]
        rates = [(link["utilisation"] or {}).get("rx_bytes_per_s") for link in fdb]
        if len(fdb) >= web.DEMO_HOSTS and all(rate is not None for rate in rates):
            return topo
        assert time.monotonic() < deadline, json.dumps(topo)[:2000]
        time.sleep(1)


def _node_xy(page: Any, node: str) -> tuple[float, float]:
    """The node's centre in the SVG's own coordinates (before the view's pan and zoom)."""
    box = page.eval_on_selector(
        f"g.node[data-node='{node}']",
        "g => { const m = g.transform.baseVal.consolidate().matrix; return [m.e, m.f]; }",
    )
    return box[0], box[1]


WIDER_THAN_SCREEN = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
            && !e.closest('.scroll-x, .map-box'))
  .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right)"""


def _switch_port(link: dict[str, Any]) -> str:
    return link["a"]["port"] if link["a"]["node"] == SWITCH else link["b"]["port"]


def _map(page: Any, layer: str) -> None:
    page.goto(f"{page.url.split('#')[0]}#/map?layer={layer}")
    page.wait_for_selector(f"svg#map[data-layer={layer}] g.node", timeout=20_000)


def test_map_layers_live_hover_pin_and_click(demo: web.Demo) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    web.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = web.launch(playwright)
        try:
            page, errors = _open(browser, demo, DESKTOP)
            topo = _topology_ready(page)

            # L2: every node; each lab host on its switch port, coloured by its counters.
            _map(page, "l2")
            nodes = page.eval_on_selector_all("g.node", "els => els.map(e => e.dataset.node)")
            assert {SWITCH, ROUTER, "lab-01", f"lab-{web.DEMO_HOSTS:02d}"} <= set(nodes)
            assert len(nodes) == len(topo["nodes"])
            lab01 = next(
                link
                for link in topo["links"]
                if {link["a"]["node"], link["b"]["node"]} == {SWITCH, "lab-01"}
            )
            edge = page.locator(f"g.edge[data-edge='{lab01['id']}']")
            assert edge.count() == 1
            classes = edge.get_attribute("class") or ""
            assert "link-unknown" not in classes, classes  # its port's speed and rate are known
            assert page.evaluate("window.__mirrorMap.layoutMs.at(-1)") < 500
            page.screenshot(path=str(web.ARTIFACTS / "map-l2-desktop.png"))

            # Live: states and counters arrive over the socket; nothing is laid out again.
            layouts = page.evaluate("window.__mirrorMap.layouts")
            where = _node_xy(page, "lab-01")
            applied = page.evaluate("window.__mirrorMap.liveApplied")
            page.wait_for_function(
                f"window.__mirrorMap.liveApplied >= {applied + web.DEMO_HOSTS}", timeout=20_000
            )
            assert page.evaluate("window.__mirrorMap.layouts") == layouts
            assert _node_xy(page, "lab-01") == where

            # Hover: a link shows its ports, speed and rates; a host its port and link.
            uplink = next(link for link in topo["links"] if "lldp" in link["sources"])
            point = page.eval_on_selector(
                f"g.edge[data-edge='{uplink['id']}'] path.hit",
                """p => { const m = p.getScreenCTM();
                         const at = p.getPointAtLength(p.getTotalLength() / 2);
                         return [m.a * at.x + m.e, m.d * at.y + m.f]; }""",
            )
            page.mouse.move(*point)
            tip = page.inner_text("#map-tip")
            assert f"{SWITCH}:" in tip and f"{ROUTER}:" in tip and "lldp" in tip, tip
            assert "Gbit/s" in tip or "Mbit/s" in tip, tip
            assert "in " in tip and "/s" in tip, tip
            page.hover("g.node[data-node='lab-01'] rect")
            tip = page.inner_text("#map-tip")
            assert f"→ {SWITCH}:{_switch_port(lab01)}" in tip and "Gbit/s" in tip, tip
            assert "in –" not in tip, tip  # its port's rates
            page.hover("g.node[data-node='core-switch'] rect")
            assert "lab-01" in page.inner_text("#map-tip")

            # Drag lab-01 somewhere else: pinned, saved, and still there after a reload.
            rect = page.locator("g.node[data-node='lab-01'] rect").bounding_box()
            assert rect is not None
            x, y = rect["x"] + rect["width"] / 2, rect["y"] + rect["height"] / 2
            with page.expect_response(
                lambda r: "/api/topology/pins" in r.url and r.request.method == "PUT"
            ):
                page.mouse.move(x, y)
                page.mouse.down()
                page.mouse.move(x + 60, y + 90, steps=8)
                page.mouse.move(x + 120, y + 180, steps=8)
                page.mouse.up()
            moved = _node_xy(page, "lab-01")
            assert moved != where
            saved = page.evaluate("fetch('/api/topology/pins?layer=l2').then(r => r.json())")
            assert list(saved["pins"]) == ["lab-01"]
            page.reload()
            page.wait_for_selector("svg#map g.node.pinned[data-node='lab-01']", timeout=20_000)
            after = _node_xy(page, "lab-01")
            assert abs(after[0] - moved[0]) <= 1 and abs(after[1] - moved[1]) <= 1, (after, moved)
            assert "pinned" not in (page.get_attribute("g.node[data-node='lab-02']", "class") or "")

            # The physical layer: the declared cables (the demo room's patch cables and the
            # uplink) and the nodes they join, nothing else.
            _map(page, "physical")
            cables = [link for link in topo["links"] if "cable" in link["sources"]]
            joined = {end["node"] for link in cables for end in (link["a"], link["b"])}
            assert {SWITCH, ROUTER, "lab-01"} <= joined
            phys = page.eval_on_selector_all("g.node", "els => els.map(e => e.dataset.node)")
            assert sorted(phys) == sorted(joined)
            assert page.locator("g.edge").count() == len(cables)
            page.screenshot(path=str(web.ARTIFACTS / "map-physical-desktop.png"))

            # L3: the lab's subnet, the router as its gateway (it holds the ARP table).
            _map(page, "l3")
            assert page.locator("g.node.subnet[data-node='subnet:demo-lab']").count() == 1
            assert (
                page.locator(f"g.edge.link-gateway[data-edge='subnet:demo-lab--{ROUTER}']").count()
                == 1
            )
            members = page.locator("g.edge.link-member").count()
            assert members >= web.DEMO_HOSTS + 1  # the lab hosts and the switch
            page.screenshot(path=str(web.ARTIFACTS / "map-l3-desktop.png"))

            # Phone size: every layer still draws, the layer buttons fit.
            page.set_viewport_size(PHONE)
            for layer in ("l2", "physical", "l3"):
                _map(page, layer)
                page.click("#map-fit")
                assert page.evaluate(WIDER_THAN_SCREEN) == []
                page.screenshot(path=str(web.ARTIFACTS / f"map-{layer}-phone.png"))
            scale = "() => document.querySelector('svg#map > g').transform.baseVal[1].matrix.a"
            before = page.evaluate(scale)
            page.click("#map-zoom-in")
            assert page.evaluate(scale) == pytest.approx(before * 1.25)
            page.set_viewport_size(DESKTOP)

            # A click (no drag) opens the device's page.
            _map(page, "l2")
            page.click(f"g.node[data-node='{ROUTER}'] rect")
            page.wait_for_function(f"location.hash === '#/host/{ROUTER}'")
            page.wait_for_selector("#port-table")
            assert not errors, errors
        finally:
            browser.close()


def test_switch_page_ports_hosts_and_charts(demo: web.Demo) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    web.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = web.launch(playwright)
        try:
            page, errors = _open(browser, demo, DESKTOP)
            topo = _topology_ready(page)
            lab01 = next(
                link
                for link in topo["links"]
                if {link["a"]["node"], link["b"]["node"]} == {SWITCH, "lab-01"}
            )
            port = _switch_port(lab01)
            page.goto(f"{demo.url}#/host/{SWITCH}")
            page.wait_for_selector("#port-table tbody tr", timeout=15_000)
            # Identity from SNMPv2-MIB and ENTITY-MIB, as the simulated switch answers them.
            assert "demo switch" in page.inner_text("#device-descr")
            assert "MS-SW" in page.inner_text("#device-model")
            assert page.inner_text("#device-serial") == "MSDEMO-SW-0001"
            # No SSH to a switch: no terminal, run or actions.
            assert page.locator("#controls").count() == 0
            assert page.get_by_text("Open terminal").count() == 0
            # The front panel and the table list every Ethernet port; lab-01 is on its port.
            grid = page.locator("#port-grid button").count()
            rows = page.locator("#port-table tbody tr").count()
            assert grid == rows and rows >= web.DEMO_HOSTS + 2
            row = page.locator(f"#port-table tr[data-port='{port}']")
            assert row.locator("a", has_text="lab-01").count() == 1
            cells = f"#port-table tr[data-port='{port}']"
            page.wait_for_function(f"document.querySelector(\"{cells}\").innerText.includes('/s')")
            assert "up" in row.inner_text()
            # The router's LLDP neighbour on the uplink.
            assert page.locator("#port-table td", has_text=ROUTER).count() >= 1
            assert "temp.celsius" in page.inner_text("#sensors")
            # Pick two ports: one chart with their in/out series (four), not every port's.
            row.click()
            page.wait_for_selector("#port-chart .uplot", timeout=15_000)
            page.click("#port-grid button:not(.picked) >> nth=0")
            legend = "#port-chart .u-legend .u-series:not(:first-child) .u-label"
            page.wait_for_function(f"document.querySelectorAll('{legend}').length === 4")
            labels = page.eval_on_selector_all(legend, "els => els.map(e => e.textContent)")
            assert len(labels) == 4 and f"{port} in" in labels, labels
            page.screenshot(path=str(web.ARTIFACTS / "switch-desktop.png"), full_page=True)
            page.set_viewport_size(PHONE)
            page.wait_for_timeout(300)  # the chart follows the new width
            assert page.evaluate(WIDER_THAN_SCREEN) == []  # the wide table scrolls in its panel
            page.screenshot(path=str(web.ARTIFACTS / "switch-phone.png"), full_page=True)
            assert not errors, errors
        finally:
            browser.close()


def test_host_wake_and_ping_chart(demo: web.Demo) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    web.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = web.launch(playwright)
        try:
            page, errors = _open(browser, demo, DESKTOP)
            page.goto(f"{demo.url}#/host/lab-01")
            page.wait_for_selector("figure[data-family=ping-rtt]", timeout=15_000)
            # The ICMP loop pings the lab's addresses: the latency chart has points.
            deadline = time.monotonic() + 30
            while page.locator("figure[data-family=ping-rtt] .uplot").count() == 0:
                assert time.monotonic() < deadline, page.inner_text("#ping-charts")
                page.click("button[data-range='15m']")
                page.wait_for_timeout(1500)
            # lab-01 has a MAC in the inventory: Wake sends the magic packet (loopback).
            page.click("#wake")
            page.wait_for_selector("#wake-result")
            assert "127.77.0" in page.inner_text("#wake-result"), page.inner_text("#wake-result")
            page.screenshot(path=str(web.ARTIFACTS / "host-network-desktop.png"), full_page=True)

            page.set_viewport_size(PHONE)
            page.wait_for_timeout(300)
            assert page.evaluate(WIDER_THAN_SCREEN) == []
            page.screenshot(path=str(web.ARTIFACTS / "host-network-phone.png"))
            assert not errors, errors
        finally:
            browser.close()


def test_viewer_sees_the_map_but_cannot_pin(demo: web.Demo) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    store = Store.open(f"sqlite:///{demo.data / 'mirror.db'}")
    try:
        auth = AuthService(store.engine)
        auth.add_user("map-viewer", "correct horse battery", "viewer", replace=True)
        link = auth.create_login_link("map-viewer")
    finally:
        store.close()
    with sync_api.sync_playwright() as playwright:
        browser = web.launch(playwright)
        try:
            page = browser.new_page(viewport=DESKTOP)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            puts: list[str] = []
            page.on("request", lambda r: puts.append(r.url) if r.method == "PUT" else None)
            page.goto(f"{demo.url}api/auth/link?token={link}")
            page.wait_for_selector("tr.host[data-host=lab-01]", timeout=15_000)
            _map(page, "l2")
            assert "drag a node to pin" not in page.inner_text(".map-bar")
            where = _node_xy(page, "lab-02")
            rect = page.locator("g.node[data-node='lab-02'] rect").bounding_box()
            assert rect is not None
            x, y = rect["x"] + 20, rect["y"] + 20
            page.mouse.move(x, y)
            page.mouse.down()
            page.mouse.move(x + 100, y + 100, steps=6)
            page.mouse.up()
            page.wait_for_timeout(500)
            assert _node_xy(page, "lab-02") == where and puts == []
            assert page.locator("#map-unpin").count() == 0
            # From the keyboard: a node takes the focus, Enter opens its page.
            page.focus("g.node[data-node='lab-03']")
            page.keyboard.press("Enter")
            page.wait_for_function("location.hash === '#/host/lab-03'")
            assert not errors, errors
        finally:
            browser.close()
