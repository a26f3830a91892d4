"""Re-read ``inventory.yaml`` while EGO runs (Prometheus' ``/-/reload`` and SIGHUP).

A reload reads and validates the whole file first. A file with any problem changes nothing:
the running inventory stays, the problems (``file:line field: message``) go back to whoever
asked and to the log, once per distinct set, and the refusal is audited. A valid file is
compared with the running inventory (``mirror.inventory.diff``) and handed to ``apply``
(the runtime reconciles the poll loops by diff) before the API's view is swapped, so a host
the API lists is one the poller has a loop for.

Reloads are serialized: one lock covers reading, applying and any edit made first (an
adopt writes the file under it), so two admins cannot interleave.

The file watch compares the file's mtime, size and inode every ``every_s`` and reloads once
the file has stayed the same for one more check: an editor that truncates and then writes
could otherwise be caught with half a file that happens to be valid. A version already read
(an edit written by ``mirror.inventory.writer`` through ``edit_and_reload``) is not read
again by the watch.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mirror.inventory import Inventory, InventoryError, load_inventory
from mirror.inventory.current import CurrentInventory
from mirror.inventory.diff import InventoryChange, diff_inventories
from mirror.inventory.problems import Problem

if TYPE_CHECKING:
    from mirror.audit import AuditLog

log = logging.getLogger(__name__)

Apply = Callable[[Inventory, InventoryChange], Awaitable[None]]
# Problems that refuse an otherwise valid inventory (e.g. off_loopback in `mirror demo`).
Guard = Callable[[Inventory, str], list[Problem]]
FileSignature = tuple[int, int, int] | None
R = TypeVar("R")

ACTION = "inventory.reload"
MAX_AUDITED_PROBLEMS = 50


@dataclass(frozen=True, slots=True)
class ReloadResult:
    file: str
    change: InventoryChange

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, **self.change.as_dict(), "summary": self.change.summary()}


def file_signature(path: Path) -> FileSignature:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _restore(path: Path, content: bytes) -> None:
    """Put ``content`` back at ``path`` atomically (write beside it, then rename)."""
    tmp = path.with_name(f".{path.name}.restore")
    tmp.write_bytes(content)
    shutil.copymode(path, tmp)
    os.replace(tmp, path)


class InventoryReloader:
    def __init__(
        self,
        path: Path,
        current: CurrentInventory,
        apply: Apply,
        audit: AuditLog | None = None,
        guard: Guard | None = None,
    ) -> None:
        self.path = Path(path)
        self._guard = guard
        self.current = current
        self._apply = apply
        self._audit = audit
        self._lock = asyncio.Lock()
        self._seen = file_signature(self.path)  # the version of the file last read
        self._logged_problems: tuple[str, ...] = ()
        self._background: set[asyncio.Task[Any]] = set()

    async def reload(self, actor: str, via: str) -> ReloadResult:
        """Read, validate and apply the file; ``InventoryError`` (nothing changed) if invalid."""
        async with self._lock:
            return await self._reload(actor, via)

    async def edit_and_reload(
        self, edit: Callable[[Path], R], actor: str, via: str
    ) -> tuple[R, ReloadResult]:
        """Run ``edit(path)`` (in a worker thread: file I/O) and then reload, under one lock.
        A reload that refuses the edited file puts the file back as it was, so a refused
        edit (an adopt the demo's loopback guard refuses) does not break every later reload."""
        async with self._lock:
            before = await asyncio.to_thread(self.path.read_bytes)
            done = await asyncio.to_thread(edit, self.path)
            try:
                return done, await self._reload(actor, via)
            except BaseException:
                await asyncio.to_thread(_restore, self.path, before)
                self._seen = file_signature(self.path)
                raise

    def refusals(self, inventory: Inventory) -> list[Problem]:
        """What this EGO's guard refuses in ``inventory`` (``mirror demo``: off-loopback
        addresses); a page checks a host it is about to connect to, unsaved, with it."""
        return self._guard(inventory, str(self.path)) if self._guard else []

    def reload_soon(self, actor: str, via: str) -> None:
        """From a signal handler: reload in the background; the outcome is logged."""
        task = asyncio.get_running_loop().create_task(self._quiet(actor, via))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def watch(self, every_s: float) -> None:
        """Reload when the file changes (and then stays the same for one more check)."""
        pending: FileSignature = None
        while True:
            await asyncio.sleep(every_s)
            now = await asyncio.to_thread(file_signature, self.path)
            if now == self._seen:
                pending = None
            elif now != pending:
                pending = now  # changed: wait one quiet check before reading it
            else:
                pending = None
                await self._quiet("ego", "file-watch", only_if_changed=True)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    async def _quiet(self, actor: str, via: str, *, only_if_changed: bool = False) -> None:
        try:
            async with self._lock:
                # The watch saw a version an edit_and_reload may have read meanwhile (the
                # inventory writer's own write): that version is not reloaded twice.
                if only_if_changed and await asyncio.to_thread(file_signature, self.path) == (
                    self._seen
                ):
                    return
                await self._reload(actor, via)
        except InventoryError:
            pass  # logged and audited by the reload itself; the running inventory stays
        except Exception:  # the watch and signal reloads must outlive any bug
            log.exception("inventory reload (%s) failed; the running inventory stays", via)

    async def _reload(self, actor: str, via: str) -> ReloadResult:
        self._seen = await asyncio.to_thread(file_signature, self.path)
        try:
            new = await asyncio.to_thread(load_inventory, self.path)
            refused = self._guard(new, str(self.path)) if self._guard else []
            if refused:
                raise InventoryError(refused)
        except InventoryError as exc:
            await self._refused(exc, actor, via)
            raise
        self._logged_problems = ()
        change = diff_inventories(self.current.get(), new)
        if not change.empty:
            await self._apply(new, change)
        self.current.replace(new)  # comments or order alone: nothing to apply, still the file
        summary = change.summary()
        log.info("inventory reloaded from %s by %s (%s): %s", self.path, actor, via, summary)
        await self._record(actor, via, change.as_dict(), "no change" if change.empty else "applied")
        return ReloadResult(str(self.path), change)

    async def _refused(self, exc: InventoryError, actor: str, via: str) -> None:
        problems = tuple(str(p) for p in exc.problems)
        if problems != self._logged_problems:  # once per distinct set, not per retry
            self._logged_problems = problems
            log.error(
                "inventory reload refused, the running inventory stays: %d problem(s) in %s\n%s",
                len(problems),
                self.path,
                "\n".join(problems),
            )
        detail = {"problems": list(problems[:MAX_AUDITED_PROBLEMS]), "count": len(problems)}
        await self._record(actor, via, detail, "refused")

    async def _record(self, actor: str, via: str, detail: dict[str, Any], result: str) -> None:
        if self._audit is None:
            return
        try:
            await asyncio.to_thread(
                self._audit.record, actor, via, ACTION, str(self.path), detail, result
            )
        except Exception:  # the reload happened (or was refused) either way; say so loudly
            log.exception("could not write the audit entry of an inventory reload")
