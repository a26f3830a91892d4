"""Web UI figures with 254 hosts: store-to-paint latency, first load, bundle size, memory.

Runs `mirror demo` (this machine + 253 simulated hosts on 127.77.0.x, polled every 5 s),
logs in with the demo's one-time link in Debian Chromium, and watches the live fleet.

- store-to-paint: from the commit of the batch that holds a sample (``stored`` in the live
  event, EGO's clock, taken in the writer's thread as ``Store.write`` returns) to the frame
  that shows it (the browser's clock: the same machine). It holds EGO's hop back to its event
  loop, the WebSocket send, the browser's batching per animation frame, render and paint.
- poll-to-paint: from the poll's start (the event's ``ts``) instead: the poll itself, the
  writer's batching (up to 0.25 s) and the write on top.
- receive-to-paint: the WebSocket message's arrival in the page to the frame that shows it.
- first load: navigation start to all 254 rows on screen (logged in already): reloads of one
  tab (its HTTP cache warm, as when the owner presses F5) and fresh browser contexts (cache
  empty, as on the first visit); for the latter, when each step of the load ended (Navigation
  and Resource Timing).
- bundle: what index.html loads (JS + CSS, gzipped) and the lazily loaded chunks apart.
- memory: the page's JS heap (performance.memory) after the watch, as it is and after a
  garbage collection with the bench's own paint log dropped (the page's live data).
- map layout: the 2D map's ELK layout (web/src/layout.ts, in the page's main thread) of the
  demo's own L2 topology (254 hosts, the switch and the router) as the map page lays it out,
  and of made-up trees of 100 and 300 nodes (switches in a tree, hosts on them), 5 runs each.

- room (``--room``: only this, with the 24-host demo): the 3D room (#/room) in software GL,
  the demo's room and a generated one of 20 racks, 300 devices and 300 cables: draw calls
  and triangles (three's renderer.info) and the mean time of 60 frames rendered back to back
  while the camera turns (``timeFrames``: ends with a readPixels, so GL has finished).

    .venv/bin/python bench/ui.py [--minutes 10] [--room]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import percentile  # noqa: E402
from tests.support.browser import launch  # noqa: E402
from tests.support.sshd import free_port  # noqa: E402

HOSTS = 253  # plus EGO itself: 254


# Where an empty-cache load spends its time, from the page's Navigation and Resource Timing:
# each step's end (responseEnd of a request; TTFB as its responseStart) in ms after navigation.
STEPS_JS = """() => {
  const [nav] = performance.getEntriesByType("navigation");
  const out = {"html TTFB": nav.responseStart, "html loaded": nav.responseEnd};
  const named = [[/assets.index-.*js$/, "main JS"], [/assets.index-.*css$/, "CSS"],
                 [/api.auth.me$/, "/api/auth/me"], [/api.overview/, "/api/overview"]];
  for (const r of performance.getEntriesByType("resource")) {
    for (const [pattern, label] of named) {
      if (pattern.test(r.name) && !((label + " loaded") in out)) {
        out[label + " asked"] = r.startTime;
        out[label + " TTFB"] = r.responseStart;
        out[label + " loaded"] = r.responseEnd;
      }
    }
  }
  out["DOMContentLoaded"] = nav.domContentLoadedEventEnd;
  for (const p of performance.getEntriesByType("paint")) out[p.name] = p.startTime;
  return out;
}"""


MAP_RUNS = 5


def map_layout_ms(page, base_url: str) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
    """Milliseconds per ELK layout: the demo's L2 map (as the page does it), then made-up graphs."""
    page.goto(base_url + "#/map?layer=l2")
    page.wait_for_selector("svg#map g.node", timeout=60_000)
    out = {}
    nodes = page.evaluate("document.querySelector('svg#map').dataset.nodes")
    real = []
    for _ in range(MAP_RUNS):
        page.click("a[data-layer=l3]")
        page.wait_for_selector("svg#map[data-layer=l3] g.node", timeout=60_000)
        page.click("a[data-layer=l2]")
        page.wait_for_selector("svg#map[data-layer=l2] g.node", timeout=60_000)
        real.append(page.evaluate("window.__mirrorMap.layoutMs.at(-1)"))
    out[f"demo L2 map, {nodes} nodes"] = real
    for n in (100, 300):
        out[f"made-up tree, {n} nodes"] = page.evaluate(
            """async ([n, runs]) => {
              const {layoutGraph, benchGraph} = window.__mirrorLayout;
              const graph = benchGraph(n), took = [];
              for (let i = 0; i < runs; i++) {
                const t0 = performance.now();
                const laid = await layoutGraph(graph, {});
                took.push(performance.now() - t0);
                if (laid.size !== n) throw new Error(`laid out ${laid.size} of ${n}`);
              }
              return took;
            }""",
            [n, MAP_RUNS],
        )
    return out


