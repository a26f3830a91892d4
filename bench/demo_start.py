"""How long `make demo` takes to start: scripts/setup.sh, then `mirror demo` to its banner.

"Cold" removes setup's stamps first (the venv and node_modules stay: pip finds everything
installed, npm ci reinstalls from its cache, the web UI is rebuilt), as a start after a
`git pull` that changed the dependencies; "warm" is the next start, nothing changed. The
demo runs inside scripts/isolated.sh (loopback only) with a data folder of its own.

Run: .venv/bin/python bench/demo_start.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAMPS = [
    ROOT / ".venv/.setup-demo",
    ROOT / ".venv/.setup-test",
    ROOT / "web/node_modules/.setup-stamp",
    ROOT / "web/dist/.setup-stamp",
]


def timed_setup() -> float:
    started = time.monotonic()
    subprocess.run([str(ROOT / "scripts/setup.sh")], cwd=ROOT, check=True, capture_output=True)
    return time.monotonic() - started


def timed_banner() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "MIRROR_DATA_DIR": str(Path(tmp) / "demo")}
        env.pop("MIRROR_DATABASE_URL", None)
        started = time.monotonic()
        demo = subprocess.Popen(
            [str(ROOT / "scripts/isolated.sh"), str(ROOT / ".venv/bin/mirror"), "demo"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert demo.stdout is not None
        try:
            for line in demo.stdout:
                if "Ctrl-C stops it" in line:
                    return time.monotonic() - started
            raise SystemExit("demo ended without its banner")
        finally:
            demo.send_signal(signal.SIGINT)
            try:
                demo.wait(timeout=20)
            except subprocess.TimeoutExpired:
                demo.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    rows = []
    for _ in range(args.rounds):
        for stamp in STAMPS:
            stamp.unlink(missing_ok=True)
        cold = timed_setup()
        warm = timed_setup()
        banner = timed_banner()
        rows.append((cold, warm, banner))
    print(f"{'round':>5} {'setup cold s':>13} {'setup warm s':>13} {'demo banner s':>14}")
    for i, (cold, warm, banner) in enumerate(rows, 1):
        print(f"{i:>5} {cold:>13.1f} {warm:>13.1f} {banner:>14.1f}")
    if not (ROOT / ".venv/.setup-test").exists():
        # The bench ran setup without --test: leave the test stamp as it was wanted.
        print("note: run scripts/setup.sh --test again before the tests", file=sys.stderr)


if __name__ == "__main__":
    main()
