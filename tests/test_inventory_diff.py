"""Reconcile by diff: the pure plan, and the SNMP and ICMP loops following a new inventory."""

from __future__ import annotations

from typing import Any

from mirror.inventory import Inventory
from mirror.inventory.diff import diff_inventories, plan, same_host_loop
from poller.icmp import detect_icmp
from poller.icmp_loop import IcmpMonitor
from poller.snmp import SnmpScheduler


def inventory(**data: Any) -> Inventory:
    base: dict[str, Any] = {"groups": {"lab": {}}, "defaults": {"ssh": {"user": "m"}}}
    return Inventory.from_dict({**base, **data})


def host(name: str, address: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "address": address, **extra}


def switch(name: str, port: int, **extra: Any) -> dict[str, Any]:
    return {"name": name, "address": "127.0.0.1", "port": port, "community_env": "C", **extra}


def test_plan_sorts_targets_into_added_removed_restarted_updated() -> None:
    old = inventory(hosts=[host("a", "127.0.0.2"), host("b", "127.0.0.3"), host("c", "127.0.0.4")])
    new = inventory(
        hosts=[
            host("a", "127.0.0.2", tags=["t"], groups=["lab"]),  # identity only
            host("c", "127.0.0.4", ssh={"port": 2222}),  # connection
            host("d", "127.0.0.5"),
        ]
    )
    change = diff_inventories(old, new)
    assert change.hosts.added == ("d",)
    assert change.hosts.removed == ("b",)
    assert change.hosts.restarted == ("c",)
    assert change.hosts.updated == ("a",)
    assert not change.poll_changed
    assert change.as_dict()["changed"] == ["c"]
    assert "added d" in change.summary() and "removed b" in change.summary()


def test_same_file_is_no_change_and_a_new_cadence_restarts_every_host() -> None:
    hosts = [host("a", "127.0.0.2"), host("b", "127.0.0.3")]
    assert diff_inventories(inventory(hosts=hosts), inventory(hosts=hosts)).empty
    faster = diff_inventories(
        inventory(hosts=hosts), inventory(hosts=hosts, poll={"interval_s": 2})
    )
    assert faster.poll_changed and faster.hosts.restarted == ("a", "b")


def test_group_settings_reach_the_hosts_that_use_them() -> None:
    old = inventory(hosts=[host("a", "127.0.0.2", groups=["lab"]), host("b", "127.0.0.3")])
    new = inventory(
        groups={"lab": {"ssh": {"user": "other"}}},
        hosts=[host("a", "127.0.0.2", groups=["lab"]), host("b", "127.0.0.3")],
    )
    change = diff_inventories(old, new)
    assert change.hosts.restarted == ("a",) and change.hosts.updated == ()
    assert change.sections == ("groups",)
    a_old, a_new = old.hosts_resolved()[0], new.hosts_resolved()[0]
    assert not same_host_loop(a_old, a_new)
    assert plan({"x": 1}, {"x": 1}, lambda p, q: p == q).empty


async def test_snmp_loops_follow_the_inventory() -> None:
    # Nothing listens on these ports: the loops only time out, which is all this needs.
    devices = inventory(snmp=[switch("sw1", 1), switch("sw2", 2)]).snmp_resolved()
    scheduler = SnmpScheduler(devices, lambda _: None, env={"C": "public"})
    await scheduler.start()
    try:
        kept = scheduler.by_name["sw1"]
        new = inventory(snmp=[switch("sw1", 1, tags=["core"]), switch("sw3", 3)])
        change = await scheduler.reconcile(new.snmp_resolved())
        assert (change.added, change.removed, change.updated) == (("sw3",), ("sw2",), ("sw1",))
        assert scheduler.by_name["sw1"] is kept and kept.device.tags == ("core",)
        assert scheduler.loop_running("sw1") and scheduler.loop_running("sw3")
        assert not scheduler.loop_running("sw2") and "sw2" not in scheduler.by_name
        moved = inventory(snmp=[switch("sw1", 4), switch("sw3", 3)])
        change = await scheduler.reconcile(moved.snmp_resolved())
        assert change.restarted == ("sw1",) and scheduler.by_name["sw1"] is not kept
        assert scheduler.loop_running("sw1")
    finally:
        await scheduler.stop()


async def test_icmp_loop_pings_the_new_addresses_and_sweeps_new_subnets() -> None:
    old = inventory(hosts=[host("a", "127.0.0.2")])
    # A usable mode (root here) so the loops really start; they only ever probe loopback.
    access = detect_icmp()
    monitor = IcmpMonitor(old, lambda _: None, access=access, resolver=None)
    await monitor.start()
    try:
        new = inventory(
            hosts=[host("b", "127.0.0.3")],
            subnets=[{"name": "lo", "cidr": "127.79.0.0/30"}],
        )
        await monitor.retarget(new)
        assert monitor.known == {"127.0.0.3": "b"}
        assert [s.name for s in monitor.subnets] == ["lo"]
        names = {t.get_name() for t in monitor._tasks if not t.done()}
        assert names == ({"icmp:hosts", "icmp:lo"} if access.usable else set())
        await monitor.retarget(old)
        assert {t.get_name() for t in monitor._tasks} == (
            {"icmp:hosts"} if access.usable else set()
        )
    finally:
        await monitor.stop()
