"""Every Chromium this project starts carries the resolver rule (network safety).

Without ``--host-resolver-rules`` Chromium resolves Google's hosts through the machine's
resolver, off the machine. So launches go through ``tests.support.browser.launch``; this
fails on one written anywhere else, and on a helper that lost the rule.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.support import browser

ROOT = Path(__file__).resolve().parents[1]
HELPER = Path("tests/support/browser.py")
# A direct launch: Playwright's chromium.launch / launch_persistent_context, or Chromium
# started as a program.
DIRECT = re.compile(r"chromium\.launch|launch_persistent_context|['\"]/usr/bin/chromium['\"]")


def _tracked_sources() -> list[Path]:
    listed = subprocess.run(
        [
            "git",
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
            "*.py",
            "*.ts",
            "*.mjs",
            "*.js",
            "*.sh",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [Path(name) for name in listed if "node_modules" not in name]


def test_the_helper_refuses_every_lookup_but_loopback() -> None:
    rules = [arg for arg in browser.BROWSER_ARGS if arg.startswith("--host-resolver-rules=")]
    assert rules == ["--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.*"]


def test_no_browser_is_launched_outside_the_helper() -> None:
    offenders = []
    for path in _tracked_sources():
        if path in (HELPER, Path(__file__).relative_to(ROOT)):
            continue
        text = (ROOT / path).read_text(errors="replace")
        offenders += [f"{path}: {m.group(0)}" for m in DIRECT.finditer(text)]
    assert not offenders, "launch Chromium through tests.support.browser.launch: " + ", ".join(
        offenders
    )


def test_the_suite_runs_where_only_loopback_exists() -> None:
    """tests/conftest.py re-ran pytest inside a network namespace of its own."""
    dev = Path("/proc/self/net/dev").read_text().splitlines()[2:]
    names = {line.split(":", 1)[0].strip() for line in dev}
    assert "lo" in names and names <= {"lo", "mirror0", "mirror1"}, names
    # The veth pair: each end's peer is the other end, in this same namespace; no address.
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    for name, peer in (("mirror0", "mirror1"), ("mirror1", "mirror0")):
        if name in names:
            assert f" {name}@{peer}:" in links, links
    addresses = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True).stdout
    assert {line.split()[1] for line in addresses.splitlines()} <= {"lo"}, addresses
    routes = Path("/proc/self/net/route").read_text().splitlines()[1:]
    assert routes == [], routes  # no route at all: nothing but 127/8 on lo
