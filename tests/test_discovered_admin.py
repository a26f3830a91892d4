"""The discovered page's API: MAC vendors from the shipped OUI table (made from the IEEE's own
oui.txt, no lookups), reverse name and ping as the sweep stored them, ignore and show again,
admins only. The sweep is real ICMP over loopback (tests/test_network.py's fixtures)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from mirror.auth import AuthService
from mirror.inventory import Inventory
from mirror.live import LiveHub
from mirror.oui import LOCAL, TABLE, parse_oui_txt, table_text, vendor
from mirror.settings import Settings
from mirror.storage import Store
from tests.test_network import access, monitored, store

__all__ = ["access", "monitored", "store"]  # fixtures, imported

FIXTURES = Path(__file__).parent / "fixtures"
IEEE_OUI = Path("/usr/share/ieee-data/oui.txt")


def test_oui_txt_is_parsed_and_vendors_found() -> None:
    with (FIXTURES / "oui_head.txt").open(encoding="utf-8") as f:
        pairs = dict(parse_oui_txt(f))
    assert pairs["002272"] == "American Micro-Fuel Device Corp."
    assert pairs["00D0EF"] == "IGT"
    assert table_text(pairs.items()).splitlines()[0].split("\t")[0] == min(pairs)
    assert vendor("00:d0:ef:12:34:56") == "IGT"  # from the shipped table
    assert vendor("00-D0-EF-12-34-56") == "IGT"
    assert vendor("02:00:00:00:00:09") == LOCAL  # a private (random) address
    assert vendor(None) is None and vendor("zz") is None


@pytest.mark.skipif(not IEEE_OUI.is_file(), reason="Debian ieee-data is not installed")
def test_the_shipped_table_is_the_ieee_file_made_compact() -> None:
    with IEEE_OUI.open(encoding="utf-8", errors="replace") as f:
        expected = table_text(parse_oui_txt(f))
    shipped = gzip.decompress(TABLE.read_bytes()).decode("utf-8")
    assert shipped == expected, "run scripts/oui_table.py"
    assert shipped.count("\n") > 30_000


async def test_vendor_ignore_and_show_again(
    store: Store, monitored: Inventory, tmp_path: Path
) -> None:
    settings = Settings(tmp_path / "data", "sqlite://", tmp_path / "inv.yaml", "127.0.0.1", 0)
    auth = AuthService(store.engine)
    auth.add_user("val", "correct horse battery", "operator")
    auth.add_user("ada", "correct horse battery", "admin")
    admin = auth.create_token("ada", "operate", user="ada")[1]
    operator = auth.create_token("op", "operate", user="val")[1]
    app = create_app(store, LiveHub(), monitored, settings=settings)
    async with AsyncTestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {admin}"
        listed = await client.get("/api/admin/discovered")
        assert listed.status_code == 200, listed.text
        found = {d["address"]: d for d in listed.json()}
        assert found["127.77.0.9"]["vendor"] == LOCAL and found["127.77.0.9"]["up"]
        assert found["127.77.0.10"]["vendor"] is None and found["127.77.0.10"]["ignored"] is None
        response = await client.post("/api/admin/discovered/127.77.0.10/ignore")
        assert response.status_code == 200, response.text
        found = {d["address"]: d for d in (await client.get("/api/admin/discovered")).json()}
        assert found["127.77.0.10"]["ignored"]["by"] == "ada"
        assert (settings.data_dir / "discovery_ignored.json").is_file()
        again = await client.delete("/api/admin/discovered/127.77.0.10/ignore")
        assert again.status_code == 200, again.text
        assert (await client.delete("/api/admin/discovered/127.77.0.10/ignore")).status_code == 404
        assert (await client.post("/api/admin/discovered/nope/ignore")).status_code == 400
        client.headers["Authorization"] = f"Bearer {operator}"
        for method, path in (
            ("GET", "/api/admin/discovered"),
            ("POST", "/api/admin/discovered/127.77.0.10/ignore"),
            ("GET", "/api/admin/settings"),
        ):
            assert (await client.request(method, path)).status_code == 403, path
        client.headers["Authorization"] = f"Bearer {admin}"
        shown = (await client.get("/api/admin/settings")).json()
        assert shown["retention"][0]["env"] == "MIRROR_RETENTION_RAW"
        assert shown["retention"][0]["value"] == settings.retention_raw_s
        assert shown["data_dir"]["entries"][0]["name"] == "discovery_ignored.json"
        assert (
            shown["data_dir"]["bytes"]
            == (settings.data_dir / "discovery_ignored.json").stat().st_size
        )
