"""The demo's simulated switch and router: the generated snmprec (pure), then served by a real
snmpsim on 127.77.0.1/.2, polled by the real SNMP poller and placed by the topology.

Nothing outside 127.0.0.0/8 is contacted.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

from collectors.snmp import device
from collectors.snmp.walk import parse_snmprec
from lab import make_lab, wave
from lab.demo_gear import RunningGear, start_gear
from lab.gear import (
    ROUTER_ADDRESS,
    ROUTER_NAME,
    SWITCH_ADDRESS,
    SWITCH_NAME,
    host_mac,
    make_gear,
    switch_size,
)
from lab.model import eth0_mean_b_s
from mirror.inventory import Inventory
from mirror.model import HostState
from mirror.topology import NodeInput, build
from poller.snmp import SnmpPoller


def _info(snmprec: str) -> dict[str, Any]:
    walk = parse_snmprec(snmprec)
    _, ifaces, sysinfo = device.metrics(None, walk, None)
    return device.info(walk, ifaces, sysinfo)


# --- the generated data (pure) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("hosts", "ports"), [(0, 8), (8, 8), (9, 16), (24, 24), (25, 48), (49, 96), (254, 288)]
)
def test_switch_size_is_a_common_size_or_stacked_48s(hosts: int, ports: int) -> None:
    assert switch_size(hosts) == ports


def test_generated_switch_and_router_parse_into_the_lab() -> None:
    lab = make_lab(30)
    gear = make_gear(lab)
    switch, router = _info(gear.switch.snmprec), _info(gear.router.snmprec)

    assert switch["system"]["name"] == SWITCH_NAME and router["system"]["name"] == ROUTER_NAME
    names = [i["name"] for i in switch["interfaces"]]
    assert len(names) == 48 + 2 and names[0] == "Gi1/0/1" and names[-2:] == ["Te1/1/1", "Te1/1/2"]
    oper = {i["name"]: i["oper"] for i in switch["interfaces"]}
    assert oper["Gi1/0/30"] == "up" and oper["Gi1/0/31"] == "down" and oper["Te1/1/1"] == "up"

    macs = {h.name: host_mac(h) for h in lab}
    assert len(set(macs.values())) == len(lab)
    fdb = {e["mac"]: e["port"] for e in switch["fdb"]}
    assert {name: fdb[mac] for name, mac in macs.items()} == gear.host_ports
    assert gear.host_ports["lab-01"] == "Gi1/0/1" and gear.host_ports["lab-30"] == "Gi1/0/30"
    arp = {e["ip"]: e["mac"] for e in router["arp"]}
    assert {h.address: macs[h.name] for h in lab}.items() <= arp.items()
    assert arp[SWITCH_ADDRESS] == gear.switch.chassis_mac

    [to_router] = switch["lldp"]["neighbours"]
    assert (to_router["local_port"], to_router["sys_name"], to_router["port_id"]) == (
        "Te1/1/1",
        ROUTER_NAME,
        "ether1",
    )
    assert to_router["chassis_id"] == gear.router.chassis_mac
    assert to_router["addresses"] == [ROUTER_ADDRESS]
    [to_switch] = router["lldp"]["neighbours"]
    assert (to_switch["local_port"], to_switch["sys_name"], to_switch["port_id"]) == (
        "ether1",
        SWITCH_NAME,
        "Te1/1/1",
    )
    assert gear.uplink == ("Te1/1/1", "ether1")


def test_counters_advance_and_lines_are_in_oid_order() -> None:
    lab = make_lab(5)
    text = make_gear(lab).switch.snmprec
    lines = [line.split("|") for line in text.splitlines()]
    keys = [tuple(int(x) for x in oid.split(".")) for oid, _, _ in lines]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    prefix = "1.3.6.1.2.1.31.1.1.1.6."
    octets = {oid: (tag, value) for oid, tag, value in lines if oid.startswith(prefix)}
    tag, value = octets[prefix + "1"]  # lab-01's port: what lab-01 sends
    assert tag == "70:wave"
    settings = wave.parse(value)
    assert settings["mean"] == pytest.approx(eth0_mean_b_s(lab[0].profile)[1], rel=1e-3)
    assert settings["s1"] + settings["s2"] < 1  # never backwards
    assert octets[prefix + "6"] == ("70", "0")  # a spare port, down
    assert "1.3.6.1.2.1.1.3.0|67:wave|mean=100," in text  # sysUpTime advances


def test_wave_counter_wanders_but_never_goes_back_and_keeps_its_mean() -> None:
    settings = wave.parse("mean=1000,initial=50,s1=0.25,p1=120,s2=0.15,p2=20,phase=2.5")
    values = [wave.counter(settings, t / 2) for t in range(0, 2 * 1200)]
    steps = [b - a for a, b in itertools.pairwise(values)]
    assert values[0] == 50 and min(steps) >= 0
    rates = [2 * (values[i + 10] - values[i]) / 10 for i in range(0, len(values) - 10, 10)]
    assert 550 < min(rates) < 800 and 1200 < max(rates) < 1450  # wanders ±40 % at 5 s
    assert values[-1] - values[0] == pytest.approx(1000 * 1199.5, rel=0.02)
    linear = wave.parse("mean=100,initial=7")
    assert wave.counter(linear, 10.0) == 1007


def test_gear_refuses_addresses_outside_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        make_gear(make_lab(2), switch_address="192.0.2.1")


# --- served by snmpsim, polled for real ------------------------------------------------------


def _port_free_on_both() -> int:
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((SWITCH_ADDRESS, 0))
            port = int(s.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
                try:
                    other.bind((ROUTER_ADDRESS, port))
                except OSError:
                    continue
        return port
    raise AssertionError("no UDP port free on both gear addresses")


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[list[Any], RunningGear]]:
    lab = make_lab(6)
    gear = await start_gear(lab, tmp_path, _port_free_on_both())
    try:
        yield lab, gear
    finally:
        gear.stop()


async def test_demo_gear_polled_over_snmp_places_every_host(
    served: tuple[list[Any], RunningGear],
) -> None:
    lab, gear = served
    hosts = [{"name": h.name, "address": h.address, "mac": host_mac(h)} for h in lab]
    inventory = Inventory.from_dict({"groups": {"network": {}}, "hosts": hosts, **gear.inventory()})
    assert "demo-" not in str(gear.inventory())  # the community only by reference
    engine = SnmpEngine()
    try:
        pollers = [SnmpPoller(d, engine) for d in inventory.snmp_resolved()]
        first = await asyncio.gather(*(p.poll() for p in pollers))
        await asyncio.sleep(2.0)
        results = await asyncio.gather(*(p.poll() for p in pollers))
    finally:
        engine.close_dispatcher()
    # The first poll walks the tables (info, as the store keeps it); the second gives rates.
    info = {r.status.host: r.snapshot.info for r in first if r.snapshot is not None}
    by_name = {r.status.host: r for r in results}
    assert {n: r.status.state for n, r in by_name.items()} == {
        ROUTER_NAME: HostState.UP,
        SWITCH_NAME: HostState.UP,
    }, [r.status.error for r in results]

    switch = by_name[SWITCH_NAME].snapshot
    assert switch is not None and info[SWITCH_NAME]["system"]["name"] == SWITCH_NAME
    assert len(info[SWITCH_NAME]["interfaces"]) == 8 + 2
    assert all(i["counters"] == "64" for i in info[SWITCH_NAME]["interfaces"])
    for host in lab:
        rx, tx = eth0_mean_b_s(host.profile)
        port = gear.gear.host_ports[host.name]
        # Into the switch is what the host sends; the two polls were 2 s or more apart.
        assert 0.55 * tx < switch.metrics[f"net.rx_bytes_per_s[{port}]"] < 1.45 * tx, port
        assert 0.55 * rx < switch.metrics[f"net.tx_bytes_per_s[{port}]"] < 1.45 * rx, port
    assert switch.metrics["net.oper_up[Gi1/0/8]"] == 0.0
    assert switch.metrics["uptime_seconds"] > 41 * 86400

    nodes = [NodeInput(h["name"], "host", h["address"], h["mac"], "up") for h in hosts]
    nodes += [
        NodeInput(r.status.host, "snmp", None, None, "up", info[r.status.host], r.snapshot.metrics)
        for r in results
        if r.snapshot is not None
    ]
    topo = build(nodes, [])
    links = {frozenset((e.node, e.port) for e in (link.a, link.b)): link for link in topo.links}
    for host in lab:
        placed = links[
            frozenset({(SWITCH_NAME, gear.gear.host_ports[host.name]), (host.name, None)})
        ]
        assert placed.sources == ["fdb"] and placed.utilisation is not None
    uplink = links[frozenset({(SWITCH_NAME, "Te1/1/1"), (ROUTER_NAME, "ether1")})]
    assert uplink.sources == ["lldp"] and uplink.utilisation is not None
    assert len(topo.links) == len(lab) + 1
