"""The inventory writer on real files: layout kept, whole result validated, atomic, audited.

Fixtures (tests/fixtures/inventory_writer/) carry comments, anchors and a merge key, flow
style, unicode, CRLF line endings, layout ruamel.yaml would rewrite, and a control character.
"""

from __future__ import annotations

import asyncio
import difflib
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mirror.audit import AuditLog
from mirror.inventory import InventoryError, load_inventory
from mirror.inventory.current import CurrentInventory
from mirror.inventory.edits import (
    AddGroup,
    AddHost,
    AddSnmpDevice,
    Edit,
    EditRefused,
    RemoveField,
    RemoveGroup,
    RemoveHost,
    RemoveSnmpDevice,
    SetField,
    UpdateGroup,
    UpdateHost,
)
from mirror.inventory.reload import InventoryReloader
from mirror.inventory.writer import ChangedOnDisk, InventoryWriter, Proposal
from mirror.storage import Store

FIXTURES = Path(__file__).parent / "fixtures" / "inventory_writer"
LAYOUTS = ["commented.yaml", "flow.yaml", "unicode.yaml", "crlf.yaml", "quirky.yaml", "bom.yaml"]


def copy(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "inventory.yaml"
    shutil.copyfile(FIXTURES / name, path)
    return path


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """(removed, added) lines, line endings included."""
    diff = list(difflib.ndiff(before.splitlines(keepends=True), after.splitlines(keepends=True)))
    return [d[2:] for d in diff if d[0] == "-"], [d[2:] for d in diff if d[0] == "+"]


@pytest.fixture
def audit(tmp_path: Path) -> Iterator[AuditLog]:
    store = Store.open(f"sqlite:///{tmp_path / 'audit.db'}")
    store.upgrade()
    yield AuditLog(store.engine)
    store.close()


# --- the owner's text stays -----------------------------------------------------------------


@pytest.mark.parametrize("name", LAYOUTS)
def test_no_edit_is_byte_identical(tmp_path: Path, name: str) -> None:
    path = copy(tmp_path, name)
    proposal = InventoryWriter(path).propose([])
    assert proposal.text.encode() == (FIXTURES / name).read_bytes()
    assert proposal.diff == "" and not proposal.changed


@pytest.mark.parametrize("name", LAYOUTS)
def test_adding_a_host_only_adds_lines(tmp_path: Path, name: str) -> None:
    path = copy(tmp_path, name)
    before = path.read_bytes()
    entry = {"name": "newcomer", "address": "127.79.0.99", "tags": ["added", "한글"]}
    InventoryWriter(path).write([AddHost(entry)], actor="t", via="test")
    after = path.read_bytes()
    removed, added = changed_lines(before.decode(), after.decode())
    assert removed == []
    assert any("newcomer" in line for line in added)
    newline = b"\r\n" if b"\r\n" in before else b"\n"
    assert after.count(b"\n") == after.count(newline)  # CRLF files stay CRLF throughout
    host = load_inventory(path).hosts[-1]
    assert (host.name, host.address, host.tags) == ("newcomer", "127.79.0.99", ["added", "한글"])


def test_flow_style_neighbours_make_a_flow_entry(tmp_path: Path) -> None:
    path = copy(tmp_path, "flow.yaml")
    InventoryWriter(path).write(
        [AddHost({"name": "gamma", "address": "127.79.0.3"})], actor="t", via="test"
    )
    assert path.read_text().endswith(
        "  - {name: beta, address: 127.79.0.2, tags: [x, y]}\n"
        "  - {name: gamma, address: 127.79.0.3}\n"
    )


def test_quirky_layout_keeps_every_untouched_line(tmp_path: Path) -> None:
    path = copy(tmp_path, "quirky.yaml")
    before = path.read_text()
    InventoryWriter(path).write([UpdateHost("beta", set={"tags": ["b"]})], actor="t", via="test")
    removed, added = changed_lines(before, path.read_text())
    assert removed == []  # ruamel would rewrite "\x31", the spacing and drop "---": not here
    assert [line.strip() for line in added] == ["tags: [b]"]
    assert load_inventory(path).hosts[0].address == "127.79.0.1"


def test_update_keeps_comments_quotes_and_anchors(tmp_path: Path) -> None:
    path = copy(tmp_path, "commented.yaml")
    before = path.read_text()
    edits: list[Edit] = [
        UpdateHost("beta", set={"ssh.port": 2200, "tags": ["new"]}),
        UpdateGroup("admins", set={"ssh.user": "admin"}),
        SetField(("poll", "interval_s"), 10),
    ]
    InventoryWriter(path).write(edits, actor="t", via="test")
    after = path.read_text()
    removed, added = changed_lines(before, after)
    assert [r.strip() for r in removed] == [
        "interval_s: 5      # fast metrics",
        "user: 'root'     # single-quoted on purpose",
        "port: 2222        # a custom port",
    ]
    assert [a.strip() for a in added] == [
        "interval_s: 10     # fast metrics",
        "user: 'admin'    # single-quoted on purpose",
        "port: 2200        # a custom port",
        "tags: [new]",
    ]
    assert "&base_ssh" in after and "<<: *base_ssh" in after
    inventory = load_inventory(path)
    admins = inventory.groups["admins"].ssh
    assert admins is not None and (admins.user, admins.port) == ("admin", 22)  # merged


def test_remove_the_last_host_keeps_the_comments_after_it(tmp_path: Path) -> None:
    path = copy(tmp_path, "commented.yaml")
    before = path.read_text()
    InventoryWriter(path).write([RemoveHost("beta")], actor="t", via="test")
    after = path.read_text()
    removed, _ = changed_lines(before, after)
    assert sorted(r.strip() for r in removed) == [
        "",  # the blank line before beta
        "- name: beta          # end-of-line comment on a name",
        "address: 127.79.0.2",
        "port: 2222        # a custom port",
        "ssh:",
    ]
    for comment in ("# - name: gamma", "# the end of the file", "# the first host"):
        assert comment in after
    assert [h.name for h in load_inventory(path).hosts] == ["alpha"]


def test_groups_snmp_and_new_sections(tmp_path: Path) -> None:
    path = copy(tmp_path, "commented.yaml")
    writer = InventoryWriter(path)
    device = {"name": "switch", "address": "127.79.0.10", "community_env": "SNMP_COMMUNITY"}
    writer.write(
        [AddGroup("racks", {"ssh": {"user": "ops"}}), AddSnmpDevice(device)], actor="t", via="t"
    )
    inventory = load_inventory(path)
    assert inventory.groups["racks"].ssh is not None and [s.name for s in inventory.snmp] == [
        "switch"
    ]
    assert path.read_text().rstrip().endswith("community_env: SNMP_COMMUNITY")  # a new section
    assert "# the end of the file" in path.read_text()
    writer.write(
        [RemoveSnmpDevice("switch"), RemoveGroup("racks"), RemoveField(("snmp",))],
        actor="t",
        via="t",
    )
    assert path.read_text() == (FIXTURES / "commented.yaml").read_text()


# --- refused edits leave the file as it was ---------------------------------------------------


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        ([AddHost({"name": "alpha", "address": "127.79.0.5"})], "hosts[2].name: duplicate name"),
        ([UpdateHost("beta", set={"ssh.port": 70000})], "hosts[1].ssh.port: must be 1-65535"),
        ([RemoveGroup("admins")], "hosts[0].groups[0]"),  # still used by alpha
        ([SetField(("surprise", "rules"), [])], "surprise: unknown field"),
        ([UpdateHost("nobody", set={"tags": []})], "hosts: no host named 'nobody'"),
        ([UpdateHost("alpha", set={"tags": ["ok", "bad\x1b[31m"]})], "hosts[0].tags[1]: control"),
        ([AddHost({"name": "x\u202e", "address": "127.79.0.9"})], "hosts[2].name: control"),
        ([RemoveField(("poll", "nothing"))], "poll.nothing: is not in the inventory"),
        ([UpdateHost("alpha", unset=["mac"])], "hosts[0].mac: host 'alpha' has no such field"),
    ],
)
def test_refused_edit_writes_nothing(tmp_path: Path, edits: list[Edit], message: str) -> None:
    path = copy(tmp_path, "commented.yaml")
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    with pytest.raises(EditRefused) as info:
        InventoryWriter(path).write(edits, actor="t", via="test")
    assert message in str(info.value) and str(path) in str(info.value)
    assert "\x1b" not in str(info.value)  # a refused value is named, never echoed raw
    assert path.read_bytes() == (FIXTURES / "commented.yaml").read_bytes()
    assert path.stat().st_mtime_ns == 1_000_000_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inventory.yaml"]  # no temp file


