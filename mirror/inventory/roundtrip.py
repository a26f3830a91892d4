"""``inventory.yaml`` as a round-trip document: edit the data, keep the owner's text.

ruamel.yaml loads the file with its comments, key order, quoting, anchors and flow style
and writes it back. Three things it would still change are handled here:

- the file's indentation, line endings (CRLF) and byte-order mark are detected and reused;
- a comment block after the last item of a list belongs, to ruamel, to that item, so an item
  appended after it would land below the comments: ``append_item``/``put_key`` move it;
- whatever ruamel re-lays out anyway (escapes in double quotes, uneven indentation, ``---``)
  is put back by ``keep_untouched``: only the lines the edit itself changed differ.

New strings that YAML 1.1 (PyYAML, which reads the file for ``mirror check``) would take for
something else (``yes``, ``10:20:30``, ``0755``) are double-quoted.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from ruamel.yaml.tokens import CommentToken

_STR_TAG = "tag:yaml.org,2002:str"
_RESOLVER = yaml.resolver.Resolver()  # the implicit types of PyYAML's SafeLoader (YAML 1.1)
_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")
_BLOCK_KEY = re.compile(r"^( *)(?:- +)?[^\s#][^#]*:(?:\s+#.*)?$")


class DocumentError(ValueError):
    """The text is not YAML ruamel can read; ``line`` is 1-based where known."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True, slots=True)
class Layout:
    """How the file is written, so new text looks like the old."""

    mapping: int = 2
    sequence: int = 4
    offset: int = 2
    newline: str = "\n"
    bom: bool = False
    explicit_start: bool = False


_DEFAULT = Layout()


def lines(text: str) -> list[str]:
    """``text`` split after each ``\\n`` only (``str.splitlines`` also splits on U+2028...)."""
    return _LINE.findall(text)


def detect_layout(text: str) -> Layout:
    """Indentation of nested mappings and block lists, line ending, BOM and ``---``."""
    return layouts(text)[0]


def layouts(text: str) -> list[Layout]:
    """Each way of indenting the file uses, the most common first (a hand-written file may
    indent each section its own way; the writer tries each for the lines it adds)."""
    bom = text.startswith("\ufeff")
    crlf = text.count("\r\n")
    newline = "\r\n" if crlf and crlf * 2 >= text.count("\n") else "\n"
    body = [ln.rstrip("\r\n") for ln in lines(text.removeprefix("\ufeff"))]
    mappings: Counter[int] = Counter()
    sequences: Counter[tuple[int, int]] = Counter()
    for i, line in enumerate(body):
        opener = _BLOCK_KEY.match(line)
        if opener is None:
            continue
        dash = line.lstrip(" ").startswith("- ")
        col = len(opener.group(1)) + (len(line.lstrip(" ")) - len(line.lstrip(" -")) if dash else 0)
        child = next((c for c in body[i + 1 :] if c.strip() and not c.lstrip().startswith("#")), "")
        indent = len(child) - len(child.lstrip(" "))
        rest = child.lstrip(" ")
        if indent < col or (indent == col and not rest.startswith("- ")):
            continue
        if rest.startswith("- "):
            offset = indent - col
            sequences[(offset + len(rest) - len(rest[1:].lstrip(" ")), offset)] += 1
        else:
            mappings[indent - col] += 1
    maps = [m for m, _ in mappings.most_common()] or [_DEFAULT.mapping]
    seqs = [s for s, _ in sequences.most_common()] or [(_DEFAULT.sequence, _DEFAULT.offset)]
    first = next((ln for ln in body if ln.strip() and not ln.startswith("#")), "")
    start = first.rstrip() == "---"
    return [Layout(m, s, o, newline, bom, start) for (s, o) in seqs for m in maps]


def _yaml(layout: Layout) -> YAML:
    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 4096  # never fold a long line the owner wrote on one
    rt.allow_unicode = True
    rt.indent(mapping=layout.mapping, sequence=layout.sequence, offset=layout.offset)
    rt.explicit_start = layout.explicit_start
    return rt


