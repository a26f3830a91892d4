"""A small, pure interpreter for the shell lines people type at a simulated host.

What a Run page or a terminal sends to a real host is a line for ``/bin/sh``: commands joined
by ``;``, ``&&``, ``||`` and pipes, quoted words, ``$VAR``, and redirections to
``/dev/null``.  This module parses such a line and runs it against the host's model, with no
process, file or network touched: every simple command goes to :func:`lab.commands.evaluate`
with the previous pipeline stage's output as its standard input.

Supported: ``;``, ``&`` (run in the foreground, its wait dropped), ``&&``, ``||``, ``|``,
single and double quotes, backslash escapes, ``#`` comments, ``$NAME``, ``${NAME}``, ``$?``,
``NAME=value`` assignments, ``>``/``>>``/``2>``/``<`` (only ``/dev/null`` and the host's
simulated files can be read; writing anywhere but ``/dev/null`` fails as on a read-only
file system), ``2>&1`` and ``>&2``.  Syntax errors answer as dash does (``sh: 1: Syntax
error: …``, exit status 2).  Not supported: globbing, subshells, ``$(…)``, control flow.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

from lab import commands
from lab.commands import Result, unwrap
from lab.model import HostModel

_OPERATORS = ("&&", "||", ";;", ";", "|", "&")
_VAR = re.compile(r"\x00([A-Za-z_][A-Za-z0-9_]*|\?|\$)\x01")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


class ShellSyntaxError(Exception):
    """What dash prints after ``sh: 1: Syntax error: ``."""


@dataclass(frozen=True, slots=True)
class Op:
    text: str


@dataclass(frozen=True, slots=True)
class Redirect:
    fd: int  # 0, 1 or 2
    mode: str  # "<", ">", ">>" or ">&" (duplicate onto ``target``'s fd)
    target: str = ""


@dataclass(slots=True)
class Simple:
    words: list[str] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)


Token = str | Op | Redirect


def _read_variable(line: str, i: int) -> tuple[str, int]:
    """``line[i] == '$'``: the marked variable reference and the index after it."""
    rest = line[i + 1 :]
    if rest.startswith("{"):
        end = rest.find("}")
        if end == -1:
            raise ShellSyntaxError("Missing '}'")
        return f"\x00{rest[1:end]}\x01", i + end + 2
    match = re.match(r"[A-Za-z_][A-Za-z0-9_]*|\?|\$", rest)
    if not match:
        return "$", i + 1
    return f"\x00{match[0]}\x01", i + 1 + match.end()


def tokenize(line: str) -> list[Token]:
    """Words (variable references marked, expanded at run time), operators and redirects."""
    tokens: list[Token] = []
    word: list[str] | None = None
    i, n = 0, len(line)

    def flush() -> None:
        nonlocal word
        if word is not None:
            tokens.append("".join(word))
            word = None

    while i < n:
        c = line[i]
        if c in " \t\n":
            flush()
            i += 1
        elif c == "#" and word is None:
            break
        elif c == "'":
            end = line.find("'", i + 1)
            if end == -1:
                raise ShellSyntaxError("Unterminated quoted string")
            word = (word or []) + [line[i + 1 : end]]
            i = end + 1
        elif c == '"':
            word = word or []
            i += 1
            while True:
                if i >= n:
                    raise ShellSyntaxError("Unterminated quoted string")
                c = line[i]
                if c == '"':
                    i += 1
                    break
                if c == "\\" and i + 1 < n and line[i + 1] in '"\\$`':
                    word.append(line[i + 1])
                    i += 2
                elif c == "$":
                    ref, i = _read_variable(line, i)
                    word.append(ref)
                else:
                    word.append(c)
                    i += 1
        elif c == "\\":
            word = (word or []) + [line[i + 1 : i + 2]]
            i += 2
        elif c == "$":
            ref, i = _read_variable(line, i)
            word = (word or []) + [ref]
        elif c in "<>" or (c in "012" and word is None and line[i + 1 : i + 2] in ("<", ">")):
            flush()
            fd = int(c) if c.isdigit() else (0 if c == "<" else 1)
            j = i + 1 if c.isdigit() else i
            if line.startswith(">>", j):
                mode, j = ">>", j + 2
            elif line.startswith(">&", j):
                mode, j = ">&", j + 2
            else:
                mode, j = line[j], j + 1
            while j < n and line[j] in " \t":
                j += 1
            match = re.match(r"[^\s;&|<>]+", line[j:])
            if not match:
                raise ShellSyntaxError(f'"{line[j : j + 1] or "newline"}" unexpected')
            target = match[0].strip("'\"")
            if mode == ">&" and target not in ("1", "2"):
                raise ShellSyntaxError(f"{target}: Bad fd number")
            tokens.append(Redirect(fd, mode, target))
            i = j + match.end()
        else:
            op = next((o for o in _OPERATORS if line.startswith(o, i)), None)
            if op is None:
                word = (word or []) + [c]
                i += 1
            else:
                flush()
                tokens.append(Op(op))
                i += len(op)
    flush()
    return tokens


Pipeline = list[Simple]


def parse(line: str) -> list[tuple[str, Pipeline, bool]]:
    """``(connector, pipeline, background)`` triples; the first connector is ``;``."""
    items: list[tuple[str, Pipeline, bool]] = []
    connector = ";"
    pipeline: Pipeline = [Simple()]

    def close(op: str) -> None:
        if not pipeline[-1].words and not pipeline[-1].redirects:
            raise ShellSyntaxError(f'"{op}" unexpected')

    for token in tokenize(line):
        if isinstance(token, str):
            pipeline[-1].words.append(token)
        elif isinstance(token, Redirect):
            pipeline[-1].redirects.append(token)
        elif token.text == "|":
            close("|")
            pipeline.append(Simple())
        elif token.text == ";;":
            raise ShellSyntaxError('";;" unexpected')
        else:
            close(token.text)
            items.append((connector, pipeline, token.text == "&"))
            connector = token.text if token.text in ("&&", "||") else ";"
            pipeline = [Simple()]
    if pipeline[-1].words or pipeline[-1].redirects:
        items.append((connector, pipeline, False))
    elif len(pipeline) > 1 or connector in ("&&", "||"):
        raise ShellSyntaxError("end of file unexpected")
    return items


def _home(username: str) -> str:
    return "/root" if username == "root" else f"/home/{username}"


def _environment(model: HostModel, username: str) -> dict[str, str]:
    home = _home(username)
    return {
        "HOME": home,
        "PWD": home,
        "USER": username,
        "LOGNAME": username,
        "SHELL": "/bin/sh",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "?": "0",
        "$": str(4000 + len(model.host.name) * 17),
    }


def _expand(word: str, env: dict[str, str]) -> str:
    return _VAR.sub(lambda m: env.get(m[1], ""), word)


def _run_simple(
    simple: Simple, stdin: str, model: HostModel, username: str, env: dict[str, str]
) -> Result:
    words = [_expand(w, env) for w in simple.words]
    while words and _ASSIGNMENT.match(words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    if words and words[0] == "export":
        for item in words[1:]:
            name, eq, value = item.partition("=")
            if eq:
                env[name] = value
        words = []
    for redirect in simple.redirects:
        if redirect.fd == 0 and redirect.mode == "<":
            target = _expand(redirect.target, env)
            text = "" if target == "/dev/null" else model.file(target)
            if text is None:
                return Result(2, stderr=f"sh: 1: cannot open {target}: No such file\n")
            stdin = text
    for redirect in simple.redirects:
        target = _expand(redirect.target, env)
        if redirect.mode in (">", ">>") and target != "/dev/null":
            return Result(2, stderr=f"sh: 1: cannot create {target}: Read-only file system\n")
    result = commands.evaluate(words, model, username, stdin=stdin, env=env) if words else None
    if result is None:
        result = Result(0)
    out, err = result.stdout, result.stderr
    for redirect in simple.redirects:  # left to right, as the shell applies them
        if redirect.mode in (">", ">>"):
            if redirect.fd == 1:
                out = ""
            elif redirect.fd == 2:
                err = ""
        elif redirect.mode == ">&":
            if redirect.fd == 2 and redirect.target == "1":
                out, err = out + err, ""
            elif redirect.fd == 1 and redirect.target == "2":
                out, err = "", err + out
    return Result(result.status, out, err, result.sleep, result.exit)


def execute(line: str, model: HostModel, username: str = "mirror") -> Result:
    """Run one shell line on ``model``: all output, the last status, the time it sleeps."""
    try:
        items = parse(unwrap(line))
    except ShellSyntaxError as exc:
        return Result(2, stderr=f"sh: 1: Syntax error: {exc}\n")
    env = _environment(model, username)
    out: list[str] = []
    err: list[str] = []
    status, sleep = 0, 0.0
    for connector, pipeline, background in items:
        if (connector == "&&" and status != 0) or (connector == "||" and status == 0):
            continue
        stdin = ""
        for stage in pipeline:
            result = _run_simple(stage, stdin, model, username, env)
            stdin = result.stdout
            err.append(result.stderr)
            if not background:
                sleep += result.sleep
        out.append(stdin)
        status = result.status
        env["?"] = str(status)
        if result.exit and len(pipeline) == 1 and not background:
            break
    return Result(status, "".join(out), "".join(err), sleep)


async def run(line: str, model: HostModel, username: str = "mirror") -> Result:
    """:func:`execute`, then wait as long as its ``sleep`` commands asked."""
    result = execute(line, model, username)
    if result.sleep:
        await asyncio.sleep(result.sleep)
    return result