def test_a_control_character_in_the_file_is_refused_with_its_line(tmp_path: Path) -> None:
    path = copy(tmp_path, "control.yaml")
    with pytest.raises(EditRefused) as info:
        InventoryWriter(path).propose([UpdateHost("alpha", set={"tags": []})])
    assert str(info.value) == (
        f"{path}:5: YAML: control character U+0007 is not allowed; fix the file by hand first"
    )
    with pytest.raises(InventoryError, match=r":5: YAML: control character U\+0007"):
        load_inventory(path)  # mirror check says the same, without a traceback


# --- the file on disk -------------------------------------------------------------------------


def test_changed_on_disk_since_read_is_refused(tmp_path: Path) -> None:
    path = copy(tmp_path, "commented.yaml")
    writer = InventoryWriter(path)
    seen = writer.read().version  # e.g. a page shows the file
    edited = path.read_text().replace("interval_s: 5 ", "interval_s: 6 ")
    path.write_text(edited)  # an editor saves meanwhile
    with pytest.raises(ChangedOnDisk) as info:
        writer.write([RemoveHost("beta")], actor="t", via="test", expect=seen)
    assert "changed on disk" in str(info.value) and info.value.hint
    assert path.read_text() == edited


class RacedWriter(InventoryWriter):
    """An editor saves between the writer's read and its rename (the narrowest window)."""

    def propose(self, edits: Any, *, expect: str | None = None) -> Proposal:
        proposal = super().propose(edits, expect=expect)
        self.path.write_text(self.path.read_text() + "# saved by an editor\n")
        return proposal


