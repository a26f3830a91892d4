"""Run a REFLECTOR program under a real local shell, and shellcheck it (tests of the
BSD-family programs, whose commands differ here but whose framing must hold)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile

import pytest

from collectors.frame import parse_frame

SHELLS = {"sh": ["/bin/sh"], "bash": ["bash"], "busybox": ["busybox", "sh"]}


def frame_kinds(shell: str, program: str, requests: bytes) -> list[str]:
    argv = SHELLS[shell]
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not installed")
    done = subprocess.run([*argv, "-c", program], input=requests, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [parse_frame(f + b"@@E\n").kind for f in done.stdout.split(b"@@E\n") if f]


def shellcheck(program: str) -> None:
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    with tempfile.NamedTemporaryFile("w", suffix=".sh") as f:
        f.write(program)
        f.flush()
        done = subprocess.run(["shellcheck", "-s", "sh", f.name], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
