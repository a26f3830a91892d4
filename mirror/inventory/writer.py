"""The one writer of ``inventory.yaml``: adopt, the admin pages, alerts and jobs all edit here.

``propose`` applies typed edits (``mirror.inventory.edits``) to the round-trip document,
validates the WHOLE result with the parser ``mirror check`` uses, and returns the new text
with a unified diff, writing nothing (``--dry-run``, a page's preview). ``write`` does the
same and then replaces the file:

- atomically: a temporary file in the same folder, written, fsynced, given the old file's
  mode (and owner where allowed), renamed over it, the folder fsynced;
- only if the file on disk is still the one the edit was made from (byte for byte, checked
  under a lock on the folder just before the rename); otherwise ``ChangedOnDisk`` and
  nothing is written. A caller that showed the file earlier passes its ``version`` as
  ``expect`` so an edit made in between (an editor, another admin) is never overwritten;
- recorded in the audit log with who and a summary of each edit (names and fields, never
  values).

A refused edit raises ``EditRefused`` (an ``InventoryError``: each problem is
``file:line field: message`` as ``mirror check`` says it) and leaves the file untouched.

Inside a running EGO, write through ``InventoryReloader.edit_and_reload`` so the write and
the reload happen under one lock and the new file is read once.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from ruamel.yaml.comments import CommentedMap

from mirror.errors import ConfigError
from mirror.inventory.edits import Edit, EditRefused
from mirror.inventory.problems import InventoryError, Problem
from mirror.inventory.roundtrip import DocumentError, dump, keep_untouched, layouts, lines, load
from mirror.inventory.yamlfile import parse_inventory

if TYPE_CHECKING:
    from mirror.audit import AuditLog

__all__ = ["ChangedOnDisk", "EditRefused", "InventoryText", "InventoryWriter", "Proposal"]

ACTION = "inventory.edit"
CHANGED_HINT = (
    "read it again (reload the page, or run the command again), check what changed, "
    "and make the edit again"
)


class ChangedOnDisk(ConfigError):
    """The file is not the one the edit was made from; nothing was written (API: 409)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.hint = CHANGED_HINT
        super().__init__(f"{path} changed on disk since it was read; nothing written: {self.hint}")


@dataclass(frozen=True, slots=True)
class InventoryText:
    text: str
    version: str  # sha256 of the file's bytes: what `expect` compares


@dataclass(frozen=True, slots=True)
class Proposal:
    file: str
    version: str  # the file the edits were made from
    text: str  # the whole new file
    diff: str  # unified diff, old -> new
    edits: tuple[str, ...]  # each edit's summary

    @property
    def changed(self) -> bool:
        return bool(self.diff)

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "version": self.version, "diff": self.diff, "edits": self.edits}


