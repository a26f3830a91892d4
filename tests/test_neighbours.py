"""The neighbour-table parsers, on real captures (tests/fixtures/neighbours/README.md)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from collectors.neighbours import parse_ip_neigh, parse_proc_net_arp, read_neighbours
from mirror.errors import ParseError

FIXTURES = Path(__file__).parent / "fixtures" / "neighbours"
CAPTURES = sorted(FIXTURES.glob("*.out"))


@pytest.mark.parametrize("capture", CAPTURES, ids=[p.stem for p in CAPTURES])
def test_golden(capture: Path) -> None:
    parse = parse_ip_neigh if capture.name.startswith("ip_neigh") else parse_proc_net_arp
    got = {k: dataclasses.asdict(v) for k, v in parse(capture.read_text()).items()}
    assert got == json.loads(capture.with_suffix(".json").read_text())


def test_every_parser_has_captures() -> None:
    names = {p.name.split(".")[0] for p in CAPTURES}
    assert names == {"ip_neigh", "proc_net_arp"}
    assert all(p.with_suffix(".json").exists() for p in CAPTURES)


def test_unresolved_entries_carry_no_mac() -> None:
    table = parse_proc_net_arp((FIXTURES / "proc_net_arp.namespace.out").read_text())
    assert "192.0.2.23" not in table and "192.0.2.25" not in table  # incomplete, failed
    assert table["192.0.2.20"].state == "PERMANENT"
    v6 = parse_ip_neigh((FIXTURES / "ip_neigh.namespace.out").read_text())
    assert v6["2001:db8::21"].mac == "02:00:00:00:00:21"  # "router" flag before the state


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "missing the 'IP address ... Device' header"),
        ("garbage\n", "missing the 'IP address ... Device' header"),
        (
            "IP address HW type Flags HW address Mask Device\n1.2.3.4 0x1 0x2 aa\n",
            "line 2: expected 6 columns, got 4",
        ),
        (
            "IP address HW type Flags HW address Mask Device\nnope 0x1 0x2 a * eth0\n",
            "line 2: not an ARP entry",
        ),
    ],
)
def test_proc_net_arp_refuses_garbage(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message.replace("(", r"\(").replace(".", r"\.")):
        parse_proc_net_arp(text)


def test_ip_neigh_refuses_garbage() -> None:
    with pytest.raises(ParseError, match="line 1: does not start with an address"):
        parse_ip_neigh("Error: something\n")
    with pytest.raises(ParseError, match="line 1: unknown state 'BOGUS'"):
        parse_ip_neigh("192.0.2.1 dev eth0 lladdr 02:00:00:00:00:01 BOGUS\n")


def test_unreadable_table_is_empty(tmp_path: Path) -> None:
    assert read_neighbours(str(tmp_path / "missing")) == {}
    (tmp_path / "bad").write_text("not a table\n")
    assert read_neighbours(str(tmp_path / "bad")) == {}
