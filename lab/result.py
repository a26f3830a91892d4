"""What a simulated command answers (lab.commands, lab.tools, lab.shell)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Result:
    status: int
    stdout: str = ""
    stderr: str = ""
    sleep: float = 0.0  # seconds to wait before answering (``sleep N``)
    exit: bool = False  # ``exit``: the shell stops after this command
