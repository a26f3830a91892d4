"""The hosts & gear page's API against a running EGO (simulated lab, a real OpenSSH server):
add, change and remove hosts, SNMP devices, groups and subnets through the inventory writer
(comments kept, reloaded by diff, audited); a broken value refused with the field it is about;
the file edited underneath a form (409, the other edit kept); "test connection" and "trust new
host key" against real sshd; viewers and operators refused."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from api.auth import SESSION_COOKIE
from mirror.audit import AuditLog
from mirror.auth import AuthService
from mirror.inventory import load_inventory
from mirror.inventory.edits import EditRefused
from mirror.inventory.forms import changes, cleaned, edits_for, entries, form_field, where
from mirror.inventory.problems import Problem
from mirror.inventory.writer import InventoryWriter
from tests.support.sshd import Sshd, keygen
from tests.test_inventory_reload import HEADER, PASSWORD, Lab, eventually, lab, up

__all__ = ["lab"]  # the fixture, imported


async def read(lab: Lab) -> dict[str, Any]:
    async with lab.client() as client:
        response = await client.get("/api/admin/inventory")
    assert response.status_code == 200, response.text
    return response.json()


def fingerprint(public_key: Path) -> str:
    out = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", str(public_key)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.split()[1]


COMMENTED = """\
# the owner's lab
groups:
  servers: {ssh: {user: ops}}  # admins log in as ops
hosts:
  - name: a        # the NAS
    address: 127.78.9.1
    ssh:
      agent: false # keys only
      user: root
  - {name: b, address: 127.78.9.2}
