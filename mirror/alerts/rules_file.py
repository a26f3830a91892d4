"""Rule edits from the API and the UI, written back into ``inventory.yaml``: the file stays
the source of truth, with the owner's comments and layout kept (ruamel.yaml round trip).

One place on purpose: at merge this becomes a call to the inventory writer
(mirror/inventory/writer.py, branch ``inventory``: validation, atomic write, audit).
Until then: the new text is validated as a whole inventory before it replaces the file
(written beside it, then renamed), so a bad rule never reaches the file.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from mirror.inventory import InventoryError, check_file


def _yaml() -> YAML:
    yaml = YAML()  # round-trip: comments, order and quoting kept
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _rules(doc: CommentedMap) -> CommentedSeq:
    alerts = doc.get("alerts")
    if alerts is None:
        alerts = doc["alerts"] = CommentedMap()
    rules = alerts.get("rules")
    if rules is None:
        rules = alerts["rules"] = CommentedSeq()
    return rules


def put_rule(path: Path, rule: dict[str, Any]) -> str:
    """Replace the rule named ``rule["name"]`` under ``alerts.rules`` (or append it);
    "updated" or "added". ``InventoryError`` (file untouched) if the result is invalid."""
    name = rule.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError("a rule needs a name")

    def edit(doc: CommentedMap) -> str:
        rules = _rules(doc)
        entry = CommentedMap(rule)
        for i, old in enumerate(rules):
            if isinstance(old, dict) and old.get("name") == name:
                rules[i] = entry
                return "updated"
        rules.append(entry)
        return "added"

    return _rewrite(Path(path), edit)


def delete_rule(path: Path, name: str) -> str:
    """Remove the rule ``name`` from ``alerts.rules``; "deleted" (LookupError if absent)."""

    def edit(doc: CommentedMap) -> str:
        rules = _rules(doc)
        for i, old in enumerate(rules):
            if isinstance(old, dict) and old.get("name") == name:
                del rules[i]
                return "deleted"
        raise LookupError(f"no rule {name!r} in {path}'s alerts.rules")

    return _rewrite(Path(path), edit)


def _rewrite(path: Path, edit: Any) -> str:
    yaml = _yaml()
    doc = yaml.load(path.read_text(encoding="utf-8")) or CommentedMap()
    outcome = edit(doc)
    out = io.StringIO()
    yaml.dump(doc, out)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(out.getvalue())
        problems = check_file(Path(tmp))
        if problems:  # said of the real file, where the owner will look
            raise InventoryError([replace(p, file=str(path)) for p in problems])
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return outcome
