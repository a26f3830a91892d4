"""End to end, the host page and the demo lab as a newcomer meets them (issue 10).

`mirror demo` (real EGO, simulated lab) driven by Debian Chromium: moving from host page to
host page asks only the shown host's series (no 4xx at all); charts fill their width on a
fresh start; legends show the newest values without a hover; a host with many cores gets a
heat strip; the Run page's everyday shell lines answer as on a real host; the flappy host,
once down, is greyed with "last seen". Screenshots at desktop and phone sizes go to
tests/artifacts/ (gitignored). The demo is test_web_e2e's fixture.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from tests import test_web_e2e as web

demo = web.demo  # one `mirror demo` for this file

pytestmark = pytest.mark.skipif(
    not web.CHROMIUM.exists(), reason="Debian chromium is not installed"
)

FLAPPY = "lab-07"  # ego/demo.py: down 40 s of every 120 s


def _watch(page: Any) -> tuple[list[str], list[str]]:
    """Every answer of 400 or more, and every console error, from now on."""
    failed: list[str] = []
    console: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console.append(str(e)))
    return failed, console


def _host_page(page: Any, name: str, family: str = "cpu") -> None:
    page.evaluate("name => { location.hash = '#/host/' + name; }", name)
    page.wait_for_function(
        "name => (document.querySelector('.identity h2') || {}).textContent?.startsWith(name)",
        arg=name,
        timeout=15_000,
    )
    if family == "device":  # SNMP gear: its own page (ports)
        page.wait_for_selector(".device-page #port-grid", timeout=15_000)
        return
    page.wait_for_function(
        "f => !document.querySelector('.charts > p')"
        " && !!document.querySelector(`figure[data-family=${f}] .uplot`)",
        arg=family,
        timeout=15_000,
    )


def _legend_values(page: Any, family: str) -> list[str]:
    return page.eval_on_selector_all(
        f"figure[data-family={family}] .u-legend .u-series:not(:first-child) .u-value",
        "els => els.map(e => e.textContent)",
    )


def test_host_to_host_the_charts_and_the_run_page(demo: web.Demo) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    web.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = web.launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            failed, console = _watch(page)
            page.goto(demo.link)
            page.wait_for_selector("tr.host[data-host=lab-01]", timeout=15_000)
            # Opened at once, lab-01's page has few series (CPU needs two samples): they
            # appear as polls bring them, without a reload.
            page.evaluate("() => { location.hash = '#/host/lab-01'; }")
            page.wait_for_selector("figure[data-family=mem] .uplot", timeout=15_000)
            page.wait_for_selector("figure[data-family=cpu] .uplot", timeout=30_000)

            # Host to host, quickly and slowly: only the shown host's series are asked.
            _host_page(page, "lab-01")
            asked: list[str] = []
            page.on("request", lambda r: asked.append(r.url) if "/series?" in r.url else None)
            for name in ("lab-02", "core-switch", "lab-03"):
                page.evaluate("name => { location.hash = '#/host/' + name; }", name)
                page.wait_for_timeout(30)  # leave while the previous page still loads
            for name in ("lab-04", "ego", "lab-05", "lab-01"):
                _host_page(page, name)
            assert not failed, failed
            assert not console, console
            # Every series asked of a host is one of that host's own (never the previous
            # page's names asked of the next host).
            assert asked
            by_host: dict[str, set[str]] = {}
            for url in asked:
                parts = urlsplit(url)
                if not parts.path.startswith("/api/hosts/"):
                    continue  # an address's ICMP series (/api/ping/…)
                host = unquote(parts.path.split("/")[3])
                by_host.setdefault(host, set()).add(parse_qs(parts.query)["metric"][0])
            for host, metrics in by_host.items():
                own = page.evaluate(
                    "h => fetch('/api/hosts/' + encodeURIComponent(h)).then(r => r.json())"
                    ".then(d => d.series)",
                    host,
                )
                assert metrics <= set(own), (host, sorted(metrics - set(own)))

            # Legends show the newest values before any hover.
            values = _legend_values(page, "mem")
            assert values and all(v not in ("", "–") for v in values), values
            assert all(v.endswith("%") for v in values), values
            # A fresh start (the demo's data began seconds ago, the range is 1 h): the x axis
            # is the data's own extent (at least a minute), not an hour with the data at the
            # right edge.
            for family in ("cpu", "mem", "net"):
                scale = page.eval_on_selector(
                    f"figure[data-family={family}] .chart",
                    "el => { const u = el.__uplot; const xs = u.data[0];"
                    " return [u.scales.x.min, u.scales.x.max, xs[0], xs[xs.length - 1]]; }",
                )
                lo, hi, first, last = scale
                assert hi == last and lo == min(first, last - 60), (family, scale)
                assert last - first < 1800, scale  # indeed a fresh start
            page.screenshot(path=str(web.ARTIFACTS / "host-fresh-desktop.png"), full_page=True)

            # A host with twelve cores or more: the total as a line, the cores as a heat strip.
            many = page.evaluate(
                """async () => {
                  const hosts = await (await fetch('/api/hosts')).json();
                  const cores = h => (h.info && h.info.cpu_count) || 0;
                  const big = hosts.filter(h => cores(h) >= 12).map(h => h.name).sort();
                  const few = h => cores(h) && cores(h) < 12 && h.name.startsWith('lab-');
                  const small = hosts.filter(few).map(h => h.name).sort();
                  return [big[0] || null, small[0] || null];
                }"""
            )
            big, small = many
            assert big, "the demo lab has no host with 12 cores or more"
            _host_page(page, big)
            cpu = "figure[data-family=cpu]"
            page.wait_for_selector(f"{cpu} canvas.heat-strip")
            assert page.locator(f"{cpu} .u-legend .u-series").count() == 2  # time + total
            assert page.locator(f"{cpu} .busiest .core").count() == 3
            assert page.eval_on_selector(f"{cpu} canvas.heat-strip", "c => c.width") > 100
            page.screenshot(path=str(web.ARTIFACTS / "host-many-cores-desktop.png"), full_page=True)
            if small:
                _host_page(page, small)
                assert page.locator(f"{cpu} canvas.heat-strip").count() == 0
                assert page.locator(f"{cpu} .u-legend .u-series").count() >= 3

            # Phone size: the same host page.
            page.set_viewport_size({"width": 390, "height": 844})
            _host_page(page, big)
            page.screenshot(path=str(web.ARTIFACTS / "host-many-cores-phone.png"), full_page=True)
            page.set_viewport_size({"width": 1440, "height": 900})

            # The Run page: an everyday line answers as a real host would.
            page.goto(demo.url + "#/run?host=lab-02")
            page.wait_for_selector("input[name=command]", timeout=15_000)
            before = page.locator(".run").count()
            page.fill("input[name=command]", "uname -a; uptime && df -h / | tail -1; free -h")
            page.click(".run-form button[type=submit]")
            page.wait_for_function(f"document.querySelectorAll('.run').length > {before}")
            page.wait_for_selector(".run[data-done=true]", timeout=20_000)
            text = page.inner_text(".run")
            assert "invalid option" not in text and "not found" not in text, text
            assert "Linux lab-02 " in text and "load average:" in text and "Mem:" in text, text
            page.screenshot(path=str(web.ARTIFACTS / "run-everyday-desktop.png"), full_page=True)

            # The flappy host, once down: greyed, "last seen" with the time of its last answer.
            page.goto(demo.url)
            page.wait_for_selector(f"tr.host[data-host={FLAPPY}]")
            page.wait_for_function(
                f"document.querySelector('tr.host[data-host={FLAPPY}] .badge').textContent"
                " !== 'up'",
                timeout=150_000,
                polling=500,
            )
            _host_page(page, FLAPPY)
            page.wait_for_selector(".host-page.stale .last-seen")
            seen = page.inner_text(".last-seen")
            assert "last seen" in seen and "ago" in seen, seen
            assert page.eval_on_selector(".charts", "e => getComputedStyle(e).opacity") != "1"
            page.screenshot(path=str(web.ARTIFACTS / "host-down-desktop.png"), full_page=True)
            page.set_viewport_size({"width": 390, "height": 844})
            page.screenshot(path=str(web.ARTIFACTS / "host-down-phone.png"), full_page=True)
            assert not failed, failed
            assert not console, console
        finally:
            browser.close()


# Every text node and label of the page, and the catalogue's English texts that Korean
# translates differently (templates as patterns; the brand name stays); what is left in English
# is returned.
ENGLISH_LEFT = """
() => {
  const tables = window.__mirrorText;
  const patterns = [];
  for (const [key, en] of Object.entries(tables.en)) {
    const ko = tables.ko[key];
    if (key === 'appTitle' || ko === undefined || ko === en || en.trim().length < 2) continue;
    // a placeholder is one value: no comma or parenthesis (a device's description is not
    // "{action} by {actor}")
    const source = en.replace(/[.*+?^$()|[\\]\\\\]/g, '\\\\$&').replace(/\\{\\w+\\}/g, '[^,()]+');
    patterns.push([key, new RegExp('^' + source.replace(/\\\\\\{|\\\\\\}/g, '') + '$')]);
  }
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    if (text) texts.push(text);
  }
  for (const el of document.querySelectorAll('[placeholder],[title],[aria-label]'))
    for (const name of ['placeholder', 'title', 'aria-label'])
      if (el.getAttribute(name)) texts.push(el.getAttribute(name).trim());
  const left = [];
  for (const text of texts)
    for (const [key, re] of patterns) if (re.test(text)) left.push(key + ': ' + text);
  return [...new Set(left)];
}
"""


def test_korean_pages_leave_no_english_from_the_catalogue(demo: web.Demo) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    pyotp = pytest.importorskip("pyotp")
    web.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = web.launch(playwright)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="ko-KR")
            page = context.new_page()
            page.goto(demo.url)
            page.evaluate("() => localStorage.setItem('mirror.lang', 'ko')")
            page.reload()
            page.fill("input[name=name]", "demo")
            page.fill("input[name=password]", demo.password)
            page.fill("input[name=code]", pyotp.TOTP(demo.totp_secret).now())
            page.click("button[type=submit]")
            page.wait_for_selector("tr.host[data-host=lab-01]", timeout=15_000)
            failed, console = _watch(page)  # signed in: from here on, no 4xx
            page.wait_for_function(
                "document.querySelector('tr.host[data-host=lab-01] .badge').textContent === '정상'",
                timeout=20_000,
            )
            found: dict[str, list[str]] = {}
            found["fleet"] = page.evaluate(ENGLISH_LEFT)
            page.screenshot(path=str(web.ARTIFACTS / "fleet-ko-desktop.png"))
            for name, family in (("core-switch", "device"), ("lab-01", "cpu")):
                _host_page(page, name, family)
                found[name] = page.evaluate(ENGLISH_LEFT)
            page.screenshot(path=str(web.ARTIFACTS / "host-ko-desktop.png"), full_page=True)
            axis = page.inner_text("figure[data-family=mem] .u-axis")
            assert "pm" not in axis and "am" not in axis, axis  # 24-hour time axis
            pages = {
                "run": ("#/run?host=lab-01", "input[name=command]"),
                "audit": ("#/audit", "table"),
                "tunnels": ("#/tunnels", "section"),
                **{
                    f"alerts-{tab}": (f"#/alerts?tab={tab}", "section")
                    for tab in ("active", "history", "silences", "rules", "channels")
                },
            }
            for key, (hash_, selector) in pages.items():
                page.goto(demo.url + hash_)
                page.wait_for_selector(selector, timeout=15_000)
                page.wait_for_timeout(400)  # lazy pages and their first answers
                found[key] = page.evaluate(ENGLISH_LEFT)
                if key == "audit":
                    when = page.inner_text("td.when")
                    assert when.startswith("20") and ". " in when, when  # 2026. 12. 5. 17:01:02
            page.set_viewport_size({"width": 390, "height": 844})
            page.goto(demo.url)
            page.wait_for_selector("tr.host[data-host=lab-01]")
            page.screenshot(path=str(web.ARTIFACTS / "fleet-ko-phone.png"))
            assert not any(found.values()), found
            assert not failed, failed
            assert not console, console
        finally:
            browser.close()