def bundle_kb() -> tuple[float, float, float]:
    """(initial raw kB, initial gzipped kB, lazy chunks gzipped kB)."""
    dist = ROOT / "web" / "dist"
    files = [*dist.glob("assets/*.js"), *dist.glob("assets/*.css")]
    index = (dist / "index.html").read_text()
    initial = [f for f in files if f"/assets/{f.name}" in index]
    lazy = [f for f in files if f not in initial]

    def packed(group: list[Path]) -> float:
        return sum(len(gzip.compress(f.read_bytes(), 9)) for f in group) / 1000

    return sum(f.stat().st_size for f in initial) / 1000, packed(initial), packed(lazy)


ROOM_VIEWPORT = {"width": 1280, "height": 800}
ROOM_FRAMES = 60
# The room's view once it is drawn (the page may build it again when its first /api/world
# answer replaces the loading state): its counters, a warm-up, then the timed frames.
ROOM_JS = """async (frames) => {
  for (let i = 0; i < 200; i++) {
    const room = window.__mirrorRoom;
    if (room && room.info().calls > 0) {
      const info = room.info();
      room.timeFrames(Math.ceil(frames / 6));
      return {calls: info.calls, triangles: info.triangles, frame_ms: room.timeFrames(frames)};
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error("the room was not drawn in 20 s");
}"""
ROOMS = (
    ("demo room (24 hosts)", "#/room"),
    ("20 racks, 300 devices, 300 cables", "#/room?generated=20x300x300"),
)


def room_figures(page: object, base: str) -> list[tuple[str, dict[str, float]]]:
    """Draw calls, triangles and frame time of each room in ROOMS."""
    out = []
    for name, route in ROOMS:
        page.evaluate("window.__mirrorRoom = undefined")  # type: ignore[attr-defined]
        page.goto(base + route)  # type: ignore[attr-defined]
        out.append((name, page.evaluate(ROOM_JS, ROOM_FRAMES)))  # type: ignore[attr-defined]
    return out