def test_concurrent_change_during_the_write_is_refused(tmp_path: Path) -> None:
    path = copy(tmp_path, "commented.yaml")
    with pytest.raises(ChangedOnDisk):
        RacedWriter(path).write([RemoveHost("beta")], actor="t", via="test")
    assert path.read_text().endswith("# saved by an editor\n") and "beta" in path.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inventory.yaml"]


def test_mode_and_symlink_are_kept(tmp_path: Path) -> None:
    real = copy(tmp_path, "commented.yaml")
    real.chmod(0o640)
    link = tmp_path / "link.yaml"
    link.symlink_to(real.name)
    InventoryWriter(link).write([RemoveHost("beta")], actor="t", via="test")
    assert link.is_symlink() and stat.S_IMODE(real.stat().st_mode) == 0o640
    assert [h.name for h in load_inventory(link).hosts] == ["alpha"]


def test_dry_run_writes_nothing_and_shows_a_diff(tmp_path: Path) -> None:
    path = copy(tmp_path, "commented.yaml")
    proposal = InventoryWriter(path).propose([UpdateHost("alpha", set={"address": "127.79.0.7"})])
    assert "-    address: 127.79.0.1\n+    address: 127.79.0.7\n" in proposal.diff
    assert proposal.edits == ("update host alpha: address",)
    assert path.read_bytes() == (FIXTURES / "commented.yaml").read_bytes()


def test_each_write_is_audited_without_values(tmp_path: Path, audit: AuditLog) -> None:
    path = copy(tmp_path, "commented.yaml")
    writer = InventoryWriter(path, audit)
    edit = UpdateHost("beta", set={"ssh.password_env": "BETA_PASSWORD_VARIABLE"})
    writer.write([edit], actor="alice", via="session")
    writer.write([edit], actor="alice", via="session")  # no change: nothing written, no entry
    [entry] = audit.entries(action="inventory.")
    assert (entry.actor, entry.via, entry.action, entry.result) == (
        "alice",
        "session",
        "inventory.edit",
        "written",
    )
    assert entry.detail == {"file": str(path), "edits": ["update host beta: ssh.password_env"]}
    assert "BETA_PASSWORD_VARIABLE" not in str(entry.detail)
    with pytest.raises(EditRefused):
        writer.write([RemoveGroup("admins")], actor="alice", via="session")
    assert len(audit.entries(action="inventory.")) == 1  # a refused edit wrote nothing


# --- with the running EGO's reloader ---------------------------------------------------------


