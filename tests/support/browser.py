"""Debian Chromium for the browser tests (driven by Playwright) and bench/ui.py.

Every browser this project starts goes through :func:`launch` (or :func:`launch_async`), so
that none starts without :data:`BROWSER_ARGS`: without the resolver rule Chromium looks up
Google's hosts (sync, autofill, accounts…) through the machine's resolver, off the machine,
whatever ``--disable-background-networking`` says. ``tests/test_browser_args.py`` fails on a
launch written anywhere else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
# Names resolve to nothing except localhost; 127.x literals are left alone (without that
# EXCLUDE the rule refuses IP literals too). No lookup ever leaves the machine.
RESOLVER_RULES = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.*"
# Nothing but the page under test: no update checks, sync or other background traffic.
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    RESOLVER_RULES,
]


def launch(playwright: Any, *extra_args: str, **options: Any) -> Any:
    """Start Debian Chromium through a sync Playwright with the house arguments (``options``:
    more of Playwright's launch options, such as ``env``)."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=[*BROWSER_ARGS, *extra_args], **options
    )


async def launch_async(playwright: Any, *extra_args: str) -> Any:
    """The same for the async Playwright API."""
    return await playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=[*BROWSER_ARGS, *extra_args]
    )
