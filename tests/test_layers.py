"""Each top-level package imports only the floors below it.

``mirror`` is the ground floor (settings, inventory, storage, auth, audit, live hub, events);
``collectors`` parse and ``lab`` simulates on top of it; ``poller`` talks to the network;
``api`` serves; ``ego`` wires them into the running service; ``cli`` is the roof. Every
import counts, also those inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("mirror", "collectors", "lab", "poller", "notify", "api", "bridge", "ego", "cli")
MAY_IMPORT: dict[str, set[str]] = {
    "mirror": set(),
    "collectors": {"mirror"},
    "lab": {"mirror", "collectors"},
    "poller": {"mirror", "collectors"},
    "notify": {"mirror"},  # alert notifications (issue 12)
    "api": {"mirror"},  # never the poller: the running EGO hands the API what it needs
    "bridge": {"mirror"},  # to the rest of the house (MQTT): follows the hub, as the API does
    "ego": {"mirror", "collectors", "poller", "notify", "api", "lab", "bridge"},
    "cli": {"mirror", "collectors", "poller", "notify", "ego", "lab", "bridge"},
}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_only_the_floors_below(package: str) -> None:
    upward = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for target in sorted(_imports(path) & set(PACKAGES) - {package} - MAY_IMPORT[package]):
            upward.append(f"{path.relative_to(ROOT)} imports {target}")
    assert not upward, upward


def test_the_rule_catches_an_upward_import(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("def f():\n    from poller.ssh import KnownHosts\n    return KnownHosts\n")
    assert "poller" in _imports(sneaky)