async def test_a_write_is_reloaded_once(tmp_path: Path, audit: AuditLog) -> None:
    path = copy(tmp_path, "commented.yaml")
    applied: list[Any] = []

    async def apply(_: Any, change: Any) -> None:
        applied.append(change)

    reloader = InventoryReloader(path, CurrentInventory(load_inventory(path)), apply, audit)
    writer = InventoryWriter(path, audit)
    watch = asyncio.create_task(reloader.watch(0.01))

    def edit(p: Path) -> Proposal:
        done = writer.write([RemoveHost("beta")], actor="bob", via="session")
        # Hold the reloader's lock while the watch sees the new file twice (it would reload).
        seen = os.stat(p).st_mtime_ns
        for _ in range(3):
            asyncio.run_coroutine_threadsafe(asyncio.sleep(0.05), loop).result()
        assert os.stat(p).st_mtime_ns == seen
        return done

    loop = asyncio.get_running_loop()
    try:
        _, result = await reloader.edit_and_reload(edit, "bob", "session")
        await asyncio.sleep(0.2)  # many watch periods after the write
    finally:
        watch.cancel()
    assert list(result.change.removed) == ["beta"]
    assert len(applied) == 1
    reloads = audit.entries(action="inventory.reload")
    assert [(e.actor, e.result) for e in reloads] == [("bob", "applied")]


# --- what the API answers --------------------------------------------------------------------


def test_the_api_answers_409_and_422(tmp_path: Path) -> None:
    from litestar import Litestar, post
    from litestar.params import FromPath, JSONBody
    from litestar.testing import TestClient

    from api.errors import EXCEPTION_HANDLERS

    path = copy(tmp_path, "commented.yaml")
    writer = InventoryWriter(path)

    @post("/edit/{version:str}")
    async def edit(version: FromPath[str], data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        change = UpdateHost("alpha", set={"ssh.port": data["port"]})
        done = writer.write([change], actor="t", via="test", expect=version)
        return done.as_dict()

    app = Litestar([edit], exception_handlers=EXCEPTION_HANDLERS)  # type: ignore[arg-type]
    with TestClient(app) as client:
        seen = writer.read().version
        bad = client.post(f"/edit/{seen}", json={"port": 0})
        assert bad.status_code == 422, bad.text
        [problem] = bad.json()["detail"]["problems"]
        assert problem["field"] == "hosts[0].ssh.port" and problem["line"] == 32
        ok = client.post(f"/edit/{seen}", json={"port": 2201})
        assert ok.status_code == 201 and "+    ssh:" in ok.json()["diff"]
        stale = client.post(f"/edit/{seen}", json={"port": 2202})  # the page was not reloaded
        assert stale.status_code == 409, stale.text
        assert stale.json()["detail"]["hint"].startswith("read it again")
    assert load_inventory(path).hosts[0].ssh.port == 2201  # type: ignore[union-attr]


def test_new_strings_yaml_11_would_misread_are_quoted(tmp_path: Path) -> None:
    path = copy(tmp_path, "flow.yaml")
    entry = {"name": "gamma", "address": "127.79.0.3", "mac": "10:20:30:40:50:59", "tags": ["yes"]}
    InventoryWriter(path).write([AddHost(entry)], actor="t", via="test")
    assert '"10:20:30:40:50:59"' in path.read_text()  # bare, PyYAML reads a base-60 number
    host = load_inventory(path).hosts[-1]
    assert (host.mac, host.tags) == ("10:20:30:40:50:59", ["yes"])


def test_a_file_of_comments_only_keeps_them(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text("# nothing here yet\n# (but these lines stay)")
    writer = InventoryWriter(path)
    writer.write([AddHost({"name": "a", "address": "127.79.0.1"})], actor="t", via="test")
    assert path.read_text().startswith("# nothing here yet\n# (but these lines stay)\nhosts:\n")
    assert [h.name for h in load_inventory(path).hosts] == ["a"]


def test_unset_removes_a_mapping_it_empties(tmp_path: Path) -> None:
    path = copy(tmp_path, "commented.yaml")
    before = path.read_text()
    InventoryWriter(path).write([UpdateHost("beta", unset=["ssh.port"])], actor="t", via="t")
    removed, added = changed_lines(before, path.read_text())
    assert [r.strip() for r in removed] == ["ssh:", "port: 2222        # a custom port"]
    assert added == [] and load_inventory(path).hosts[1].ssh is None
