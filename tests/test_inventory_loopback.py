"""`mirror demo` refuses a reload that would take it off loopback (names, LAN addresses)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mirror.inventory import Inventory, InventoryError
from mirror.inventory.current import CurrentInventory
from mirror.inventory.loopback import off_loopback
from mirror.inventory.reload import InventoryReloader

ON_LOOPBACK = {
    "subnets": [{"name": "lab", "cidr": "127.77.0.0/24"}],
    "hosts": [{"name": "a", "address": "127.77.0.10"}],
}


def off(**extra: object) -> dict[str, object]:
    return {**ON_LOOPBACK, **extra}


SWITCH = {"name": "s", "address": "192.0.2.1", "community_env": "C"}


def test_loopback_literals_pass() -> None:
    assert off_loopback(Inventory.from_dict(ON_LOOPBACK), "inv.yaml") == []


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (off(hosts=[{"name": "n", "address": "nas.example"}]), "hosts[0].address"),
        (off(hosts=[{"name": "n", "address": "192.0.2.10"}]), "hosts[0].address"),
        (off(snmp=[SWITCH]), "snmp[0].address"),
        (off(subnets=[{"name": "lan", "cidr": "192.0.2.0/24"}]), "subnets[0].cidr"),
        (off(subnets=[{"name": "wide", "cidr": "126.0.0.0/7"}]), "subnets[0].cidr"),
    ],
)
def test_names_and_other_addresses_are_named(data: dict[str, object], field: str) -> None:
    problems = off_loopback(Inventory.from_dict(data), "inv.yaml")
    assert [p.field for p in problems] == [field]
    assert "loopback" in problems[0].message or "127.0.0.0/8" in problems[0].message


async def test_guarded_reload_refuses_and_keeps_the_running_inventory(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(ON_LOOPBACK))
    current = CurrentInventory(Inventory.from_dict(ON_LOOPBACK))
    applied: list[object] = []

    async def apply(new: Inventory, change: object) -> None:
        applied.append(change)

    reloader = InventoryReloader(path, current, apply, guard=off_loopback)
    path.write_text(yaml.safe_dump(off(hosts=[{"name": "a", "address": "nas.example"}])))
    with pytest.raises(InventoryError) as refused:
        await reloader.reload("tester", "test")
    assert "hosts[0].address" in str(refused.value) and "DNS" in str(refused.value)
    assert applied == [] and current.get().hosts[0].address == "127.77.0.10"
    # Without the guard (a normal `mirror serve`) the same file is a valid inventory.
    plain = InventoryReloader(path, current, apply)
    await plain.reload("tester", "test")
    assert current.get().hosts[0].address == "nas.example" and len(applied) == 1
