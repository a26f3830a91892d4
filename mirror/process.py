"""Child processes that MIRROR STAGE starts on this machine (snmpsim; snmpd and sshd in tests):
wait until one says it is ready, and stop it."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

STOP_TIMEOUT_S = 5.0


def wait_for_log(
    process: subprocess.Popen[bytes], log_path: Path, wanted: Iterable[str], timeout_s: float
) -> bool:
    """True once ``log_path`` holds every string of ``wanted``; False when the process exits
    first or ``timeout_s`` passes. A log that does not exist yet reads as empty."""
    wanted = list(wanted)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace") if log_path.exists() else ""
        if all(w in text for w in wanted):
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def stop_process(process: subprocess.Popen[Any] | None) -> None:
    """SIGTERM, then SIGKILL if it is still running after ``STOP_TIMEOUT_S``."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
