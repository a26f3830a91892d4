"""Simulated network gear for ``mirror demo``: a managed switch and a router as snmpsim data. Pure.

:func:`make_gear` turns the simulated lab into two ``.snmprec`` texts (snmpsim's format, see
``tests/fixtures/snmp/README.md``) that ``lab.snmpsim`` serves on loopback:

* **core-switch**: 1G access ports (8, 16, 24 or 48; stack units of 48 beyond), one per
  host in lab order, spares down, and two 10G uplinks; ifTable/ifXTable with 64-bit octet
  counters that advance at the host's typical eth0 rate; LLDP naming the router on the
  first uplink; a Q-BRIDGE MAC table with each host's MAC on its port and the router's on
  the uplink.
* **gateway**: five ports (LAN to the switch, WAN, three spares down), an ARP table with
  every host's IP → MAC and the switch's, LLDP naming the switch.

Counters use the ``wave`` variation module (``lab.wave``, which snmpsim must be
given with ``--variation-modules-dir``): their rate wanders up to ±40 % around the mean, each
port at its own pace, as a pure function of time. They start at mean × the device's uptime,
as if counting since boot.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass

from lab.model import SimHost, check_loopback, eth0_mean_b_s, stable_seed

SWITCH_NAME = "core-switch"
ROUTER_NAME = "gateway"
SWITCH_ADDRESS = "127.77.0.2"
ROUTER_ADDRESS = "127.77.0.1"
ROUTER_LAN_PORT = "ether1"
SWITCH_SIZES = (8, 16, 24, 48)
SWITCH_UPTIME_S = 41 * 86400 + 5 * 3600 + 17 * 60  # both stable between demo runs
ROUTER_UPTIME_S = 96 * 86400 + 2 * 3600
WAN_SHARE = 0.25  # of the hosts' traffic that leaves the LAN through the router
WAVE = "wave"  # the snmpsim variation module name (lab/wave.py)
SYS_OBJECT_ID = "1.3.6.1.4.1.8072.3.2.10"  # net-snmp on Linux: no vendor is claimed

_IF = "1.3.6.1.2.1.2.2.1"
_IFX = "1.3.6.1.2.1.31.1.1.1"
_LLDP = "1.0.8802.1.1.2.1"
_ETHERNET, _UP, _DOWN = 6, 1, 2


@dataclass(frozen=True, slots=True)
class Gear:
    """One simulated SNMP device: where it answers and what it answers."""

    name: str
    address: str
    chassis_mac: str
    snmprec: str


@dataclass(frozen=True, slots=True)
class GearLab:
    switch: Gear
    router: Gear
    uplink: tuple[str, str]  # (switch port, router port): the cable between them
    host_ports: dict[str, str]  # host name → switch port (ifName)


@dataclass(frozen=True, slots=True)
class _Port:
    index: int
    name: str
    descr: str
    alias: str
    speed_mbps: int
    up: bool
    in_b_s: float  # octets into the device on this port, bytes/s
    out_b_s: float


def host_mac(host: SimHost) -> str:
    """A stable MAC for a simulated host: the KVM prefix 52:54:00 (locally administered)
    and the last three octets of its 127.x address, so no two lab hosts share one."""
    octets = ipaddress.IPv4Address(host.address).packed[1:]
    return "52:54:00:" + ":".join(f"{b:02x}" for b in octets)


def _gear_mac(kind: int, index: int) -> str:
    """02:4d:53 ("MS", locally administered), a byte for the device, two for the port."""
    return f"02:4d:53:{kind:02x}:{index >> 8 & 0xFF:02x}:{index & 0xFF:02x}"


def switch_size(hosts: int) -> int:
    """Access ports of the switch for ``hosts`` hosts: a common size, else 48-port units."""
    for size in SWITCH_SIZES:
        if hosts <= size:
            return size
    return 48 * math.ceil(hosts / 48)


def _hex(mac: str) -> str:
    return mac.replace(":", "")


def _mac_index(mac: str) -> str:
    return ".".join(str(int(part, 16)) for part in mac.split(":"))


class _Records:
    """snmprec lines, written in OID order whatever order they are added in."""

    def __init__(self) -> None:
        self._lines: dict[tuple[int, ...], str] = {}

    def add(self, oid: str, tag: str, value: object) -> None:
        key = tuple(int(x) for x in oid.split("."))
        self._lines[key] = f"{oid}|{tag}|{value}"

    def text(self) -> str:
        return "".join(self._lines[key] + "\n" for key in sorted(self._lines))


def _counter(records: _Records, oid: str, mean_b_s: float, uptime_s: float) -> None:
    initial = int(mean_b_s * uptime_s)
    if mean_b_s <= 0:
        records.add(oid, "70", initial)
        return
    seed = stable_seed("gear", oid)
    slow_s, fast_s = 90 + seed % 210, 15 + (seed >> 16) % 25  # each port its own pace
    phase = (seed >> 32) % 628 / 100
    value = f"mean={mean_b_s:g},initial={initial},s1=0.25,p1={slow_s},s2=0.15,p2={fast_s}"
    records.add(oid, f"70:{WAVE}", f"{value},phase={phase:g}")


def _system(records: _Records, name: str, descr: str, uptime_s: float) -> None:
    records.add("1.3.6.1.2.1.1.1.0", "4", descr)
    records.add("1.3.6.1.2.1.1.2.0", "6", SYS_OBJECT_ID)
    records.add("1.3.6.1.2.1.1.3.0", f"67:{WAVE}", f"mean=100,initial={int(uptime_s * 100)}")
    records.add("1.3.6.1.2.1.1.4.0", "4", "lab admin <admin@lab.invalid>")
    records.add("1.3.6.1.2.1.1.5.0", "4", name)
    records.add("1.3.6.1.2.1.1.6.0", "4", "rack A, shelf 1")


def _entity(records: _Records, descr: str, model: str, serial: str, celsius: int) -> None:
    """ENTITY-MIB: the chassis (row 1) with model and serial, and one temperature sensor
    (row 2, ENTITY-SENSOR-MIB: celsius(8), units(9), precision 0, ok(1))."""
    ent = "1.3.6.1.2.1.47.1.1.1.1"
    for col, tag, value in (
        (2, "4", descr), (5, "2", 3), (7, "4", "Chassis"), (8, "4", "A1"), (9, "4", "1.2.0"),
        (10, "4", "7.4.1"), (11, "4", serial), (12, "4", "MIRROR STAGE"), (13, "4", model),
    ):  # fmt: skip
        records.add(f"{ent}.{col}.1", tag, value)
    for col, tag, value in ((2, "4", "Chassis temperature"), (5, "2", 8), (7, "4", "temp0")):
        records.add(f"{ent}.{col}.2", tag, value)
    for col, value in ((1, 8), (2, 9), (3, 0), (4, celsius), (5, 1)):
        records.add(f"1.3.6.1.2.1.99.1.1.1.{col}.2", "2", value)


def _interfaces(
    records: _Records, ports: Sequence[_Port], kind: int, uptime_s: float, errors_on: int | None
) -> None:
    for p in ports:
        i = p.index
        records.add(f"{_IF}.1.{i}", "2", i)
        records.add(f"{_IF}.2.{i}", "4", p.descr)
        records.add(f"{_IF}.3.{i}", "2", _ETHERNET)
        records.add(f"{_IF}.5.{i}", "66", min(p.speed_mbps * 1_000_000, 2**32 - 1))
        records.add(f"{_IF}.6.{i}", "4x", _hex(_gear_mac(kind, i)))
        records.add(f"{_IF}.7.{i}", "2", _UP)
        records.add(f"{_IF}.8.{i}", "2", _UP if p.up else _DOWN)
        for column in (13, 19, 20):  # discards in, out; errors out
            records.add(f"{_IF}.{column}.{i}", "65", 0)
        if i == errors_on:  # one port with a worn cable: a few input errors a minute
            records.add(f"{_IF}.14.{i}", f"65:{WAVE}", "mean=0.05,initial=17")
        else:
            records.add(f"{_IF}.14.{i}", "65", 0)
        records.add(f"{_IFX}.1.{i}", "4", p.name)
        _counter(records, f"{_IFX}.6.{i}", p.in_b_s if p.up else 0.0, uptime_s)
        _counter(records, f"{_IFX}.10.{i}", p.out_b_s if p.up else 0.0, uptime_s)
        records.add(f"{_IFX}.15.{i}", "66", p.speed_mbps)
        records.add(f"{_IFX}.18.{i}", "4", p.alias)


def _lldp_local(records: _Records, name: str, descr: str, mac: str, ports: Sequence[_Port]) -> None:
    records.add(f"{_LLDP}.3.1.0", "2", 4)  # chassis ID subtype: MAC address
    records.add(f"{_LLDP}.3.2.0", "4x", _hex(mac))
    records.add(f"{_LLDP}.3.3.0", "4", name)
    records.add(f"{_LLDP}.3.4.0", "4", descr)
    for p in ports:
        records.add(f"{_LLDP}.3.7.1.2.{p.index}", "2", 5)  # port ID subtype: interface name
        records.add(f"{_LLDP}.3.7.1.3.{p.index}", "4", p.name)
        records.add(f"{_LLDP}.3.7.1.4.{p.index}", "4", p.descr)


def _lldp_remote(records: _Records, local: _Port, remote: Gear, port: _Port, descr: str) -> None:
    row = f"0.{local.index}.1"  # timeMark.localPortNum.remIndex
    records.add(f"{_LLDP}.4.1.1.4.{row}", "2", 4)
    records.add(f"{_LLDP}.4.1.1.5.{row}", "4x", _hex(remote.chassis_mac))
    records.add(f"{_LLDP}.4.1.1.6.{row}", "2", 5)
    records.add(f"{_LLDP}.4.1.1.7.{row}", "4", port.name)
    records.add(f"{_LLDP}.4.1.1.8.{row}", "4", port.alias)
    records.add(f"{_LLDP}.4.1.1.9.{row}", "4", remote.name)
    records.add(f"{_LLDP}.4.1.1.10.{row}", "4", descr)
    records.add(f"{_LLDP}.4.2.1.3.{row}.1.4.{remote.address}", "2", 2)  # managed via ifIndex


def _switch_ports(lab: Sequence[SimHost], router_in: float, router_out: float) -> list[_Port]:
    size = switch_size(len(lab))
    ports = []
    for n in range(size):
        unit, number = divmod(n, 48)
        host = lab[n] if n < len(lab) else None
        rx, tx = eth0_mean_b_s(host.profile) if host is not None else (0.0, 0.0)
        ports.append(
            _Port(
                index=n + 1,
                name=f"Gi{unit + 1}/0/{number + 1}",
                descr=f"GigabitEthernet{unit + 1}/0/{number + 1}",
                alias=host.name if host is not None else "",
                speed_mbps=1000,
                up=host is not None,
                in_b_s=tx,  # what the host sends comes into the switch
                out_b_s=rx,
            )
        )
    for k, up in ((1, True), (2, False)):
        ports.append(
            _Port(
                index=size + k,
                name=f"Te1/1/{k}",
                descr=f"TenGigabitEthernet1/1/{k}",
                alias=f"uplink to {ROUTER_NAME}" if up else "",
                speed_mbps=10_000,
                up=up,
                in_b_s=router_out,
                out_b_s=router_in,
            )
        )
    return ports


def _router_ports(lan_in: float, lan_out: float) -> list[_Port]:
    aliases = {1: f"LAN to {SWITCH_NAME}", 2: "WAN (ISP)"}
    return [
        _Port(
            index=i,
            name=f"ether{i}",
            descr=f"ether{i}",
            alias=aliases.get(i, ""),
            speed_mbps=1000,
            up=i <= 2,
            in_b_s=lan_in if i == 1 else lan_out if i == 2 else 0.0,
            out_b_s=lan_out if i == 1 else lan_in if i == 2 else 0.0,
        )
        for i in range(1, 6)
    ]


def make_gear(
    lab: Sequence[SimHost],
    switch_address: str = SWITCH_ADDRESS,
    router_address: str = ROUTER_ADDRESS,
) -> GearLab:
    """The switch every lab host is cabled to (in lab order) and the router behind it."""
    switch_address, router_address = check_loopback(switch_address), check_loopback(router_address)
    rates = [eth0_mean_b_s(h.profile) for h in lab]
    lan_in = WAN_SHARE * sum(tx for _, tx in rates)  # into the router from the LAN
    lan_out = WAN_SHARE * sum(rx for rx, _ in rates)
    switch_ports = _switch_ports(lab, lan_in, lan_out)
    router_ports = _router_ports(lan_in, lan_out)
    uplink, lan = switch_ports[-2], router_ports[0]
    switch_descr = (
        f"MIRROR STAGE demo switch, {len(switch_ports) - 2}x 1G + 2x 10G (simulated by snmpsim)"
    )
    router_descr = "MIRROR STAGE demo router, 5x 1G (simulated by snmpsim)"
    switch_id = Gear(SWITCH_NAME, switch_address, _gear_mac(2, 0), "")
    router_id = Gear(ROUTER_NAME, router_address, _gear_mac(1, 0), "")

    sw = _Records()
    _system(sw, SWITCH_NAME, switch_descr, SWITCH_UPTIME_S)
    _entity(sw, switch_descr, f"MS-SW{len(switch_ports) - 2}", "MSDEMO-SW-0001", 41)
    errors_on = next((i + 1 for i, h in enumerate(lab) if h.profile == "network-heavy"), None)
    _interfaces(sw, switch_ports, 2, SWITCH_UPTIME_S, errors_on)
    _lldp_local(sw, SWITCH_NAME, switch_descr, switch_id.chassis_mac, switch_ports)
    _lldp_remote(sw, uplink, router_id, lan, router_descr)
    fdb = [(host_mac(h), switch_ports[i].index) for i, h in enumerate(lab)]
    fdb.append((_gear_mac(1, lan.index), uplink.index))
    for p in switch_ports:
        sw.add(f"1.3.6.1.2.1.17.1.4.1.2.{p.index}", "2", p.index)  # bridge port = ifIndex
    for mac, bridge_port in fdb:
        row = f"1.{_mac_index(mac)}"  # VLAN 1
        sw.add(f"1.3.6.1.2.1.17.7.1.2.2.1.2.{row}", "2", bridge_port)
        sw.add(f"1.3.6.1.2.1.17.7.1.2.2.1.3.{row}", "2", 3)  # learned

    rt = _Records()
    _system(rt, ROUTER_NAME, router_descr, ROUTER_UPTIME_S)
    _entity(rt, router_descr, "MS-RT5", "MSDEMO-RT-0001", 48)
    _interfaces(rt, router_ports, 1, ROUTER_UPTIME_S, None)
    _lldp_local(rt, ROUTER_NAME, router_descr, router_id.chassis_mac, router_ports)
    _lldp_remote(rt, lan, switch_id, uplink, switch_descr)
    neighbours = [(h.address, host_mac(h)) for h in lab] + [(switch_address, switch_id.chassis_mac)]
    for address, mac in neighbours:
        row = f"{lan.index}.{address}"
        rt.add(f"1.3.6.1.2.1.4.22.1.1.{row}", "2", lan.index)
        rt.add(f"1.3.6.1.2.1.4.22.1.2.{row}", "4x", _hex(mac))
        rt.add(f"1.3.6.1.2.1.4.22.1.3.{row}", "64", address)
        rt.add(f"1.3.6.1.2.1.4.22.1.4.{row}", "2", 3)  # dynamic

    return GearLab(
        switch=Gear(SWITCH_NAME, switch_address, switch_id.chassis_mac, sw.text()),
        router=Gear(ROUTER_NAME, router_address, router_id.chassis_mac, rt.text()),
        uplink=(uplink.name, lan.name),
        host_ports={h.name: switch_ports[i].name for i, h in enumerate(lab)},
    )
