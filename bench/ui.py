"""Web UI figures with 254 hosts: store-to-paint latency, first load, bundle size, memory.

Runs `mirror demo` (this machine + 253 simulated hosts on 127.77.0.x, polled every 5 s),
logs in with the demo's one-time link in Debian Chromium, and watches the live fleet.

- poll-to-paint: the event's poll time (EGO's clock) to the frame that shows it; an upper
  bound of store-to-paint (it also holds the writer's batching, up to 0.25 s, and the write).
- receive-to-paint: the WebSocket message's arrival to the frame that shows it.
- first load: navigation start to all 254 rows on screen (logged in already).
- bundle: web/dist JS and CSS, gzipped.
- memory: the page's JS heap (performance.memory) after the watch.

    .venv/bin/python bench/ui.py [--minutes 10]
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.sshd import free_port  # noqa: E402
from tests.test_web_e2e import BROWSER_ARGS, CHROMIUM  # noqa: E402

HOSTS = 253  # plus EGO itself: 254


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def bundle_kb() -> tuple[float, float]:
    files = [*ROOT.glob("web/dist/assets/*.js"), *ROOT.glob("web/dist/assets/*.css")]
    raw = sum(f.stat().st_size for f in files)
    packed = sum(len(gzip.compress(f.read_bytes(), 9)) for f in files)
    return raw / 1000, packed / 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to watch (10)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    data = Path(tempfile.mkdtemp(prefix="mirror-bench-ui-"))
    port, sim = free_port(), free_port("127.77.0.10")
    log = data / "demo.log"
    env = {**os.environ, "MIRROR_DATA_DIR": str(data)}
    env.pop("MIRROR_DATABASE_URL", None)
    command = [sys.executable, "-m", "mirror.cli", "demo", "--hosts", str(HOSTS)]
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*command, "--port", str(port), "--sim-port", str(sim)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
        )
    try:
        deadline = time.monotonic() + 60
        while "Ctrl-C stops it." not in log.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                print(log.read_text(), file=sys.stderr)
                return 1
            time.sleep(0.2)
        link = re.search(r"(http://\S+/api/auth/link\?token=\S+)", log.read_text())
        assert link
        time.sleep(12)  # two polls: every host has data and sparklines
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=[*BROWSER_ARGS, "--enable-precise-memory-info"]
            )
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(link[1])
            page.wait_for_selector("tr.host")
            loads = []
            for _ in range(5):
                start = time.perf_counter()
                page.reload()
                page.wait_for_function(
                    f"document.querySelectorAll('tr.host').length >= {HOSTS + 1}"
                )
                loads.append((time.perf_counter() - start) * 1000)
            page.wait_for_selector("#link.live")
            page.evaluate("window.__mirrorPaints = []")
            time.sleep(args.minutes * 60)
            paints = page.evaluate("window.__mirrorPaints")
            heap = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : null")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(15)
    hosts = [p for p in paints if not p["host"].startswith("ping/")]
    poll_to_paint = [(p["painted"] - p["ts"]) * 1000 for p in hosts]
    receive_to_paint = [(p["painted"] - p["received"]) * 1000 for p in hosts]
    raw_kb, gz_kb = bundle_kb()
    print(f"UI with {HOSTS + 1} hosts, watched {args.minutes:g} min, {len(hosts)} host events")
    print(f"{'figure':<32}{'value':>14}")
    for name, values in (("poll-to-paint", poll_to_paint), ("receive-to-paint", receive_to_paint)):
        if values:
            print(f"{name + ' p50 (ms)':<32}{_pct(values, 50):>14.1f}")
            print(f"{name + ' p99 (ms)':<32}{_pct(values, 99):>14.1f}")
    print(f"{'first load median (ms)':<32}{sorted(loads)[len(loads) // 2]:>14.0f}")
    print(f"{'first load worst of 5 (ms)':<32}{max(loads):>14.0f}")
    print(f"{'bundle JS+CSS (kB)':<32}{raw_kb:>14.1f}")
    print(f"{'bundle gzipped (kB)':<32}{gz_kb:>14.1f}")
    if heap is not None:
        print(f"{'JS heap after watch (MB)':<32}{heap / 1e6:>14.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
