"""The pure topology model: LLDP links both ways, unknown neighbours, FDB placement, cables."""

from __future__ import annotations

from typing import Any

from mirror.topology import CableInput, NodeInput, build


def _switch(
    name: str, mac: str, lldp: list[dict[str, Any]], fdb: list[tuple[str, str]]
) -> NodeInput:
    return NodeInput(
        name, "snmp", None, None, "up",
        info={
            "interfaces": [{"name": f"p{i}", "mac": None} for i in range(1, 9)],
            "lldp": {"chassis_id": mac, "neighbours": lldp},
            "fdb": [{"mac": m, "port": p, "vlan": None} for m, p in fdb],
            "arp": [],
        },
        metrics={"net.rx_bytes_per_s[p8]": 10.0, "net.tx_bytes_per_s[p8]": 20.0},
    )  # fmt: skip


def _row(port: str, chassis: str, their_port: str, name: str | None = None) -> dict[str, Any]:
    return {
        "local_port": port, "chassis_id": chassis, "chassis_kind": "mac",
        "port_id": their_port, "port_kind": "interface-name", "port_descr": None,
        "sys_name": name, "addresses": [],
    }  # fmt: skip


HOST_MAC = "02:00:00:00:00:aa"


def _lab() -> list[NodeInput]:
    core = _switch(
        "core", "02:00:00:00:00:01",
        [_row("p8", "02:00:00:00:00:02", "p1"), _row("p3", "aa:bb:cc:dd:ee:ff", "eth0", "esx-9")],
        [(HOST_MAC, "p8"), ("02:00:00:00:00:bb", "p8")],
    )  # fmt: skip
    edge = _switch(
        "edge", "02:00:00:00:00:02", [_row("p1", "02:00:00:00:00:01", "p8")], [(HOST_MAC, "p5")]
    )
    pc = NodeInput("pc", "host", "127.77.0.5", HOST_MAC, "up")
    return [core, edge, pc]


def test_lldp_seen_from_both_ends_is_one_link_with_counters() -> None:
    topo = build(_lab())
    lldp = [link for link in topo.links if link.sources == ["lldp"] and "edge" in link.id]
    assert len(lldp) == 1
    [uplink] = lldp
    assert {(uplink.a.node, uplink.a.port), (uplink.b.node, uplink.b.port)} == {
        ("core", "p8"),
        ("edge", "p1"),
    }
    assert uplink.utilisation is not None and uplink.utilisation.tx_bytes_per_s == 20.0


def test_unknown_lldp_neighbour_becomes_a_discovered_node() -> None:
    topo = build(_lab())
    [esx] = [n for n in topo.nodes if n.kind == "discovered"]
    assert (esx.id, esx.label, esx.mac) == ("lldp:aa:bb:cc:dd:ee:ff", "esx-9", "aa:bb:cc:dd:ee:ff")


def test_host_placed_on_access_port_not_on_uplink() -> None:
    topo = build(_lab())
    [placed] = [link for link in topo.links if "fdb" in link.sources]
    assert (placed.a.node, placed.a.port, placed.b.node) == ("edge", "p5", "pc")


def test_cable_merges_with_discovered_link_and_keeps_label() -> None:
    cable = CableInput(("edge", "p1"), ("core", "p8"), "trunk T-1")
    topo = build(_lab(), [cable])
    [uplink] = [link for link in topo.links if "cable" in link.sources]
    assert sorted(uplink.sources) == ["cable", "lldp"] and uplink.label == "trunk T-1"
    assert len(topo.links) == 3  # uplink, esx-9, pc


def test_a_cable_is_confirmed_by_the_mac_table_or_shown_beside_where_the_host_is_seen() -> None:
    def pc_links(cables: list[CableInput]) -> list[tuple[str, list[str]]]:
        topo = build(_lab(), cables)
        return sorted(
            (link.id, link.sources) for link in topo.links if "pc" in (link.a.node, link.b.node)
        )

    unknown_end = CableInput(("pc", None), ("x", None), None)  # "x" is in no inventory: ignored
    # The edge switch learnt pc's MAC on p5: a cable documented there is confirmed by it.
    assert pc_links([CableInput(("pc", "eth0"), ("edge", "p5"), None), unknown_end]) == [
        ("pc:eth0--edge:p5", ["cable", "fdb"])
    ]
    # Documented on another switch's port: the cable as documented, and where pc really is.
    assert pc_links([CableInput(("pc", "eth0"), ("core", "p2"), None), unknown_end]) == [
        ("edge:p5--pc:", ["fdb"]),
        ("pc:eth0--core:p2", ["cable"]),
    ]


def test_empty_or_garbage_info_gives_nodes_without_links() -> None:
    nodes = [
        NodeInput("sw", "snmp", None, None, "timeout", info={}),
        NodeInput("sw2", "snmp", None, None, "up", info={"lldp": {"neighbours": [{"x": 1}]},
                                                          "fdb": [{"mac": 5}]}),
    ]  # fmt: skip
    topo = build(nodes)
    assert [n.id for n in topo.nodes] == ["sw", "sw2"] and topo.links == []