"""


def test_a_form_writes_only_what_changed_and_keeps_comments(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(COMMENTED)
    old = entries(COMMENTED)["hosts"][0]
    new = {**old, "ssh": {"agent": False, "port": 2222}, "tags": ["nas"], "mac": ""}
    assert changes(old, cleaned(new)) == ({"ssh.port": 2222, "tags": ["nas"]}, ["ssh.user"])
    edits = edits_for("hosts", "a", new, old)
    InventoryWriter(path).write(edits, actor="t", via="test")
    text = path.read_text()
    for kept in ("# the owner's lab", "# the NAS", "# keys only", "# admins log in as ops"):
        assert kept in text
    assert "root" not in text and "port: 2222" in text
    assert text.endswith("  - {name: b, address: 127.78.9.2}\n")
    group = entries(text)["groups"][0]
    assert edits_for("groups", "servers", {**group, "ssh": {"user": "ops"}}, group) == []
    renamed = {**group, "name": "boxes"}
    with pytest.raises(EditRefused):
        edits_for("groups", "servers", renamed, group)
    problem = Problem("f", 3, "hosts[0].ssh.port", "m")
    assert form_field(problem, where("hosts", 0, "a")) == "ssh.port"
    assert form_field(problem, where("hosts", 1, "b")) is None
    assert (
        form_field(Problem("f", 3, "groups.x.ssh.user", "m"), where("groups", 0, "x")) == "ssh.user"
    )


async def test_add_change_remove_a_host_keeps_comments_reloads_and_audits(lab: Lab) -> None:
    newcomer = lab.hosts[2]
    seen = await read(lab)
    assert [h["name"] for h in seen["hosts"]] == [h.name for h in lab.hosts[:2]]
    entry = {"name": "newcomer", "address": newcomer.address, "tags": ["rack-2"], "groups": []}
    async with lab.client() as client:
        added = await client.post(
            "/api/admin/inventory/hosts", json={"version": seen["version"], "entry": entry}
        )
        assert added.status_code == 201, added.text
        body = added.json()
        assert body["reload"]["added"] == ["newcomer"] and body["edits"] == ["add host newcomer"]
        assert lab.path.read_text().startswith(HEADER)
        await eventually(lambda: up(lab, "newcomer"))

        # A change writes only what changed; the version answered is the file's new one.
        changed = {**entry, "tags": ["rack-3"], "mac": "52:54:00:12:34:56"}
        response = await client.put(
            "/api/admin/inventory/hosts/newcomer",
            json={"version": body["version"], "entry": changed},
        )
        assert response.status_code == 200, response.text
        assert response.json()["edits"] == ["update host newcomer: tags, mac"]
        host = load_inventory(lab.path).hosts[-1]
        assert host.tags == ["rack-3"] and host.mac == "52:54:00:12:34:56"
        assert (await read(lab))["version"] == response.json()["version"]

        removed = await client.delete(
            "/api/admin/inventory/hosts/newcomer", params={"version": response.json()["version"]}
        )
        assert removed.status_code == 200, removed.text
        assert removed.json()["reload"]["removed"] == ["newcomer"]
    assert [h.name for h in load_inventory(lab.path).hosts] == [h.name for h in lab.hosts[:2]]
    assert lab.path.read_text().startswith(HEADER)
    entries = await asyncio.to_thread(
        AuditLog(lab.running.ego.store.engine).entries, action="inventory.form"
    )
    assert [e.target for e in entries][:3] == ["hosts/newcomer"] * 3
    assert {e.actor for e in entries} == {"admin"}


async def test_a_broken_value_is_refused_next_to_its_field(lab: Lab) -> None:
    before = lab.path.read_text()
    seen = await read(lab)
    name = lab.hosts[0].name
    entry = next(h for h in seen["hosts"] if h["name"] == name)
    async with lab.client() as client:
        response = await client.put(
            f"/api/admin/inventory/hosts/{name}",
            json={"version": seen["version"], "entry": {**entry, "ssh": {"port": 70000}}},
        )
        assert response.status_code == 422, response.text
        problems = response.json()["detail"]["problems"]
        assert [p["form_field"] for p in problems] == ["ssh.port"]
        assert problems[0]["text"].startswith(f"{lab.path}:")  # file:line field: message
        assert "65535" in problems[0]["message"]
        bad = await client.post(
            "/api/admin/inventory/hosts",
            json={"version": seen["version"], "entry": {"name": "x y", "address": "300.1.1.1"}},
        )
        assert bad.status_code == 422, bad.text
        fields = {p["form_field"] for p in bad.json()["detail"]["problems"]}
        assert fields == {"name", "address"}, bad.text
    assert lab.path.read_text() == before


async def test_an_edit_made_in_the_file_meanwhile_is_not_overwritten(lab: Lab) -> None:
    seen = await read(lab)
    by_hand = lab.path.read_text() + "# added by hand while the page was open\n"
    lab.path.write_text(by_hand)
    entry = {"name": "late", "address": lab.hosts[3].address}
    async with lab.client() as client:
        response = await client.post(
            "/api/admin/inventory/hosts", json={"version": seen["version"], "entry": entry}
        )
    assert response.status_code == 409, response.text
    assert "changed by someone else" in response.json()["error"]
    assert lab.path.read_text() == by_hand


async def test_groups_subnets_and_snmp_gear(lab: Lab) -> None:
    seen = await read(lab)
    async with lab.client() as client:

        async def save(method: str, path: str, entry: dict[str, Any]) -> dict[str, Any]:
            nonlocal seen
            response = await client.request(
                method, path, json={"version": seen["version"], "entry": entry}
            )
            assert response.status_code in (200, 201), response.text
            seen = await read(lab)
            return response.json()

        await save("POST", "/api/admin/inventory/groups", {"name": "racks", "ssh": {"user": "ops"}})
        await save(
            "PUT", "/api/admin/inventory/groups/racks", {"name": "racks", "ssh": {"port": 2222}}
        )
        await save("POST", "/api/admin/inventory/subnets", {"name": "lab", "cidr": "127.78.6.0/24"})
        gear = {
            "name": "sw1",
            "address": "127.78.6.200",
            "version": "2c",
            "community_env": "X_COMM",
        }
        await save("POST", "/api/admin/inventory/snmp", gear)
        community = {**gear, "community": "public"}  # a secret in the file: refused, named
        response = await client.put(
            "/api/admin/inventory/snmp/sw1", json={"version": seen["version"], "entry": community}
        )
        assert response.status_code == 422, response.text
        problem = response.json()["detail"]["problems"][0]
        assert problem["form_field"] == "community" and "community_env" in problem["message"]
        assert "public" not in response.text
    data = yaml.safe_load(lab.path.read_text())
    assert data["groups"]["racks"] == {"ssh": {"port": 2222}}
    assert data["subnets"] == [{"name": "lab", "cidr": "127.78.6.0/24"}]
    assert data["snmp"][0]["community_env"] == "X_COMM"
    assert [g["name"] for g in seen["groups"]] == ["racks"]


async def test_test_connection_and_trust_a_new_host_key_on_real_sshd(
    lab: Lab, sshd: Sshd, tmp_path: Path
) -> None:
    entry = {"name": "real", "address": sshd.ok_address, "ssh": sshd.ssh_settings()}
    offered = fingerprint(sshd.host_key.with_suffix(".pub"))
    async with lab.client() as client:
        tried = await client.post("/api/admin/inventory/test", json={"entry": entry})
        assert tried.status_code == 200, tried.text
        found = tried.json()
        assert found["ok"] is True and found["os"].startswith("Linux "), found
        assert found["fingerprint"] == offered and found["key"] == "new"
        assert "real" not in lab.path.read_text()  # a test saves nothing

        wrong = {**entry, "ssh": sshd.ssh_settings(port=1)}
        failed = (await client.post("/api/admin/inventory/test", json={"entry": wrong})).json()
        assert failed["ok"] is False and failed["state"] == "unreachable", failed
        broken = {**entry, "ssh": sshd.ssh_settings(port="ssh")}
        refused = await client.post("/api/admin/inventory/test", json={"entry": broken})
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"]["problems"][0]["form_field"] == "ssh.port"

        # The host's recorded key is another one (a re-install): hostkey-changed.
        other = keygen(tmp_path / "old_host_key")
        old = fingerprint(other.with_suffix(".pub"))
        known_hosts = lab.path.parent / "data" / "known_hosts"  # the lab's data_dir
        known_hosts.parent.mkdir(parents=True, exist_ok=True)
        pub = other.with_suffix(".pub").read_text().split()
        known_hosts.write_text(f"[{sshd.ok_address}]:{sshd.port} {pub[0]} {pub[1]}\n")
        seen = await read(lab)
        no_tofu = {**entry, "ssh": sshd.ssh_settings(trust_on_first_use=False)}
        added = await client.post(
            "/api/admin/inventory/hosts", json={"version": seen["version"], "entry": no_tofu}
        )
        assert added.status_code == 201, added.text
        poller = await eventually(lambda: lab.running.ego.scheduler.poller("real"))
        await eventually(lambda: poller.state == "hostkey-changed")
        keys = (await client.get("/api/admin/hosts/real/hostkey")).json()
        assert keys["recorded"] == [old] and keys["offered"] == offered, keys
        moved = await client.post("/api/admin/hosts/real/hostkey", json={"fingerprint": old})
        assert moved.status_code == 409, moved.text
        trusted = await client.post("/api/admin/hosts/real/hostkey", json={"fingerprint": offered})
        assert trusted.status_code == 200, trusted.text
        assert trusted.json()["old"] == [old] and trusted.json()["new"] == offered
    assert pub[1] not in known_hosts.read_text()
    await eventually(lambda: up(lab, "real"))
    entries = await asyncio.to_thread(
        AuditLog(lab.running.ego.store.engine).entries, action="hostkey.trust"
    )
    assert [e.target for e in entries] == ["real"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/admin/inventory", None),
        ("POST", "/api/admin/inventory/hosts", {"version": "x", "entry": {"name": "x"}}),
        ("PUT", "/api/admin/inventory/hosts/x", {"version": "x", "entry": {"name": "x"}}),
        ("DELETE", "/api/admin/inventory/hosts/x?version=x", None),
        ("POST", "/api/admin/inventory/test", {"entry": {"name": "x"}}),
        ("GET", "/api/admin/hosts/x/hostkey", None),
        ("POST", "/api/admin/hosts/x/hostkey", {"fingerprint": "x"}),
        ("GET", "/api/admin/settings", None),
        ("POST", "/api/admin/users/admin/totp", None),
    ],
)
async def test_viewers_and_operators_are_refused(
    lab: Lab, method: str, path: str, body: Any
) -> None:
    before = lab.path.read_text()
    for who in ("viewer", "operator"):
        async with lab.client(who) as client:
            response = await client.request(method, path, json=body)
        assert response.status_code == 403, (who, path, response.text)
    assert lab.path.read_text() == before


async def test_own_sessions_are_listed_and_ended_and_a_totp_reset_logs_out(lab: Lab) -> None:
    auth = AuthService(lab.running.ego.store.engine)
    auth.add_user("dana", PASSWORD, "viewer")
    first, second = (
        auth.login_with_link(auth.create_login_link("dana"), "127.0.0.1", f"browser {i}")
        for i in (1, 2)
    )
    base = f"http://{lab.address}"

    def as_dana(login: Any) -> httpx.AsyncClient:
        headers = {"X-CSRF-Token": login.csrf}
        cookies = {SESSION_COOKIE: login.token}
        return httpx.AsyncClient(base_url=base, headers=headers, cookies=cookies, timeout=15)

    async with as_dana(first) as client:
        listed = (await client.get("/api/auth/sessions")).json()
        assert sorted(s["user_agent"] for s in listed) == ["browser 1", "browser 2"]
        assert [s["current"] for s in listed if s["user_agent"] == "browser 1"] == [True]
        other = next(s["id"] for s in listed if not s["current"])
        assert (await client.delete(f"/api/auth/sessions/{other}")).status_code == 200
        assert len((await client.get("/api/auth/sessions")).json()) == 1
    async with as_dana(second) as client:
        assert (await client.get("/api/auth/me")).status_code == 401
    async with lab.client("viewer") as client:  # another user cannot end dana's session
        mine = (await client.get("/api/auth/sessions")).json()
        assert mine == []
        response = await client.delete(f"/api/auth/sessions/{listed[0]['id']}")
        assert response.status_code == 404, response.text
    async with lab.client() as client:
        reset = await client.post("/api/admin/users/dana/totp")
        assert reset.status_code == 200, reset.text
        assert reset.json()["totp_qr"].startswith("<svg") and "secret=" in reset.json()["totp_uri"]
        created = await client.post(
            "/api/admin/users", json={"name": "erin", "password": PASSWORD, "role": "viewer"}
        )
        assert created.json()["totp_qr"].startswith("<svg"), created.text
    async with as_dana(first) as client:
        assert (await client.get("/api/auth/me")).status_code == 401  # logged out by the reset
    entries = await asyncio.to_thread(
        AuditLog(lab.running.ego.store.engine).entries, action="user.totp-reset"
    )
    assert [(e.actor, e.target) for e in entries] == [("admin", "dana")]
