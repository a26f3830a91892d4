"""Host kinds (collectors/hostkind.py, collectors/kinds.py): Linux is the first; the kind
comes from the inventory's os: or from uname on first contact; an OS without a kind is a
clear per-host state; the poller names no OS of its own."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

import pytest

from collectors.hostkind import HostKind
from collectors.kinds import KINDS, os_from_uname
from collectors.linux.kind import KIND as LINUX
from mirror.errors import Unsupported
from mirror.inventory import OS_NAMES, Inventory
from mirror.inventory.diff import same_host_loop
from mirror.model import HostState, split_series
from poller.health import SLOW_RETRY_S
from poller.host import HostPoller
from poller.ssh import KnownHosts
from tests.support.sshd import Sshd, free_port
from tests.test_poll_ssh import host_config, poller_for

ROOT = Path(__file__).resolve().parents[1]


def test_linux_is_the_first_kind() -> None:
    assert next(iter(KINDS)) == "linux" and KINDS["linux"] is LINUX
    assert isinstance(LINUX, HostKind) and LINUX.uname == "Linux"
    assert set(KINDS) <= set(OS_NAMES), "each kind is an os: the inventory accepts"
    assert "@@B" in LINUX.program and LINUX.command().startswith("exec /bin/sh -c ")


@pytest.mark.parametrize(
    ("said", "os_name"),
    [
        ("Linux\n", "linux"),
        ("Darwin", "macos"),
        ("FreeBSD", "freebsd"),
        ("MINGW64_NT-10.0-19045", "windows"),
        ("CYGWIN_NT-10.0", "windows"),
        ("Haiku", None),
        ("", None),
    ],
)
def test_uname_names_the_os(said: str, os_name: str | None) -> None:
    assert os_from_uname(said) == os_name


def test_the_poller_names_no_os_of_its_own() -> None:
    for path in sorted((ROOT / "poller").glob("*.py")):
        text = path.read_text()
        assert "collectors.linux" not in text and "linux.sh" not in text, path.name


def test_os_on_hosts_and_groups() -> None:
    inventory = Inventory.from_dict(
        {
            "groups": {"macs": {"os": "macOS"}, "lab": {}},
            "hosts": [
                {"name": "a", "address": "127.0.0.5", "groups": ["lab", "macs"]},
                {"name": "b", "address": "127.0.0.6", "groups": ["macs"], "os": "Linux"},
                {"name": "c", "address": "127.0.0.7"},
            ],
        }
    )
    assert [h.os for h in inventory.hosts_resolved()] == ["macos", "linux", None]
    a, b, _ = inventory.hosts_resolved()
    assert not same_host_loop(a, dataclasses.replace(a, os="linux")), "new kind: new loop"
    assert same_host_loop(b, dataclasses.replace(b, tags=("x",)))


async def test_an_os_without_a_kind_is_a_state_not_a_crash(tmp_path: Path) -> None:
    port = free_port()  # nothing listens: a poll that connected would say "refused"
    inventory = Inventory.from_dict(
        {"hosts": [{"name": "win", "address": "127.0.0.1", "os": "windows", "ssh": {"port": port}}]}
    )
    poller = HostPoller(
        inventory.hosts_resolved()[0],
        KnownHosts(tmp_path / "kh"),
        interval_s=5,
        timeout_s=2,
        slow_every_s=30,
    )
    result = await poller.poll()
    assert result.status.state is HostState.ERROR and result.snapshot is None
    assert "no host kind for 'windows'" in (result.status.error or "")
    assert "KINDS.md" in (result.status.error or "")
    # Retried after minutes, not every poll: the OS will not change in 5 s.
    assert poller.health.next_due - time.monotonic() > SLOW_RETRY_S - 10
    assert result.change is not None and result.change.to == "error"


def test_a_known_os_without_a_kind_is_refused_by_name(tmp_path: Path) -> None:
    poller = poller_for(
        Inventory.from_dict(
            {"hosts": [{"name": "x", "address": "127.0.0.1", "local": True}]}
        ).hosts_resolved()[0],
        tmp_path / "kh",
    )
    with pytest.raises(Unsupported, match="windows hosts cannot be read yet"):
        poller._choose("Windows_NT")
    assert poller._choose("Linux") is LINUX and poller.kind is LINUX


async def test_first_contact_detects_linux_over_ssh(sshd: Sshd, tmp_path: Path) -> None:
    poller = poller_for(host_config(sshd), tmp_path / "kh")
    assert poller.kind is None
    try:
        result = await poller.poll()
    finally:
        await poller.close()
    assert result.status.state is HostState.UP, result.status.error
    assert poller.kind is LINUX


async def test_every_linux_series_uses_a_declared_metric(tmp_path: Path) -> None:
    inventory = Inventory.from_dict(
        {"hosts": [{"name": "ego", "address": "127.0.0.1", "local": True, "os": "linux"}]}
    )
    poller = poller_for(inventory.hosts_resolved()[0], tmp_path / "kh")
    try:
        await poller.poll()
        await asyncio.sleep(0.3)  # rates need a second sample
        result = await poller.poll()
    finally:
        await poller.close()
    assert result.snapshot is not None, result.status.error
    names = {split_series(name)[0] for name in result.snapshot.metrics}
    assert "cpu.busy_pct" in names and "mem.used_pct" in names
    assert names <= set(LINUX.metrics), names - set(LINUX.metrics)
