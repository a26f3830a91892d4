"""Where a running `mirror demo` keeps its data, so the CLI run beside it finds it.

The demo writes ``demo.json`` into its data folder (``.mirror-demo`` in the folder it was
started from) while it runs and removes it when it stops. A ``mirror`` command run from
that folder, with neither ``MIRROR_DATA_DIR`` nor ``MIRROR_DATABASE_URL`` set, then uses the
demo's data folder, database, inventory and address instead of an empty
``~/.local/share/mirror-stage`` (and says so on stderr). A file left by a demo that died
(its process is gone) is ignored.

The file holds no secret: a database URL with a password is left out (the shell that
started such a demo has it in ``MIRROR_DATABASE_URL`` already).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

DEMO_DIR = ".mirror-demo"  # relative to the folder `mirror demo` is started from
MARK_FILE = "demo.json"
TOKEN_FILE = "api-token"  # the demo's read token (mode 600), for curl


@dataclass(frozen=True, slots=True)
class DemoMark:
    pid: int
    data_dir: str
    database_url: str | None  # None: it has a password (not written down)
    inventory: str
    bind_host: str
    bind_port: int
    web_url: str

    def environment(self) -> dict[str, str]:
        env = {
            "MIRROR_DATA_DIR": self.data_dir,
            "MIRROR_BIND": self.bind_host,
            "MIRROR_PORT": str(self.bind_port),
            "MIRROR_INVENTORY": self.inventory,
        }
        if self.database_url is not None:
            env["MIRROR_DATABASE_URL"] = self.database_url
        return env


def write(mark: DemoMark) -> Path:
    path = Path(mark.data_dir) / MARK_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(mark), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def remove(data_dir: Path, pid: int) -> None:
    """Remove the mark if it is this process's (a second demo may have replaced it)."""
    path = data_dir / MARK_FILE
    mark = read(path)
    if mark is not None and mark.pid == pid:
        path.unlink(missing_ok=True)


def read(path: Path) -> DemoMark | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return DemoMark(**data)
    except (OSError, ValueError, TypeError):
        return None


def running(folder: Path | None = None) -> DemoMark | None:
    """The mark of a demo running from ``folder`` (default: the current one), or None."""
    mark = read((folder or Path.cwd()) / DEMO_DIR / MARK_FILE)
    if mark is None or not _alive(mark.pid):
        return None
    return mark


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def adopt(env: dict[str, str], folder: Path | None = None) -> DemoMark | None:
    """Point ``env`` at a running demo's data when it names no database of its own: the
    keys it sets are those ``env`` lacks. Returns the mark used, or None."""
    if env.get("MIRROR_DATA_DIR") or env.get("MIRROR_DATABASE_URL"):
        return None
    mark = running(folder)
    if mark is None:
        return None
    for key, value in mark.environment().items():
        env.setdefault(key, value)
    return mark
