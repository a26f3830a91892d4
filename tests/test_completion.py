"""`mirror completion SHELL`: real bash and fish complete mirror's commands with it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BIN = str(Path(sys.executable).parent)


def shell(name: str, script: str) -> str:
    if shutil.which(name) is None:
        pytest.skip(f"{name} not installed (scripts/setup.sh --test installs it)")
    env = {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}", "HOME": "/nonexistent"}
    done = subprocess.run([name, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_bash_completes_subcommands() -> None:
    out = shell(
        "bash",
        'eval "$(mirror completion bash)"; COMP_LINE="mirror db re"; '
        "COMP_POINT=${#COMP_LINE}; COMP_WORDS=(mirror db re); COMP_CWORD=2; "
        '_python_argcomplete mirror; echo "[${COMPREPLY[*]}]"',
    )
    assert out.strip() == "[restore ]"


def test_fish_completes_commands_with_their_help() -> None:
    out = shell("fish", 'mirror completion fish | source; complete -C "mirror db ba"')
    assert out.startswith("backup\t") and "whole database" in out


def test_an_unknown_shell_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cli", "completion", "powershell"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "invalid choice" in done.stderr
