"""What the 2D map reads beyond links: the L3 view (subnets, gateways) and pinned positions.

The pins go through the real API (Litestar test client) into a real database migrated by
Alembic (SQLite and PostgreSQL), with a token per role; the audit log is read back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from mirror.audit import AuditLog
from mirror.auth import AuthService
from mirror.inventory import Inventory
from mirror.live import LiveHub
from mirror.model import HostState, PollStatus, Snapshot
from mirror.storage import Store
from mirror.topology_l3 import L3Node, SubnetInput, subnets
from tests.support.accounts import role_tokens
from tests.test_storage import db_url, pg_url  # noqa: F401 - SQLite and PostgreSQL fixtures

ROUTER_INFO = {
    "kind": "snmp",
    "arp": [
        {"ip": "127.77.0.5", "mac": "52:54:00:77:00:05", "interface": "ether1"},
        {"ip": "127.77.0.6", "mac": "52:54:00:77:00:06", "interface": "ether1"},
        {"ip": "127.78.0.9", "mac": "52:54:00:78:00:09", "interface": "ether2"},
    ],
}


def test_subnets_members_and_gateways() -> None:
    nodes = [
        L3Node("gw", "snmp", "127.77.0.1", ROUTER_INFO),
        L3Node("sw", "snmp", "127.77.0.2", {"kind": "snmp", "arp": []}),
        L3Node("pc", "host", "127.77.0.5", {}),
        L3Node("far", "host", "127.78.0.9", {}),
        L3Node("noaddr", "host", None, {}),
        L3Node("named", "host", "pc.lan", {}),  # not an address: in no subnet
    ]
    declared = [SubnetInput("lan", "127.77.0.0/24"), SubnetInput("dmz", "127.78.0.0/24")]
    lan, dmz = subnets(declared, nodes)
    assert (lan.id, lan.cidr, lan.members) == ("subnet:lan", "127.77.0.0/24", ["gw", "sw", "pc"])
    # The router has ARP entries in the LAN and an address there; the switch has no ARP.
    assert lan.gateways == ["gw"] and lan.arp == 2
    # The DMZ entry is on the router's table, but the router has no address in the DMZ.
    assert dmz.members == ["far"] and dmz.gateways == [] and dmz.arp == 0


def _inventory() -> Inventory:
    return Inventory.from_dict(
        {
            "subnets": [{"name": "lab", "cidr": "127.77.0.0/24"}],
            "hosts": [{"name": "pc", "address": "127.77.0.5"}],
            "snmp": [{"name": "gw", "address": "127.77.0.1", "community_env": "X"}],
        }
    )


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:  # noqa: F811 - the fixture imported above
    """An empty database migrated by Alembic: SQLite, then PostgreSQL."""
    store = Store.open(db_url)
    store.upgrade()
    yield store
    store.close()


def _client(store: Store, who: str, tokens: dict[str, str]) -> AsyncTestClient[Any]:
    client = AsyncTestClient(create_app(store, LiveHub(), _inventory()))
    client.headers["Authorization"] = f"Bearer {tokens[who]}"
    return client


async def test_topology_answer_carries_subnets(store: Store) -> None:
    tokens = role_tokens(AuthService(store.engine))
    now = 1_700_000_000.0
    store.write([Snapshot("gw", now, {}, ROUTER_INFO)], [PollStatus("gw", HostState.UP, now)])
    async with _client(store, "viewer", tokens) as client:
        answer = (await client.get("/api/topology")).json()
    [lab] = answer["subnets"]
    assert lab["name"] == "lab" and lab["gateways"] == ["gw"] and lab["arp"] == 2
    assert set(lab["members"]) == {"pc", "gw"}


async def test_pins_saved_per_layer_by_operators_and_audited(store: Store) -> None:
    tokens = role_tokens(AuthService(store.engine))
    async with _client(store, "operator", tokens) as op, _client(store, "viewer", tokens) as viewer:
        body = {"layer": "l2", "pins": {"pc": [120.5, -40], "gw": [0, 0]}}
        put = await op.put("/api/topology/pins", json=body)
        assert put.status_code == 200, put.text
        assert put.json()["pins"] == {"pc": [120.5, -40.0], "gw": [0.0, 0.0]}
        # Another layer has its own pins; a viewer reads them but cannot change them.
        assert (await viewer.get("/api/topology/pins?layer=l3")).json()["pins"] == {}
        got = (await viewer.get("/api/topology/pins?layer=l2")).json()
        assert got == {"layer": "l2", "pins": {"pc": [120.5, -40.0], "gw": [0.0, 0.0]}}
        refused = await viewer.put("/api/topology/pins", json={"layer": "l2", "pins": {"pc": None}})
        assert refused.status_code == 403
        # Unpin one, move the other.
        again = {"layer": "l2", "pins": {"pc": None, "gw": [10, 20]}}
        assert (await op.put("/api/topology/pins", json=again)).json()["pins"] == {
            "gw": [10.0, 20.0]
        }
        # Refused as a whole: an unknown layer, a coordinate out of range, a bad shape.
        for bad in (
            {"layer": "l9", "pins": {"gw": [1, 2]}},
            {
                "layer": "l2",
                "pins": {"gw": [1e9, 2]},
            },
            {"layer": "l2", "pins": {"gw": [1, 2], "pc": "here"}},
            {"layer": "l2", "pins": {"": [1, 2]}},
        ):
            answer = await op.put("/api/topology/pins", json=bad)
            assert answer.status_code == 400, (bad, answer.text)
            assert "error" in answer.json()
        assert (await op.get("/api/topology/pins?layer=l9")).status_code == 400
        assert (await viewer.get("/api/topology/pins?layer=l2")).json()["pins"] == {
            "gw": [10.0, 20.0]
        }
    entries = AuditLog(store.engine).entries(action="topology.pin")
    assert [e.actor for e in entries] == ["operator", "operator"]
    assert entries[0].detail == {"layer": "l2", "pinned": ["gw"], "unpinned": ["pc"]}
