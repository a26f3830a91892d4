"""The ordinary commands a simulated host understands (for the command runner and demo).

One simple command (an argv, already split by :mod:`lab.shell`, which handles ``;``, ``&&``,
pipes and quoting) at a time: ``uptime``, ``echo``, ``hostname``, ``sleep N``, ``true``,
``false``, ``exit N``, ``whoami``, ``id``, ``pwd``, ``cd``, ``uname [-asnrmo…]``, ``getconf
CLK_TCK``, ``df`` (``-PkT`` as the collectors ask, ``-h`` as people ask), ``nvidia-smi`` (the
REFLECTOR's CSV query; "not found" on hosts without a GPU), ``cat`` of the files the simulator
renders, and the everyday tools of :mod:`lab.tools` (``free``, ``systemctl``, ``journalctl``,
``date``, ``nproc``, ``head``, ``tail``, ``grep``, ``wc``, ``sort``, ``uniq``).  Anything else
is answered as dash answers it: ``sh: 1: X: not found`` on stderr, exit status 127.
"""

from __future__ import annotations

import shlex

from lab import tools
from lab.model import HostModel
from lab.result import Result
from mirror.control.output import PGID_ANNOUNCE


def unwrap(command: str) -> str:
    """The line a shell would run: drops the runner's prefix and ``exec sh -c '…'`` wrappers."""
    # The command runner's prefix asks a POSIX shell for its process group: a real shell
    # runs it; the simulator just drops it (it never announces, as a non-POSIX host).
    command = command.removeprefix(PGID_ANNOUNCE)
    try:
        argv = shlex.split(command)
    except ValueError:
        return command
    while argv and argv[0] == "exec":
        argv = argv[1:]
    if len(argv) == 3 and argv[0] in ("sh", "/bin/sh", "bash", "/bin/bash") and argv[1] == "-c":
        return unwrap(argv[2])
    return command


def split(command: str) -> list[str]:
    """argv of ``command``; unwraps ``exec`` and ``sh -c '…'`` wrappers."""
    command = unwrap(command)
    try:
        argv = shlex.split(command)
    except ValueError:
        return [command]
    while argv and argv[0] == "exec":
        argv = argv[1:]
    return argv


_UNAME_FLAGS = "snrvmpio"


def _uname(model: HostModel, args: list[str]) -> Result:
    values = {
        "s": "Linux",
        "n": model.host.name,
        "r": model.kernel,
        "v": "#1 SMP PREEMPT_DYNAMIC",
        "m": "x86_64",
        "p": "unknown",
        "i": "unknown",
        "o": "GNU/Linux",
    }
    letters: set[str] = set()
    for arg in args:
        if arg in ("-a", "--all"):
            letters.update("snrvmo")
        elif arg.startswith("-") and len(arg) > 1 and not arg.startswith("--"):
            for letter in arg[1:]:
                if letter == "a":
                    letters.update("snrvmo")
                elif letter in _UNAME_FLAGS:
                    letters.add(letter)
                else:
                    return Result(
                        1,
                        stderr=f"uname: invalid option -- '{letter}'\n"
                        "Try 'uname --help' for more information.\n",
                    )
        else:
            return Result(
                1,
                stderr=f"uname: extra operand '{arg}'\nTry 'uname --help' for more information.\n",
            )
    chosen = [values[k] for k in _UNAME_FLAGS if k in (letters or {"s"})]
    return Result(0, " ".join(chosen) + "\n")


def evaluate(
    argv: list[str] | str,
    model: HostModel,
    username: str = "mirror",
    stdin: str = "",
    env: dict[str, str] | None = None,
) -> Result:
    """One simple command; a string is split first (no shell operators: see lab.shell)."""
    if isinstance(argv, str):
        argv = split(argv)
    while argv and argv[0] == "exec":
        argv = argv[1:]
    if not argv:
        return Result(0)
    name, args = argv[0], argv[1:]
    if name == "true" or name == ":" or name == "cd":
        return Result(0)
    if name == "false":
        return Result(1)
    if name == "exit":
        try:
            return Result(int(args[0]) & 0xFF if args else 0, exit=True)
        except ValueError:
            return Result(2, stderr=f"sh: 1: exit: Illegal number: {args[0]}\n", exit=True)
    if name == "echo":
        if args[:1] == ["-n"]:
            return Result(0, " ".join(args[1:]))
        return Result(0, " ".join(args) + "\n")
    if name == "hostname":
        return Result(0, model.host.name + "\n")
    if name == "whoami":
        return Result(0, username + "\n")
    if name == "pwd":
        return Result(0, (env or {}).get("PWD", f"/home/{username}") + "\n")
    if name == "uptime":
        return tools.uptime(model, args)
    if name == "uname":
        return _uname(model, args)
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
        return tools.df(model, args)
    if name == "nvidia-smi":
        smi = model.nvidia_smi(model.advance())
        if smi is None:
            return Result(127, stderr="sh: 1: nvidia-smi: not found\n")
        return Result(0, smi + "\n")
    if name == "cat":
        if not args:
            return Result(0, stdin)
        out, err, status = [], [], 0
        for path in args:
            text = stdin if path == "-" else model.file(path)
            if text is None:
                err.append(f"cat: {path}: No such file or directory\n")
                status = 1
            else:
                out.append(text)
        return Result(status, "".join(out), "".join(err))
    tool = tools.TOOLS.get(name)
    if tool is not None:
        return tool(model, args, stdin, username)
    return Result(127, stderr=f"sh: 1: {name}: not found\n")


async def run(command: str, model: HostModel, username: str = "mirror") -> Result:
    """A whole shell line (see :mod:`lab.shell`), waiting as long as it sleeps."""
    from lab import shell  # shell builds on this module

    return await shell.run(command, model, username)
