"""The inventory: golden messages for broken files, merging, and password references."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mirror.errors import ConfigError
from mirror.inventory import (
    Inventory,
    InventoryError,
    Problem,
    check_file,
    load_inventory,
    resolve_password,
)

FIXTURES = Path(__file__).parent / "fixtures" / "inventory"
REPO = Path(__file__).parent.parent
BAD = sorted(FIXTURES.glob("*.bad.yaml"))


@pytest.mark.parametrize("bad", BAD, ids=[p.name.removesuffix(".bad.yaml") for p in BAD])
def test_bad_inventory_gives_exact_messages(bad: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = bad.with_name(bad.name.removesuffix(".bad.yaml") + ".expected")
    assert expected.exists(), f"{bad.name} has no {expected.name}"
    monkeypatch.chdir(FIXTURES)  # messages show the file as given: the bare name
    got = [str(p) for p in check_file(Path(bad.name))]
    assert got == expected.read_text(encoding="utf-8").splitlines()


def test_every_expected_file_has_its_bad_file() -> None:
    assert len(BAD) >= 12
    for expected in FIXTURES.glob("*.expected"):
        assert expected.with_suffix(".bad.yaml").exists(), expected.name


def test_shipped_inventory_is_valid() -> None:
    assert check_file(REPO / "inventory.yaml") == []
    inventory = load_inventory(REPO / "inventory.yaml")
    [ego] = [h for h in inventory.hosts_resolved() if h.local]
    assert (ego.address, ego.ssh) == ("10.0.0.100", None)


def test_missing_file() -> None:
    assert [str(p) for p in check_file(Path("no/such/inventory.yaml"))] == [
        "no/such/inventory.yaml: cannot read: No such file or directory"
    ]


def test_problem_format_and_error_type() -> None:
    problem = Problem("inventory.yaml", 14, "hosts[2].ssh.port", "must be 1-65535, got 70000")
    assert str(problem) == "inventory.yaml:14 hosts[2].ssh.port: must be 1-65535, got 70000"
    assert str(Problem("x.yaml", None, "", "file is empty")) == "x.yaml: file is empty"
    with pytest.raises(ConfigError) as caught:
        Inventory.from_dict({"hosts": [{"name": "a", "address": "127.0.0.1", "ssh": {"port": 0}}]})
    assert isinstance(caught.value, InventoryError)
    assert [str(p) for p in caught.value.problems] == [
        "<demo> hosts[0].ssh.port: must be 1-65535, got 0"
    ]


def test_from_dict_with_poll_defaults() -> None:
    inventory = Inventory.from_dict({"poll": {"interval_s": 2}, "subnets": []}, source="<t>")
    assert (inventory.poll.interval_s, inventory.poll.timeout_s) == (2, 2)
    assert inventory.poll.slow_every_s == 30
    assert inventory.source == "<t>"
    assert Inventory.from_dict({}).poll.timeout_s == 4


LAYERED = {
    "defaults": {"ssh": {"user": "mirror", "key_file": "~/.ssh/id_ed25519"}},
    "groups": {
        "servers": {"ssh": {"user": "admin", "port": 2200, "password_env": "SERVERS_PW"}},
        "lab": {"ssh": {"port": 2201, "agent": True}},
    },
    "hosts": [
        {"name": "nas", "address": "127.77.0.20", "groups": ["servers", "lab"]},
        {"name": "ws", "address": "127.77.0.21", "groups": ["lab", "servers"]},
        {
            "name": "pi",
            "address": "127.77.0.22",
            "groups": ["servers"],
            "mac": "AA-BB-CC-DD-EE-FF",
            "ssh": {"password_file": "pi.pw", "trust_on_first_use": True},
        },
        {"name": "cfg", "address": "127.77.0.23", "ssh": {"config_host": "cfg"}},
        {"name": "ego", "address": "127.0.0.1", "local": True},
    ],
}


def test_ssh_settings_merge_defaults_then_groups_in_order_then_host(tmp_path: Path) -> None:
    inventory = Inventory.from_dict(LAYERED, base_dir=tmp_path)
    nas, ws, pi, cfg, ego = inventory.hosts_resolved()
    assert nas.ssh is not None and ws.ssh is not None and pi.ssh is not None
    assert (nas.ssh.user, nas.ssh.port, nas.ssh.agent) == ("admin", 2201, True)
    assert (ws.ssh.user, ws.ssh.port) == ("admin", 2200)
    assert nas.ssh.key_file == Path.home() / ".ssh" / "id_ed25519"
    assert (nas.ssh.password_env, nas.ssh.password_file) == ("SERVERS_PW", None)
    # The host's password_file replaces the group's password_env (one source per host).
    assert (pi.ssh.password_env, pi.ssh.password_file) == (None, tmp_path / "pi.pw")
    assert (pi.ssh.trust_on_first_use, nas.ssh.trust_on_first_use) == (True, False)
    assert pi.mac == "aa:bb:cc:dd:ee:ff"
    assert nas.ssh.connect_timeout_s == 5
    # With config_host, an unset port is left to ~/.ssh/config.
    assert cfg.ssh is not None and (cfg.ssh.config_host, cfg.ssh.port) == ("cfg", None)
    assert (ego.local, ego.ssh) == (True, None)
    assert nas.groups == ("servers", "lab")
    with pytest.raises(dataclasses.FrozenInstanceError):
        nas.name = "other"  # type: ignore[misc]


def test_relative_paths_are_relative_to_the_inventory_file(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(
        "hosts:\n  - {name: a, address: 127.77.0.1, ssh: {key_file: keys/a, password_file: a.pw}}\n"
    )
    [host] = load_inventory(path).hosts_resolved()
    assert host.ssh is not None and (host.ssh.port, host.ssh.user) == (22, None)
    assert (host.ssh.key_file, host.ssh.password_file) == (
        tmp_path.absolute() / "keys/a",
        tmp_path.absolute() / "a.pw",
    )


SECRET = "correct-horse-battery-staple"


def _host_with(ssh: dict[str, object], base_dir: Path | None = None) -> Inventory:
    host = {"name": "pi", "address": "127.77.0.22", "ssh": ssh}
    return Inventory.from_dict({"hosts": [host]}, base_dir=base_dir)


def test_resolve_password_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    inventory = _host_with({"password_env": "MIRROR_TEST_PW"})
    [host] = inventory.hosts_resolved()
    assert host.ssh is not None
    monkeypatch.setenv("MIRROR_TEST_PW", SECRET)
    assert resolve_password(host.ssh) == SECRET
    assert resolve_password(host.ssh, env={"MIRROR_TEST_PW": "x"}) == "x"
    for text in (repr(inventory), str(inventory), repr(host), str(inventory.model_dump())):
        assert SECRET not in text
    monkeypatch.delenv("MIRROR_TEST_PW")
    with pytest.raises(ConfigError, match="environment variable MIRROR_TEST_PW is not set"):
        resolve_password(host.ssh)


def test_resolve_password_from_file(tmp_path: Path) -> None:
    (tmp_path / "pi.pw").write_text(SECRET + "\n")
    inventory = _host_with({"password_file": "pi.pw"}, base_dir=tmp_path)
    [host] = inventory.hosts_resolved()
    assert host.ssh is not None
    assert resolve_password(host.ssh) == SECRET
    for text in (repr(inventory), repr(host), inventory.model_dump_json()):
        assert SECRET not in text
    (tmp_path / "pi.pw").unlink()
    with pytest.raises(ConfigError, match=r"pi\.pw: cannot read: No such file or directory"):
        resolve_password(host.ssh)


def test_no_password_source_gives_none() -> None:
    [host] = _host_with({"key_file": "/k"}).hosts_resolved()
    assert host.ssh is not None and resolve_password(host.ssh) is None


def test_password_literal_is_refused_without_echoing_it() -> None:
    with pytest.raises(InventoryError) as caught:
        _host_with({"password": SECRET})
    assert "use password_env or password_file" in str(caught.value)
    assert SECRET not in str(caught.value)
    # Chained pydantic errors would carry the input; none is attached.
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_known_addresses_cover_hosts_and_snmp_gear() -> None:
    inventory = Inventory.from_dict(
        {
            "hosts": [{"name": "nas", "address": "127.77.0.20"}],
            "snmp": [{"name": "core-switch", "address": "127.77.0.2", "community_env": "C"}],
        }
    )
    assert inventory.known_addresses() == {"127.77.0.20": "nas", "127.77.0.2": "core-switch"}