def load(text: str) -> tuple[Any, Layout]:
    """The document (``CommentedMap``/``CommentedSeq``/scalars) and the file's layout."""
    layout = detect_layout(text)
    body = text.removeprefix("\ufeff").replace("\r\n", "\n")
    try:
        return _yaml(layout).load(body), layout
    except ReaderError as exc:  # checked over the whole text before parsing
        line = body.count("\n", 0, exc.position) + 1
        message = f"YAML: control character U+{exc.character:04X} is not allowed"
        raise DocumentError(message, line) from None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        at: int | None = mark.line + 1 if mark is not None else None
        raise DocumentError(f"YAML: {where}", at) from None


def dump(doc: Any, layout: Layout) -> str:
    out = io.StringIO()
    _yaml(layout).dump(doc, out)
    text = out.getvalue()
    if layout.newline != "\n":
        text = text.replace("\n", layout.newline)
    return ("\ufeff" if layout.bom else "") + text


def keep_untouched(original: str, before: str, after: str) -> str:
    """``after`` with every line the edit did not change taken from ``original``.

    ``before`` is ruamel's rewrite of ``original`` with no edit, ``after`` with the edit.
    Where ``before`` already differs from ``original`` (layout ruamel does not keep) and the
    edit did not touch it, the original lines stay. Where both touch the same lines, the
    edit's lines win (the diff shows them). Lines are compared without their line ending.
    """
    if original == before:
        return after
    o, b, a = lines(original), lines(before), lines(after)
    key = [ln.rstrip("\r\n") for ln in o], [ln.rstrip("\r\n") for ln in b]
    theirs = SequenceMatcher(None, key[1], key[0], autojunk=False).get_opcodes()
    ours = SequenceMatcher(
        None, key[1], [ln.rstrip("\r\n") for ln in a], autojunk=False
    ).get_opcodes()
    regions = _merged(
        [(i1, i2) for tag, i1, i2, _, _ in ours if tag != "equal"],
        [(i1, i2) for tag, i1, i2, _, _ in theirs if tag != "equal"],
    )
    out: list[str] = []
    at = 0  # position in original
    for start, end in regions:
        o_start = _map(start, theirs, True)
        o_end = o_start if start == end else _map(end, theirs, False)
        out += o[at:o_start]
        out += a[_map(start, ours, True) : _map(end, ours, False)]
        at = o_end
    out += o[at:]
    return "".join(out)