def version_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class InventoryWriter:
    def __init__(self, path: Path, audit: AuditLog | None = None) -> None:
        self.path = Path(path)
        self._audit = audit

    def read(self) -> InventoryText:
        """The file as it is now, with the ``version`` to pass back as ``expect``."""
        data = self._read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise self._refused("", f"not UTF-8 text (bad byte at offset {e.start})") from None
        return InventoryText(text, version_of(data))

    def propose(self, edits: Sequence[Edit], *, expect: str | None = None) -> Proposal:
        """The file as the edits would leave it, validated; nothing is written."""
        current = self.read()
        if expect is not None and expect != current.version:
            raise ChangedOnDisk(self.path)
        try:
            doc, layout = load(current.text)
        except DocumentError as e:
            raise self._refused("", f"{e}; fix the file by hand first", e.line) from None
        kept, empty = "", doc is None
        if doc is None:  # empty, or only comments: ruamel would drop them
            doc = CommentedMap()
            kept = current.text
            if kept and not kept.endswith("\n"):
                kept += layout.newline
        if not isinstance(doc, CommentedMap):
            raise self._refused("", "the top level is not a mapping; fix the file by hand first")
        pristine = load(current.text)[0]
        for edit in edits:
            try:
                edit.apply(doc)
            except EditRefused as e:
                raise EditRefused([self._here(p) for p in e.problems]) from None
        if empty:
            text = kept + dump(doc, layout) if doc else current.text
        else:
            text = self._kept(current.text, pristine, doc)
        try:
            parse_inventory(text, str(self.path), self.path.absolute().parent)
        except InventoryError as e:
            raise EditRefused(e.problems) from None
        diff = "".join(
            difflib.unified_diff(
                lines(current.text),
                lines(text),
                fromfile=f"{self.path} (now)",
                tofile=f"{self.path} (edited)",
            )
        )
        return Proposal(
            str(self.path), current.version, text, diff, tuple(e.summary() for e in edits)
        )

    def write(
        self,
        edits: Sequence[Edit],
        *,
        actor: str,
        via: str,
        expect: str | None = None,
        action: str = ACTION,
        target: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> Proposal:
        """Apply, validate, replace the file and audit; the proposal that was written.

        ``action``, ``target`` and ``detail`` shape the audit entry (adopt writes
        ``inventory.adopt`` with the address); ``detail`` must hold no secrets.
        """
        proposal = self.propose(edits, expect=expect)
        if not proposal.changed:
            return proposal
        self._replace(proposal.text, proposal.version)
        if self._audit is not None:
            entry = {**(detail or {}), "file": str(self.path), "edits": list(proposal.edits)}
            self._audit.record(actor, via, action, target or str(self.path), entry, "written")
        return proposal

    # --- the file ---------------------------------------------------------------------

    def _read_bytes(self) -> bytes:
        try:
            return self.path.read_bytes()
        except OSError as e:
            raise self._refused("", f"cannot read: {e.strerror}") from None

    def _replace(self, text: str, version: str) -> None:
        target = self.path.resolve()  # a symlinked inventory stays a symlink
        st = os.stat(target)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(text.encode("utf-8"))
                f.flush()
                os.fchmod(f.fileno(), st.st_mode & 0o7777)
                with contextlib.suppress(PermissionError):
                    os.fchown(f.fileno(), st.st_uid, st.st_gid)
                os.fsync(f.fileno())
            with _locked(target.parent) as folder:
                if version_of(target.read_bytes()) != version:
                    raise ChangedOnDisk(self.path)
                os.replace(tmp, target)
                os.fsync(folder)
        finally:
            tmp.unlink(missing_ok=True)

    def _kept(self, original: str, pristine: Any, doc: Any) -> str:
        """The edited document, with the owner's untouched lines back in place.

        Each way the file indents is tried for the new lines (a hand-written file may indent
        each section differently); the result that changes fewest lines and means the same
        as ruamel's own rewrite wins. If none does, ruamel's rewrite is used (the diff
        shows it).
        """
        best: tuple[int, str] | None = None
        fallback = ""
        for layout in layouts(original):
            after = dump(doc, layout)
            fallback = fallback or after
            merged = keep_untouched(original, dump(pristine, layout), after)
            try:
                same = merged == after or yaml.safe_load(merged) == yaml.safe_load(after)
            except yaml.YAMLError:
                same = False
            if same:
                removed, added = _changed(original, merged)
                if best is None or removed + added < best[0]:
                    best = (removed + added, merged)
                if removed == 0:
                    break
        return best[1] if best is not None else fallback

    def _refused(self, field: str, message: str, line: int | None = None) -> EditRefused:
        return EditRefused([Problem(str(self.path), line, field, message)])

    def _here(self, problem: Problem) -> Problem:
        return Problem(str(self.path), problem.line, problem.field, problem.message)


def _changed(old: str, new: str) -> tuple[int, int]:
    """(removed, added) line counts."""
    removed = added = 0
    matcher = difflib.SequenceMatcher(None, lines(old), lines(new), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed, added = removed + i2 - i1, added + j2 - j1
    return removed, added


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[int]:
    """An exclusive lock on the folder: two MIRROR STAGE writers never rename at once."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # closing releases the lock
