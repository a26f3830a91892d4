"""web/src/live-events.ts is what scripts/live_types.py writes from mirror/events.py."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import msgspec

ROOT = Path(__file__).resolve().parents[1]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("live_types", ROOT / "scripts/live_types.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["live_types"] = module
    spec.loader.exec_module(module)
    return module


def test_the_checked_in_web_types_are_current() -> None:
    script = _script()
    assert script.OUT.read_text() == script.render(), (
        "web/src/live-events.ts is stale: run .venv/bin/python scripts/live_types.py"
    )


def test_a_changed_struct_makes_the_file_stale() -> None:
    script = _script()

    class Extra(msgspec.Struct, tag="extra", tag_field="type"):
        """A new event."""

        count: int
        names: list[str]

    before = script.render()
    script.LIVE_EVENTS = (*script.LIVE_EVENTS, Extra)
    after = script.render()
    assert after != before
    assert (
        'export interface Extra {\n  type: "extra";\n  count: number;\n  names: string[];\n}'
        in after
    )
    assert "export type LiveMessage = HostPoll | PingPoll | StateChange | Extra;" in after