def print_room(figures: list[tuple[str, dict[str, float]]]) -> None:
    size = f"{ROOM_VIEWPORT['width']}x{ROOM_VIEWPORT['height']}"
    print(f"3D room, headless Chromium software GL, {size}, mean of {ROOM_FRAMES} frames")
    print(f"{'room':<36}{'draw calls':>12}{'triangles':>12}{'frame (ms)':>12}")
    for name, f in figures:
        print(f"{name:<36}{f['calls']:>12.0f}{f['triangles']:>12.0f}{f['frame_ms']:>12.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to watch (10)")
    parser.add_argument("--paints", type=Path, help="also write every paint record here (JSON)")
    parser.add_argument("--room", action="store_true", help="only the 3D room's figures")
    args = parser.parse_args()
    hosts_asked = 24 if args.room else HOSTS
    from playwright.sync_api import sync_playwright

    data = Path(tempfile.mkdtemp(prefix="mirror-bench-ui-"))
    port, sim, snmp = free_port(), free_port("127.77.0.10"), free_port("127.77.0.1")
    log = data / "demo.log"
    env = {**os.environ, "MIRROR_DATA_DIR": str(data)}
    env.pop("MIRROR_DATABASE_URL", None)
    command = [sys.executable, "-m", "cli", "demo", "--hosts", str(hosts_asked)]
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*command, "--port", str(port), "--sim-port", str(sim), "--snmp-port", str(snmp)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
            start_new_session=True,  # its own process group: the snmpsim children go with it
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
            browser = launch(playwright, "--enable-precise-memory-info", "--js-flags=--expose-gc")
            viewport = {"width": 1920, "height": 1080}
            context = browser.new_context(viewport=viewport)
            page = context.new_page()
            page.goto(link[1])
            page.wait_for_selector("tr.host")
            if args.room:
                page.set_viewport_size(ROOM_VIEWPORT)
                room = room_figures(page, link[1].split("/api/")[0] + "/")
                browser.close()
                print_room(room)
                return 0
            all_rows = f"document.querySelectorAll('tr.host').length >= {HOSTS + 1}"
            cold, steps = [], []
            for _ in range(5):
                fresh = browser.new_context(viewport=viewport)
                fresh.add_cookies(context.cookies())
                tab = fresh.new_page()
                start = time.perf_counter()
                tab.goto(link[1].split("/api/")[0] + "/")
                rows_at = tab.wait_for_function(f"({all_rows}) && performance.now()")
                cold.append((time.perf_counter() - start) * 1000)
                steps.append(tab.evaluate(STEPS_JS) | {"all rows": rows_at.json_value()})
                fresh.close()
            loads = []
            for _ in range(5):
                start = time.perf_counter()
                page.reload()
                page.wait_for_function(all_rows)
                loads.append((time.perf_counter() - start) * 1000)
            page.wait_for_selector("#link.live")
            page.evaluate("window.__mirrorPaints = []")
            time.sleep(args.minutes * 60)
            paints = page.evaluate("window.__mirrorPaints")
            heap = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : null")
            live_heap = page.evaluate(
                "window.__mirrorPaints = []; gc(); performance.memory.usedJSHeapSize"
            )
            layouts = map_layout_ms(page, link[1].split("/api/")[0] + "/")
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            print("mirror demo did not stop within 15 s of SIGTERM: killed", file=sys.stderr)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(data, ignore_errors=True)
    if args.paints:
        args.paints.write_text(json.dumps(paints))
    hosts = [p for p in paints if not p["host"].startswith("ping/")]
    stored = [p for p in hosts if p.get("stored")]
    store_to_paint = [(p["painted"] - p["stored"]) * 1000 for p in stored]
    store_to_receive = [(p["received"] - p["stored"]) * 1000 for p in stored]
    poll_to_paint = [(p["painted"] - p["ts"]) * 1000 for p in hosts]
    receive_to_paint = [(p["painted"] - p["received"]) * 1000 for p in hosts]
    raw_kb, gz_kb, lazy_kb = bundle_kb()
    print(f"UI with {HOSTS + 1} hosts, watched {args.minutes:g} min, {len(hosts)} host events")
    print("machine load (1/5/15 min) at the end: " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    print(f"{'figure':<36}{'value':>12}")
    for name, values in (
        ("store-to-paint", store_to_paint),
        ("  of which store-to-receive", store_to_receive),
        ("  of which receive-to-paint", receive_to_paint),
        ("poll-to-paint", poll_to_paint),
    ):
        if values:
            print(f"{name + ' p50 (ms)':<36}{percentile(values, 50):>12.1f}")
            print(f"{name + ' p99 (ms)':<36}{percentile(values, 99):>12.1f}")
    for name, values in (("first load, reload", loads), ("first load, empty cache", cold)):
        print(f"{name + ' median (ms)':<36}{sorted(values)[len(values) // 2]:>12.0f}")
        print(f"{name + ' worst of 5 (ms)':<36}{max(values):>12.0f}")
        print(f"{'  each, in order':<36}{' '.join(f'{v:.0f}' for v in values):>12}")
    print("empty-cache load, page clock from navigation start (median of 5, ms):")
    for step in sorted(steps[0], key=lambda k: percentile([s[k] for s in steps if k in s], 50)):
        print(f"{'  ' + step:<36}{percentile([s[step] for s in steps if step in s], 50):>12.0f}")
    print(f"{'bundle loaded first, JS+CSS (kB)':<36}{raw_kb:>12.1f}")
    print(f"{'bundle loaded first, gzipped (kB)':<36}{gz_kb:>12.1f}")
    print(f"{'lazy chunks, gzipped (kB)':<36}{lazy_kb:>12.1f}")
    if heap is not None:
        print(f"{'JS heap after watch (MB)':<36}{heap / 1e6:>12.1f}")
        print(f"{'  after GC, paint log dropped (MB)':<36}{live_heap / 1e6:>12.1f}")
    print(f"map layout (ELK layered, ELK loaded already; ms, {MAP_RUNS} runs each):")
    for name, values in layouts.items():
        print(f"{'  ' + name + ', median':<36}{sorted(values)[len(values) // 2]:>12.0f}")
        print(f"{'  ' + name + ', worst':<36}{max(values):>12.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
