"""SNMP parsers on real recorded walks (LibreNMS' snmpsim data) and on hand-made edge cases."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from collectors.snmp import arp, bridge, device, interfaces, lldp, system
from collectors.snmp.walk import mac, mac_from_index, parse_snmprec
from mirror.errors import ParseError

FIXTURES = Path(__file__).parent / "fixtures" / "snmp"
RECORDINGS = sorted(FIXTURES.glob("*.snmprec"))


def _walk(name: str) -> dict[tuple[int, ...], Any]:
    return parse_snmprec((FIXTURES / f"{name}.snmprec").read_text(encoding="utf-8"))


def _golden(path: Path) -> dict[str, Any]:
    walk = parse_snmprec(path.read_text(encoding="utf-8"))
    metrics, ifaces, sysinfo = device.metrics(None, walk, None)
    # JSON round trip: tuples become lists, as they do in storage.
    return json.loads(json.dumps({"metrics": metrics, "info": device.info(walk, ifaces, sysinfo)}))


@pytest.mark.parametrize("path", RECORDINGS, ids=[p.stem for p in RECORDINGS])
def test_golden(path: Path) -> None:
    expected = path.with_suffix(".expected.json")
    assert expected.exists(), f"{path.name} has no {expected.name} (run with --regen)"
    assert _golden(path) == json.loads(expected.read_text(encoding="utf-8"))


def test_every_recording_is_one_of_the_five_or_a_lab_device() -> None:
    names = {p.stem for p in RECORDINGS}
    assert {"arubaos-cx", "swos", "routeros", "qnap", "openwrt"} <= names


# --- the quirks each real device has (README of the recordings) --------------------------


def test_aruba_lldp_text_macs_and_interface_name_chassis() -> None:
    walk = _walk("arubaos-cx")
    found = lldp.parse(walk)
    assert len(found.neighbours) == 18
    by_port = {}
    for n in found.neighbours:
        by_port.setdefault(n.local_port_num, []).append(n)
    # Chassis MACs sent as *text* "00:50:d7:12:68:68" are read as MACs.
    [san3] = by_port[8]
    assert (san3.chassis_kind, san3.chassis_id) == ("mac", "00:50:d7:12:68:68")
    # An ESXi host seen twice on one port: NIC firmware and the dvSwitch (chassis = vmnic5).
    kinds = sorted((n.chassis_kind, n.chassis_id, n.sys_name) for n in by_port[10])
    assert ("interface-name", "vmnic5", "vmhost-20") in kinds
    assert len(kinds) == 2
    [peer] = by_port[53]
    assert (peer.sys_name, peer.port_id, peer.port_kind) == (
        "aruba-iscsi-2",
        "1/1/53",
        "interface-name",
    )
    assert peer.addresses == ["172.20.5.87"]  # from lldpRemManAddrTable; the MAC row is skipped
    names = device.local_port_names(found, interfaces.parse(walk))
    assert names[53] == "1/1/53" and names[10] == "1/1/10"


def test_aruba_fdb_length_prefixed_index_and_port_zero() -> None:
    entries = bridge.parse(_walk("arubaos-cx"))
    raw = [k for k in _walk("arubaos-cx") if k[:11] == (*bridge.TP_FDB_ENTRY, 2)]
    assert len(raw) == 44
    assert all(e.port != 0 for e in entries)
    assert len(entries) == 29  # 15 rows on port 0 are not learnt neighbours
    assert bridge.FdbEntry("00:0a:f7:ec:d1:61", 10, 10, None) in entries


def test_aruba_sensors_fans_and_power_but_no_temperature() -> None:
    metrics, _, _ = device.metrics(None, _walk("arubaos-cx"), None)
    assert sum(k.startswith("fan.rpm[") for k in metrics) == 12
    assert sum(k.startswith("power.watts[") for k in metrics) == 1
    assert not any(k.startswith("temp.") for k in metrics)


def test_swos_plain_fdb_without_status_column() -> None:
    entries = bridge.parse(_walk("swos"))
    assert len(entries) == 13
    assert entries[0].if_index == 1 and all(e.vlan is None for e in entries)
    ifaces = interfaces.parse(_walk("swos"))
    assert [i.name for i in ifaces][:2] == ["Port1", "Port2"] and ifaces[0].octet_bits == 64


def test_routeros_arp_indexed_by_bridge_ifindex() -> None:
    entries = arp.parse(_walk("routeros"))
    assert len(entries) == 15
    assert arp.ArpEntry("192.168.11.110", "9c:5c:8e:a4:a4:77", 10) in entries


def test_qnap_no_sysuptime_disk_temperatures_and_incomplete_arp() -> None:
    walk = _walk("qnap")
    sysinfo = system.parse(walk)
    assert sysinfo.name is None and sysinfo.uptime_s is not None  # hrSystemUptime instead
    metrics, _, _ = device.metrics(None, walk, None)
    temps = {k: v for k, v in metrics.items() if k.startswith("temp.celsius[")}
    assert len(temps) == 20 and temps["temp.celsius[disk1]"] == 28.0
    entries = arp.parse(walk)
    assert not any(e.ip == "8.8.8.8" for e in entries)  # all-zero MACs are incomplete
    assert "fs.used_pct[/share/CACHEDEV1_DATA]" in metrics


def test_openwrt_without_counters_still_gives_interfaces_and_resources() -> None:
    walk = _walk("openwrt")
    metrics, ifaces, sysinfo = device.metrics(None, walk, None)
    assert sysinfo.location == "<private>"  # sent as a hex string
    assert ifaces and all(i.in_octets is None for i in ifaces)
    assert "mem.total_bytes" in metrics and "cpu.busy_pct" in metrics
    assert not any(k.startswith("net.rx_bytes") for k in metrics)


# --- rates, wrap and reboot ------------------------------------------------------------------


def _iface(index: int, octets: int, bits: int = 64, errors: int = 0) -> interfaces.Interface:
    return interfaces.Interface(
        index, f"p{index}", None, None, 6, None, True, "up", 10**9,
        octets, octets // 2, bits, errors, 0, 0, 0,
    )  # fmt: skip


def test_rates_from_64_bit_counters() -> None:
    m = interfaces.metrics([_iface(1, 1000)], [_iface(1, 1000 + 5 * 125_000_000)], 5.0)
    assert m["net.rx_bytes_per_s[p1]"] == 125_000_000
    assert m["net.util_pct[p1]"] == pytest.approx(100.0)


def test_32_bit_counter_wrap_is_a_rate_and_a_reset_is_none() -> None:
    before, after = _iface(1, 2**32 - 1000, 32), _iface(1, 4000, 32)
    m = interfaces.metrics([before], [after], 1.0)
    assert m["net.rx_bytes_per_s[p1]"] == 5000
    reset = interfaces.metrics([_iface(1, 10**15)], [_iface(1, 10)], 1.0)
    assert "net.rx_bytes_per_s[p1]" not in reset
    assert reset["net.oper_up[p1]"] == 1.0


def test_reboot_detection_from_sysuptime() -> None:
    assert system.rebooted(1000.0, 5.0, 5.0)
    assert not system.rebooted(1000.0, 1005.0, 5.0)
    assert not system.rebooted(1000.0, 1000.0, 5.0)  # a recording whose uptime stands still
    assert not system.rebooted(2**32 / 100 - 2, 3.0, 5.0)  # TimeTicks wrapped after 497 days
    assert not system.rebooted(None, 5.0, 5.0)


# --- the walk helpers ------------------------------------------------------------------------


def test_mac_forms() -> None:
    assert mac(bytes.fromhex("0050d7126868")) == "00:50:d7:12:68:68"
    assert mac(b"00:50:d7:12:68:68") == "00:50:d7:12:68:68"
    assert mac(bytes(6)) is None and mac(b"vmnic") is None  # 6 octets are always a MAC
    assert mac_from_index((6, 0, 10, 247, 236, 209, 97)) == "00:0a:f7:ec:d1:61"
    assert mac_from_index((1, 2, 3)) is None


def test_bad_snmprec_lines_are_parse_errors() -> None:
    with pytest.raises(ParseError, match="line 2: expected OID"):
        parse_snmprec("1.3.6.1.2.1.1.1.0|4|ok\nno pipes here\n")
    with pytest.raises(ParseError, match="line 1: bad 2 value"):
        parse_snmprec("1.3.6.1.2.1.1.3.0|2|twelve\n")


def test_garbage_values_do_not_break_parsers() -> None:
    walk = {
        (*interfaces.IF_ENTRY, 2, 1): 7,  # a number where a name belongs
        (*interfaces.IFX_ENTRY, 6, 1): b"not a counter",
        (*lldp.REM_ENTRY, 5, 0, 1, 1): 3,
        (*bridge.TP_FDB_ENTRY, 2, 300, 1, 2, 3, 4, 5): 1,
        (*arp.NET_TO_MEDIA_ENTRY, 2, 1, 999, 0, 0, 1): b"\x00" * 6,
    }
    _metrics, ifaces, sysinfo = device.metrics(None, walk, None)
    info = device.info(walk, ifaces, sysinfo)
    assert ifaces[0].in_octets is None and info["fdb"] == [] and info["arp"] == []


def _regen() -> None:
    for path in RECORDINGS:
        out = path.with_suffix(".expected.json")
        out.write_text(json.dumps(_golden(path), indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print("wrote", out)


if __name__ == "__main__" and "--regen" in sys.argv:
    _regen()