def _merged(ours: list[tuple[int, int]], theirs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Our change regions, each widened over every region of theirs it overlaps."""
    result: list[tuple[int, int]] = []
    for start, end in ours:
        grown = True
        while grown:
            grown = False
            for t1, t2 in theirs:
                if _overlap(start, end, t1, t2) and (t1 < start or t2 > end):
                    start, end, grown = min(start, t1), max(end, t2), True
        if result and _overlap(*result[-1], start, end):
            start, end = min(start, result[-1][0]), max(end, result.pop()[1])
        result.append((start, end))
    return result


def _overlap(a1: int, a2: int, b1: int, b2: int) -> bool:
    """Whether two line ranges share a line; an insertion overlaps what it falls inside."""
    if a1 == a2 and b1 == b2:
        return a1 == b1
    if a1 == a2:
        return b1 < a1 < b2
    if b1 == b2:
        return a1 < b1 < a2
    return a1 < b2 and b1 < a2


def _map(pos: int, opcodes: Sequence[tuple[str, int, int, int, int]], start: bool) -> int:
    """Where boundary ``pos`` of the left side falls on the right side.

    A region's start takes in a change that begins there, its end one that ends there
    (an insertion at ``pos`` does both), so no changed line is left out.
    """
    for tag, i1, i2, j1, j2 in opcodes:
        if tag != "equal" and pos == (i1 if start else i2):
            return j1 if start else j2
    for tag, i1, i2, j1, _ in opcodes:
        if tag == "equal" and i1 <= pos <= i2:
            return j1 + pos - i1
    return opcodes[-1][4] if opcodes else 0


# --- building new values ------------------------------------------------------------------


def plain_string_ok(value: str) -> bool:
    """Whether PyYAML (YAML 1.1) reads ``value`` written bare back as this same string."""
    resolved = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))
    return bool(resolved == _STR_TAG)


def new_value(value: Any, *, flow: bool = False) -> Any:
    """``value`` (plain Python data) as ruamel nodes; lists of scalars in flow style."""
    if isinstance(value, Mapping):
        mapping = CommentedMap((str(k), new_value(v)) for k, v in value.items())
        if flow:
            mapping.fa.set_flow_style()
        return mapping
    if isinstance(value, list | tuple):
        seq = CommentedSeq(new_value(v) for v in value)
        if all(not isinstance(v, Mapping | list | tuple) for v in value):
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, str) and not isinstance(value, DoubleQuotedScalarString):
        return value if plain_string_ok(value) else DoubleQuotedScalarString(value)
    return value


def is_flow(node: Any) -> bool:
    return isinstance(node, CommentedMap | CommentedSeq) and bool(node.fa.flow_style())


def _tail(node: Any) -> Iterator[tuple[dict[Any, list[Any]], Any, int]]:
    """The comment slots after ``node``'s last line, outermost first."""
    while isinstance(node, CommentedMap | CommentedSeq) and len(node) and not is_flow(node):
        key = next(reversed(node)) if isinstance(node, CommentedMap) else len(node) - 1
        yield node.ca.items, key, 2 if isinstance(node, CommentedMap) else 0
        node = node[key]


def take_trailing(node: Any) -> str | None:
    """Remove the comment lines after ``node`` (not its end-of-line comment); their text."""
    for items, key, pos in reversed(list(_tail(node))):
        slot = items.get(key)
        if slot is None or slot[pos] is None or not isinstance(slot[pos], CommentToken):
            continue
        first, _, rest = str(slot[pos].value).partition("\n")
        if not rest:
            return None
        slot[pos].value = first + "\n"
        return rest
    return None


def give_trailing(node: Any, text: str) -> None:
    """Put comment lines ``text`` after ``node``'s last line (after its end-of-line comment)."""
    slots = list(_tail(node))
    if not slots:
        return
    items, key, pos = slots[-1]
    slot = items.setdefault(key, [None, None, None, None])
    old = slot[pos]
    if isinstance(old, CommentToken):  # keep its end-of-line comment, at its column
        old.value = old.value.partition("\n")[0] + "\n" + text
    else:
        slot[pos] = CommentToken("\n" + text, CommentMark(0), None)


def remove(container: CommentedMap | CommentedSeq, key: Any) -> None:
    """Delete ``container[key]``; the comment lines after the last one stay in the file."""
    last = next(reversed(container)) if isinstance(container, CommentedMap) else len(container) - 1
    moved = take_trailing(container) if key == last and not is_flow(container) else None
    del container[key]
    if moved is not None and len(container):
        give_trailing(container, moved)


def append_item(seq: CommentedSeq, item: Any) -> None:
    """Append ``item``, keeping the comment lines after the old last item after the new one."""
    moved = take_trailing(seq) if not is_flow(seq) else None
    seq.append(item)
    if moved is not None:
        give_trailing(seq, moved)


def put_key(mapping: CommentedMap, key: str, value: Any, *, top: bool = False) -> None:
    """Set ``mapping[key]``; a new key goes last, before the comments after the old last one.

    At the ``top`` of the file a new section goes after them, at the very end.
    """
    if key in mapping or is_flow(mapping) or top:
        mapping[key] = value
        return
    moved = take_trailing(mapping)
    mapping[key] = value
    if moved is not None:
        give_trailing(mapping, moved)
