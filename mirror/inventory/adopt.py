"""Add a host to ``inventory.yaml`` as text, so the owner's comments and layout stay as they are.

The new entry is one flow-style line (``- {name: "nas", address: "10.0.0.20"}``) inserted
right after the last host, at the list's own indentation. The result is validated with the
same checks as ``mirror check`` before it replaces the file (atomically); on any problem the
file is left untouched and every problem is reported.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mirror.errors import ConfigError
from mirror.inventory.yamlfile import check_file


def _quoted(value: str) -> str:
    """A YAML double-quoted string. JSON's quoting, but characters beyond U+FFFF written as
    themselves: JSON escapes them as surrogate pairs, which YAML reads as two broken
    characters (an emoji tag failed the whole adopt)."""
    text = json.dumps(value, ensure_ascii=False)
    return "".join(
        ch
        if ch.isprintable() or ch == " "
        else f"\\u{ord(ch):04x}"
        if ord(ch) <= 0xFFFF
        else f"\\U{ord(ch):08x}"
        for ch in text
    )


def host_line(
    name: str,
    address: str,
    *,
    mac: str | None = None,
    groups: Sequence[str] = (),
    tags: Sequence[str] = (),
) -> str:
    """The entry as one YAML flow mapping; every string JSON-quoted, so any text is safe."""
    fields = [f"name: {_quoted(name)}", f"address: {_quoted(address)}"]
    if mac:
        fields.append(f"mac: {_quoted(mac)}")
    if groups:
        fields.append(f"groups: [{', '.join(_quoted(g) for g in groups)}]")
    if tags:
        fields.append(f"tags: [{', '.join(_quoted(t) for t in tags)}]")
    return "{" + ", ".join(fields) + "}"


def insert_host(text: str, entry: str, comment: str | None = None) -> str:
    """``text`` with ``entry`` (a ``host_line``) added as the last item of ``hosts`` (pure)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"cannot add a host: the inventory is not valid YAML: {exc}") from None
    if root is None:
        return f"hosts:\n  - {entry}\n"
    if not isinstance(root, MappingNode):
        raise ConfigError("cannot add a host: the inventory's top level is not a mapping")
    found = [(k, v) for k, v in root.value if isinstance(k, ScalarNode) and k.value == "hosts"]
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    note = [f"{comment}\n"] if comment else []
    if not found:
        return "".join([*lines, "\nhosts:\n", *(f"  {n}" for n in note), f"  - {entry}\n"])
    key, value = found[-1]
    if isinstance(value, ScalarNode) and value.tag.endswith(":null") and value.value == "":
        at = key.start_mark.line + 1
        return "".join([*lines[:at], *(f"  {n}" for n in note), f"  - {entry}\n", *lines[at:]])
    if isinstance(value, SequenceNode) and value.flow_style:
        if value.value:
            raise ConfigError(
                "cannot add a host: hosts is written as a [flow] list; add the host by hand"
            )
        start, end = value.start_mark.index, value.end_mark.index
        return text[:start] + f"\n  - {entry}" + text[end:]
    if not isinstance(value, SequenceNode) or not value.value:
        raise ConfigError("cannot add a host: hosts is not a list")
    indent = " " * value.start_mark.column
    at = _last_line(value.value[-1]) + 1
    added = [f"{indent}{n}" for n in note] + [f"{indent}- {entry}\n"]
    return "".join([*lines[:at], *added, *lines[at:]])


def _last_line(node: Node) -> int:
    """The 0-based line where ``node``'s own text ends (not the comments after it)."""
    if isinstance(node, ScalarNode) or getattr(node, "flow_style", False):
        end = node.end_mark
        return end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line
    children: list[Node] = []
    if isinstance(node, MappingNode):
        for k, v in node.value:
            children += [k, v]
    elif isinstance(node, SequenceNode):
        children = list(node.value)
    return max((_last_line(c) for c in children), default=node.start_mark.line)


def adopt_host(
    path: Path,
    name: str,
    address: str,
    *,
    mac: str | None = None,
    groups: Sequence[str] = (),
    tags: Sequence[str] = (),
) -> str:
    """Append the host to the file at ``path`` if the result is a valid inventory; the new text."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    stamp = time.strftime("%Y-%m-%d", time.localtime())
    entry = host_line(name, address, mac=mac, groups=groups, tags=tags)
    new = insert_host(text, entry, comment=f"# adopted from discovery on {stamp}")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".adopt", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(new)
        problems = check_file(tmp)
        if problems:
            shown = "\n".join(str(p).replace(str(tmp), str(path)) for p in problems)
            raise ConfigError(f"not adopted, the inventory would be invalid:\n{shown}")
        shutil.copymode(path, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return new
