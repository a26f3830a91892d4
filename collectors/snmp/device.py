"""One SNMP device's poll, put together: which columns to walk when, and walk → series + info.

Two cadences (the poller keeps the clock): the *fast* poll (every ``interval_s``) walks only
the columns that move (octets, errors, discards, oper status, CPU, storage use, sensor
values); the *table* poll (every ``table_interval_s``) also walks what rarely changes or is
large: interface names/types/speeds, LLDP, the bridge FDB, ARP and sensor labels. The fast
walk is laid over the last table walk, so every parser sees whole rows.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from collectors.snmp import arp, bridge, entity, host_resources, interfaces, lldp, sensors, system
from collectors.snmp.walk import Oid, Walk

_IF, _IFX = interfaces.IF_ENTRY, interfaces.IFX_ENTRY
# ifOperStatus, ifInDiscards, ifInErrors, ifOutDiscards, ifOutErrors (Counter32 in IF-MIB).
_IF_FAST = tuple((*_IF, c) for c in (8, 13, 14, 19, 20))
_HC_OCTETS = ((*_IFX, 6), (*_IFX, 10))
_OCTETS_32 = ((*_IF, 10), (*_IF, 16))
_SENSOR_VALUES = (
    sensors.ENT_SENSOR_ENTRY,
    (*sensors.LM_TEMP_ENTRY, 3),
    (*sensors.QNAP_DISK_ENTRY, 6),
    (*sensors.QNAP_HD_ENTRY, 3),
)
_HR_FAST = (host_resources.HR_PROCESSOR_LOAD, (*host_resources.HR_STORAGE_ENTRY, 6))

# Walked on the table cadence (and on the first poll, before anything else).
TABLE_COLUMNS: tuple[Oid, ...] = (
    *((*_IF, c) for c in (2, 3, 5, 6, 7)),  # descr, type, speed, MAC, admin status
    *((*_IFX, c) for c in (1, 15, 18)),  # name, high speed, alias
    *((*host_resources.HR_STORAGE_ENTRY, c) for c in (2, 3, 4, 5)),
    (*sensors.ENT_PHYSICAL_ENTRY, 2),
    (*sensors.ENT_PHYSICAL_ENTRY, 7),
    *entity.COLUMNS,  # the chassis's model, serial, vendor, revisions
    (*sensors.LM_TEMP_ENTRY, 2),
    (*sensors.QNAP_HD_ENTRY, 2),
    *lldp.ROOTS,
    *bridge.ROOTS,
    # Only the PhysAddress and type columns: the rest of these tables is not used.
    (*arp.NET_TO_MEDIA_ENTRY, 2),
    (*arp.NET_TO_MEDIA_ENTRY, 4),
    (*arp.NET_TO_PHYSICAL_ENTRY, 4),
    (*arp.NET_TO_PHYSICAL_ENTRY, 6),
)
SCALARS: tuple[Oid, ...] = (*system.OIDS, *lldp.SCALARS)


def fast_columns(with_32bit_octets: bool) -> tuple[Oid, ...]:
    """What the fast poll walks; 32-bit octets only while some interface lacks ifHC*."""
    octets = (*_HC_OCTETS, *_OCTETS_32) if with_32bit_octets else _HC_OCTETS
    return (*_IF_FAST, *octets, *_HR_FAST, *_SENSOR_VALUES)


def needs_32bit_octets(walk: Walk) -> bool:
    """True when an interface of ``walk`` has no ifHCInOctets (RFC 2863 3.1.6: slow links
    and old agents), so the 32-bit ifInOctets/ifOutOctets must be walked too."""
    n = len(_IF) + 1
    indexes = {k[n] for k in walk if len(k) == n + 1 and k[: n - 1] == _IF}
    indexes |= {k[n + 1] for k in walk if len(k) == n + 2 and k[:n] == _IFX}
    hc = {k[n + 1] for k in walk if len(k) == n + 2 and k[: n + 1] == (*_IFX, 6)}
    return not hc or bool(indexes - hc)


def metrics(
    prev_ifaces: list[interfaces.Interface] | None,
    walk: Walk,
    dt_s: float | None,
) -> tuple[dict[str, float], list[interfaces.Interface], system.System]:
    """Series of one poll, the interfaces (for the next poll's rates) and the system group."""
    sysinfo = system.parse(walk)
    ifaces = interfaces.parse(walk)
    m = interfaces.metrics(prev_ifaces, ifaces, dt_s)
    m |= host_resources.metrics(host_resources.parse(walk))
    m |= sensors.metrics(sensors.parse(walk))
    if sysinfo.uptime_s is not None:
        m["uptime_seconds"] = sysinfo.uptime_s
    return m, ifaces, sysinfo


def info(walk: Walk, ifaces: list[interfaces.Interface], sysinfo: system.System) -> dict[str, Any]:
    """What the topology and the UI read about the device (stored as the snapshot's info)."""
    names = {i.index: i.name for i in ifaces}
    neighbours = lldp.parse(walk)
    port_names = local_port_names(neighbours, ifaces)
    return {
        "kind": "snmp",
        "system": asdict(sysinfo),
        "entity": asdict(chassis) if (chassis := entity.parse(walk)) is not None else None,
        "interfaces": [
            {
                "index": i.index,
                "name": i.name,
                "descr": i.descr,
                "alias": i.alias,
                "type": i.type,
                "mac": i.mac,
                "admin_up": i.admin_up,
                "oper": i.oper,
                "speed_bps": i.speed_bps,
                "counters": "64" if i.octet_bits == 64 else "32",
            }
            for i in ifaces
        ],
        "lldp": {
            "chassis_id": neighbours.chassis_id,
            "chassis_kind": neighbours.chassis_kind,
            "sys_name": neighbours.sys_name,
            "neighbours": [
                {"local_port": port_names.get(n.local_port_num, str(n.local_port_num))} | asdict(n)
                for n in neighbours.neighbours
            ],
        },
        "fdb": [
            {"mac": e.mac, "port": names.get(e.if_index, str(e.port)), "vlan": e.vlan}
            for e in bridge.parse(walk)
        ],
        "arp": [
            {"ip": e.ip, "mac": e.mac, "interface": names.get(e.if_index, str(e.if_index))}
            for e in arp.parse(walk)
        ],
    }


def local_port_names(found: lldp.Lldp, ifaces: list[interfaces.Interface]) -> dict[int, str]:
    """lldpLocPortNum → interface name: by port ID or description matching an ifName or
    ifDescr, else the number taken as an ifIndex (which most agents use), else the port ID."""
    by_name = {i.name: i.name for i in ifaces} | {i.descr: i.name for i in ifaces if i.descr}
    by_index = {i.index: i.name for i in ifaces}
    ports = {p.num: p for p in found.ports}
    result = {}
    for num in {n.local_port_num for n in found.neighbours} | set(ports):
        port = ports.get(num)
        candidates = [port.id, port.descr] if port is not None else []
        match = next((by_name[c] for c in candidates if c in by_name), None)
        fallback = (port.id or port.descr) if port is not None else None
        result[num] = match or by_index.get(num) or fallback or str(num)
    return result
