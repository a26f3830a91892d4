"""What is wrong with an inventory, said as ``file:line field: message``.

Pydantic reports an error at a *loc* (``("hosts", 2, "ssh", "port")``); this module
turns that into a dotted field (``hosts[2].ssh.port``), a line of the YAML file and a
message written for the person who edits the file (not pydantic's wording).
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from mirror.errors import ConfigError

Loc = tuple[str | int, ...]

# Keys that would put a secret in the file. Refused wherever they appear, with a message
# that names the reference to use instead, and never with the value.
SECRET_KEYS = {
    "password": "never put a password in the inventory; "
    "use password_env or password_file under ssh",
    "private_key": "never put a private key in the inventory; use key_file (its path) under ssh",
    "community": "never put a community string in the inventory; "
    "use community_env or community_file",
    "auth_key": "never put an SNMPv3 key in the inventory; use auth_env or auth_file",
    "priv_key": "never put an SNMPv3 key in the inventory; use priv_env or priv_file",
}


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int | None
    field: str  # "hosts[2].ssh.port"; "" for the file as a whole
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where} {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class InventoryError(ConfigError):
    """The inventory is invalid; ``problems`` lists every problem found, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def field_path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def line_for(lines: Mapping[Loc, int], loc: Loc) -> int | None:
    """The line of ``loc``, or of its nearest ancestor (a missing key: its parent mapping)."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def shown(value: object) -> str:
    """A value as the message quotes it: short, YAML-ish, never a whole mapping."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def from_pydantic(error: ErrorDetails, root: type[BaseModel]) -> tuple[Loc, str]:
    """One pydantic error as (loc, message)."""
    loc: Loc = tuple(part for part in error["loc"] if part != "[key]")
    kind, ctx, value = error["type"], error.get("ctx", {}), error.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        if key in SECRET_KEYS:
            return loc, SECRET_KEYS[key]
        return loc, "unknown field" + did_you_mean(key, _fields_at(root, loc[:-1]))
    if kind == "missing":
        return loc, "is required"
    if kind == "value_error":
        return loc, str(ctx["error"])
    if kind == "literal_error":
        return loc, f"must be {ctx['expected']}, got {shown(value)}"
    if kind in _EXPECTED:
        message = f"must be {_EXPECTED[kind]}, got {shown(value)}"
        if kind == "string_type" and isinstance(value, bool | int | float):
            message += " (quote it in YAML)"
        return loc, message
    if kind in _BOUNDS:
        return loc, f"must be {_BOUNDS[kind]} {shown(next(iter(ctx.values())))}, got {shown(value)}"
    if kind == "string_too_short":
        return loc, "must not be empty"
    return loc, error["msg"]


_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}
_BOUNDS = {
    "greater_than": ">",
    "greater_than_equal": ">=",
    "less_than": "<",
    "less_than_equal": "<=",
}


def _fields_at(root: type[BaseModel], loc: Loc) -> list[str]:
    """The field names the model at ``loc`` accepts (for "did you mean")."""
    tp: Any = root
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return []
            tp = field.annotation
        elif get_origin(tp) in (list, dict):
            tp = get_args(tp)[-1]
        else:
            return []
    tp = _unwrap(tp)
    return list(tp.model_fields) if isinstance(tp, type) and issubclass(tp, BaseModel) else []


def _unwrap(tp: Any) -> Any:
    """``Annotated[X, ...]`` and ``X | None`` → ``X``."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp
