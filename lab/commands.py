"""The few ordinary commands a simulated host understands (for the command runner and demo).

``uptime``, ``echo``, ``hostname``, ``sleep N``, ``true``, ``false``, ``exit N``, ``whoami``,
``uname [-a|-m|-r|-n|-s]``, ``getconf CLK_TCK``, ``df`` (always the ``-PkT`` table),
``nvidia-smi`` (the REFLECTOR's CSV query; "not found" on hosts without a GPU) and ``cat`` of
the files the simulator renders.  Anything else is
answered as dash answers it: ``sh: 1: X: not found`` on stderr, exit status 127.  A command
wrapped as ``[exec] sh -c '…'`` is unwrapped first.
"""

from __future__ import annotations

import asyncio
import shlex
from dataclasses import dataclass

from lab.model import HostModel
from mirror.control.output import PGID_ANNOUNCE


@dataclass(frozen=True, slots=True)
class Result:
    status: int
    stdout: str = ""
    stderr: str = ""
    sleep: float = 0.0  # seconds to wait before answering (``sleep N``)


def split(command: str) -> list[str]:
    """argv of ``command``; unwraps ``exec`` and ``sh -c '…'`` wrappers."""
    # The command runner's prefix asks a POSIX shell for its process group: a real shell
    # runs it; the simulator just drops it (it never announces, as a non-POSIX host).
    command = command.removeprefix(PGID_ANNOUNCE)
    try:
        argv = shlex.split(command)
    except ValueError:
        return [command]
    while argv and argv[0] == "exec":
        argv = argv[1:]
    if len(argv) >= 3 and argv[0] in ("sh", "/bin/sh", "bash", "/bin/bash") and argv[1] == "-c":
        return split(argv[2])
    return argv


def evaluate(command: str, model: HostModel, username: str = "mirror") -> Result:
    argv = split(command)
    if not argv:
        return Result(0)
    name, args = argv[0], argv[1:]
    if name == "true" or name == ":":
        return Result(0)
    if name == "false":
        return Result(1)
    if name == "exit":
        try:
            return Result(int(args[0]) & 0xFF if args else 0)
        except ValueError:
            return Result(2, stderr=f"sh: 1: exit: Illegal number: {args[0]}\n")
    if name == "echo":
        if args[:1] == ["-n"]:
            return Result(0, " ".join(args[1:]))
        return Result(0, " ".join(args) + "\n")
    if name == "hostname":
        return Result(0, model.host.name + "\n")
    if name == "whoami":
        return Result(0, username + "\n")
    if name == "uptime":
        return Result(0, model.uptime_line())
    if name == "uname":
        fields = {"-s": "Linux", "-n": model.host.name, "-r": model.kernel, "-m": "x86_64"}
        if not args:
            return Result(0, "Linux\n")
        if args == ["-a"]:
            return Result(
                0,
                f"Linux {model.host.name} {model.kernel} #1 SMP PREEMPT_DYNAMIC x86_64 GNU/Linux\n",
            )
        try:
            return Result(0, " ".join(fields[a] for a in args) + "\n")
        except KeyError as exc:
            return Result(1, stderr=f"uname: invalid option -- '{exc.args[0].lstrip('-')}'\n")
    if name == "sleep":
        try:
            seconds = sum(float(a) for a in args)
        except ValueError:
            return Result(1, stderr=f"sleep: invalid time interval '{args[0]}'\n")
        if not args or seconds < 0:
            return Result(1, stderr="sleep: missing operand\n")
        return Result(0, sleep=seconds)
    if name == "getconf" and args == ["CLK_TCK"]:
        return Result(0, "100\n")
    if name == "df":
        return Result(0, model.df(model.advance()) + "\n")
    if name == "nvidia-smi":
        smi = model.nvidia_smi(model.advance())
        if smi is None:
            return Result(127, stderr="sh: 1: nvidia-smi: not found\n")
        return Result(0, smi + "\n")
    if name == "cat":
        out, err, status = [], [], 0
        for path in args:
            text = model.file(path)
            if text is None:
                err.append(f"cat: {path}: No such file or directory\n")
                status = 1
            else:
                out.append(text)
        return Result(status, "".join(out), "".join(err))
    return Result(127, stderr=f"sh: 1: {name}: not found\n")


async def run(command: str, model: HostModel, username: str = "mirror") -> Result:
    result = evaluate(command, model, username)
    if result.sleep:
        await asyncio.sleep(result.sleep)
    return result
