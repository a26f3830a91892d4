"""Reading ``inventory.yaml`` with the line of every key, so problems can say where they are."""

from __future__ import annotations

from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mirror.inventory.models import Inventory, validate
from mirror.inventory.problems import InventoryError, Loc, Problem, field_path

_MERGE_TAG = "tag:yaml.org,2002:merge"


def load_inventory(path: Path) -> Inventory:
    """Read and validate the inventory; raises ``InventoryError`` listing every problem."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise InventoryError([Problem(source, None, "", f"cannot read: {e.strerror}")]) from None
    except UnicodeDecodeError as e:
        message = f"not UTF-8 text (bad byte at offset {e.start})"
        raise InventoryError([Problem(source, None, "", message)]) from None
    return parse_inventory(text, source, Path(path).absolute().parent)


def parse_inventory(text: str, source: str, base_dir: Path) -> Inventory:
    """Validate ``text`` as if read from the file ``source`` in ``base_dir``."""
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as e:  # a control character: PyYAML checks the whole text first
        line = text.count("\n", 0, e.position) + 1
        message = f"YAML: control character U+{e.character:04X} is not allowed"
        raise InventoryError([Problem(source, line, "", message)]) from None
    try:
        node = loader.get_single_node()
        lines: dict[Loc, int] = {}
        duplicates: list[Problem] = []
        if node is not None:
            _walk(node, (), lines, duplicates, source)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as e:
        raise InventoryError([_yaml_problem(source, e)]) from None
    finally:
        loader.dispose()
    if data is None:
        message = "file is empty; expected a mapping with subnets: and hosts:"
        raise InventoryError([Problem(source, None, "", message)])
    try:
        inventory = validate(data, source, lines, base_dir)
    except InventoryError as e:
        problems = sorted(duplicates + e.problems, key=lambda p: p.line or 0)
        raise InventoryError(problems) from None
    if duplicates:
        raise InventoryError(duplicates)
    return inventory


def check_file(path: Path) -> list[Problem]:
    """Every problem in the inventory at ``path``; empty when it is valid."""
    try:
        load_inventory(path)
    except InventoryError as e:
        return e.problems
    return []


def key_lines(text: str) -> dict[Loc, int]:
    """The line of every key and list item of a YAML text that parses."""
    lines: dict[Loc, int] = {}
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if node is not None:
        _walk(node, (), lines, [], "")
    return lines


def _walk(node: Node, loc: Loc, lines: dict[Loc, int], dups: list[Problem], source: str) -> None:
    """Record the line of each key and list item; report keys given twice.

    YAML keeps a repeated key's last value, so the last one's lines are the ones recorded.
    """
    lines.setdefault(loc, node.start_mark.line + 1)
    if len(loc) > 32:  # a recursive alias (&a [*a]) would never end
        return
    if isinstance(node, MappingNode):
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            key, line = key_node.value, key_node.start_mark.line + 1
            if key in first:
                message = f"duplicate key {key!r} (first on line {first[key]})"
                dups.append(Problem(source, line, field_path((*loc, key)), message))
            first.setdefault(key, line)
            lines[(*loc, key)] = line
            _walk(value_node, (*loc, key), lines, dups, source)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*loc, i)] = item.start_mark.line + 1
            _walk(item, (*loc, i), lines, dups, source)


def _yaml_problem(source: str, error: yaml.MarkedYAMLError) -> Problem:
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark is not None else None
    message = error.problem or "invalid YAML"
    if error.context:
        context_line = error.context_mark.line + 1 if error.context_mark else line
        message += f" ({error.context} on line {context_line})"
    return Problem(source, line, "", f"YAML: {message}")
