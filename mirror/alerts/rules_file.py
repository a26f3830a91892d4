"""Rule edits from the API and the UI, written back into ``inventory.yaml`` through the one
inventory writer (mirror.inventory.writer: comments and layout kept, the whole result
validated first, atomic replace, refused when the file changed underneath).

A rule is an item of ``alerts.rules`` named by its ``name``; :class:`PutRule` and
:class:`DeleteRule` are the writer's edits for them. The alert service audits the change
itself (``alert.rule.*``), so the writer here records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from mirror.inventory.edits import check_text, refuse
from mirror.inventory.writer import InventoryWriter


def _rules(doc: CommentedMap, *, create: bool) -> list[Any] | None:
    alerts = doc.get("alerts")
    if alerts is None:
        if not create:
            return None
        alerts = doc["alerts"] = CommentedMap()
    if not isinstance(alerts, dict):
        raise refuse(("alerts",), "is not a mapping; fix the file by hand first")
    rules = alerts.get("rules")
    if rules is None:
        if not create:
            return None
        rules = alerts["rules"] = CommentedSeq()
    if not isinstance(rules, list):
        raise refuse(("alerts", "rules"), "is not a list; fix the file by hand first")
    return rules


@dataclass
class PutRule:
    """Replace the rule of that name under ``alerts.rules``, or append it."""

    rule: dict[str, Any]
    outcome: str = field(default="", init=False)

    def apply(self, doc: CommentedMap) -> None:
        name = self.rule.get("name")
        if not isinstance(name, str) or not name:
            raise refuse(("alerts", "rules"), "a rule needs a name")
        check_text(self.rule, ("alerts", "rules", name))
        rules = _rules(doc, create=True)
        assert rules is not None
        entry = CommentedMap(self.rule)
        for i, old in enumerate(rules):
            if isinstance(old, dict) and old.get("name") == name:
                rules[i] = entry
                self.outcome = "updated"
                return
        rules.append(entry)
        self.outcome = "added"

    def summary(self) -> str:
        return f"put alerts.rules[{self.rule.get('name')}]"


@dataclass
class DeleteRule:
    name: str

    def apply(self, doc: CommentedMap) -> None:
        rules = _rules(doc, create=False) or []
        for i, old in enumerate(rules):
            if isinstance(old, dict) and old.get("name") == self.name:
                del rules[i]
                return
        raise LookupError(f"no rule {self.name!r} in the file's alerts.rules")

    def summary(self) -> str:
        return f"delete alerts.rules[{self.name}]"


def put_rule(path: Path, rule: dict[str, Any]) -> str:
    """ "updated" or "added"; ``EditRefused`` (file untouched) if the result is invalid."""
    edit = PutRule(dict(rule))
    InventoryWriter(Path(path)).write([edit], actor="", via="")
    return edit.outcome


def delete_rule(path: Path, name: str) -> str:
    """ "deleted"; ``LookupError`` if the file has no such rule."""
    InventoryWriter(Path(path)).write([DeleteRule(name)], actor="", via="")
    return "deleted"
