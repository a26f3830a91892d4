"""HTTPS on the LAN (issue 16): EGO's local CA, the server certificate, HSTS, Secure cookies.

A real ``mirror serve`` bound to 127.0.0.5 with ``MIRROR_TLS=on`` (the setting that treats an
address as LAN: the suite never binds a real LAN address), then Debian Chromium twice: one
whose NSS database (``certutil``, as a desktop user's ``~/.pki/nssdb``) trusts EGO's CA loads
the page, signs in and gets a ``Secure`` cookie; one without that trust refuses the site.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import ssl
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from cryptography import x509

from ego import https
from mirror.errors import ConfigError
from mirror.settings import Settings
from mirror.tls import (
    RENEW_BEFORE,
    SERVER_LIFETIME,
    LocalCA,
    check_owner_files,
    fingerprint,
    server_names,
)
from tests.support.browser import CHROMIUM, launch
from tests.support.sshd import free_port

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
ADDRESS = "127.0.0.5"
PASSWORD = "correct horse battery"
NOW = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)


def _env(data: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIRROR_")}
    return {**env, "MIRROR_DATA_DIR": str(data), **more}


# --- the CA and the certificate, with the clock in the test's hands ----------------------


def test_ca_is_made_once_with_a_private_key_only_its_owner_reads(tmp_path: Path) -> None:
    ca = LocalCA(tmp_path / "tls")
    names = server_names(ADDRESS, ["ego.lan"], hostname="egobox")
    assert ca.ensure(names, NOW) is True
    assert stat.S_IMODE(ca.ca_key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(ca.key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(ca.directory.stat().st_mode) == 0o700
    ca_pem = ca.ca_pem()
    assert ca.ensure(names, NOW + dt.timedelta(days=1)) is False  # nothing due
    assert ca.ca_pem() == ca_pem

    cert = ca.server_cert()
    ca_cert = x509.load_pem_x509_certificate(ca_pem)
    cert.verify_directly_issued_by(ca_cert)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {
        "localhost",
        "egobox",
        "egobox.local",
        "ego.lan",
    }
    assert ipaddress.ip_address(ADDRESS) in san.get_values_for_type(x509.IPAddress)
    assert cert.not_valid_after_utc - NOW < SERVER_LIFETIME + dt.timedelta(minutes=1)
    assert ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_server_certificate_is_renewed_before_expiry_and_when_names_change(
    tmp_path: Path,
) -> None:
    ca = LocalCA(tmp_path / "tls")
    names = server_names(ADDRESS, hostname="egobox")
    ca.ensure(names, NOW)
    first = ca.server_cert()
    # A day before the renewal window: kept. Inside it: a new one, by the same CA.
    early = NOW + SERVER_LIFETIME - RENEW_BEFORE - dt.timedelta(days=1)
    assert ca.ensure(names, early) is False
    late = early + dt.timedelta(days=2)
    assert ca.ensure(names, late) is True
    second = ca.server_cert()
    assert second.serial_number != first.serial_number
    assert second.not_valid_after_utc > late + RENEW_BEFORE
    second.verify_directly_issued_by(x509.load_pem_x509_certificate(ca.ca_pem()))
    # EGO moved to another address: a certificate that covers it, the same day.
    moved = server_names("127.0.0.9", hostname="egobox")
    assert ca.ensure(moved, late) is True
    san = ca.server_cert().extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert ipaddress.ip_address("127.0.0.9") in san.value.get_values_for_type(x509.IPAddress)


def test_wildcard_bind_covers_this_machines_addresses(tmp_path: Path) -> None:
    fib = tmp_path / "fib_trie"
    # Captured shape of /proc/net/fib_trie (a machine with 10.0.0.5 on eth0).
    fib.write_text(
        "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 0.0.0.0\n        /0 universe UNICAST\n"
        "     +-- 10.0.0.0/24 2 0 2\n        |-- 10.0.0.5\n           /32 host LOCAL\n"
        "     |-- 127.0.0.1\n        /32 host LOCAL\n"
    )
    inet6 = tmp_path / "if_inet6"
    inet6.write_text(
        "00000000000000000000000000000001 01 80 10 80       lo\n"
        "fe800000000000000000000000000001 02 40 20 80     eth0\n"
    )
    from mirror.tls import local_addresses

    found = local_addresses(fib, inet6)
    assert found == [
        ipaddress.ip_address("10.0.0.5"),
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    names = server_names("0.0.0.0", hostname="egobox")
    assert ipaddress.ip_address("127.0.0.1") in names.ips


def test_https_beyond_loopback_plain_http_only_on_loopback_or_opt_out() -> None:
    def https_for(**env: str) -> bool:
        return Settings.from_env({"MIRROR_DATA_DIR": "/x", **env}).https

    assert https_for() is False  # 127.0.0.1 by default
    assert https_for(MIRROR_BIND="localhost") is False
    assert https_for(MIRROR_BIND="0.0.0.0") is True
    assert https_for(MIRROR_BIND="::") is True
    assert https_for(MIRROR_BIND="192.168.1.20") is True
    assert https_for(MIRROR_BIND="ego.lan") is True
    assert https_for(MIRROR_BIND="0.0.0.0", MIRROR_TLS="off") is False  # the owner's opt-out
    assert https_for(MIRROR_BIND=ADDRESS, MIRROR_TLS="on") is True
    with pytest.raises(ConfigError, match="MIRROR_TLS must be"):
        https_for(MIRROR_TLS="maybe")
    with pytest.raises(ConfigError, match="go together"):
        https_for(MIRROR_TLS_CERT_FILE="/etc/ssl/ego.pem")


def test_owner_certificate_is_served_as_given_and_checked(tmp_path: Path) -> None:
    owner = LocalCA(tmp_path / "owner")  # stands in for the owner's own PKI
    owner.ensure(server_names(ADDRESS, hostname="egobox"), NOW)
    env = {
        "MIRROR_DATA_DIR": str(tmp_path / "data"),
        "MIRROR_BIND": "0.0.0.0",
        "MIRROR_TLS_CERT_FILE": str(owner.cert_path),
        "MIRROR_TLS_KEY_FILE": str(owner.key_path),
    }
    served = https.prepare(Settings.from_env(env))
    assert served is not None and served.ca is None
    assert served.cert_file == owner.cert_path
    assert not (tmp_path / "data" / "tls").exists()  # no CA of EGO's own
    # No local CA to offer: /ca says so, and there is nothing to download.
    from litestar import Litestar
    from litestar.testing import TestClient

    from api.trust import trust_routes

    with TestClient(Litestar(trust_routes(None))) as http:
        assert 'id="owner"' in http.get("/ca").text
        assert http.get("/ca/mirror-stage-ca.crt").status_code == 404
    with pytest.raises(ConfigError, match="does not load"):
        check_owner_files(owner.cert_path, owner.ca_key_path)  # a key of another certificate
    with pytest.raises(ConfigError, match="no such file"):
        check_owner_files(tmp_path / "none.pem", owner.key_path)


# --- a real EGO over HTTPS, real browsers -----------------------------------------------


@dataclass
class Ego:
    url: str
    data: Path
    totp_secret: str


@pytest.fixture(scope="module")
def ego(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ego]:
    data = tmp_path_factory.mktemp("https")
    inventory = data / "inventory.yaml"
    inventory.write_text("hosts: []\n")
    port = free_port(ADDRESS)
    env = _env(
        data,
        MIRROR_BIND=ADDRESS,
        MIRROR_PORT=str(port),
        MIRROR_TLS="on",
        MIRROR_INVENTORY=str(inventory),
        MIRROR_BACKUP_KEEP="0",
    )
    log = data / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
        )
    try:
        ca_file = data / "tls" / "ca.pem"
        deadline = time.monotonic() + 40
        while True:
            assert proc.poll() is None, f"mirror serve exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"no HTTPS answer:\n{log.read_text()}"
            if ca_file.exists():
                try:
                    ok = httpx.get(
                        f"https://{ADDRESS}:{port}/api/health", verify=_trust(ca_file), timeout=2
                    )
                    if ok.status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
            time.sleep(0.2)
        from mirror.auth import AuthService
        from mirror.storage import Store

        with Store.open(f"sqlite:///{data / 'mirror.db'}") as store:
            secret = AuthService(store.engine).add_user("owner", PASSWORD, "admin").totp_secret
        yield Ego(f"https://{ADDRESS}:{port}/", data, secret)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _trust(ca_file: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_file))


def _nssdb(home: Path, ca_file: Path | None) -> Path:
    """A desktop user's NSS database (what Chromium on Linux trusts), with EGO's CA or not."""
    db = home / ".pki" / "nssdb"
    db.mkdir(parents=True)
    subprocess.run(
        ["certutil", "-N", "-d", f"sql:{db}", "--empty-password"], check=True, capture_output=True
    )
    if ca_file is not None:
        subprocess.run(
            ["certutil", "-A", "-d", f"sql:{db}", "-t", "C,,", "-n", "mirror-stage", "-i", ca_file],
            check=True,
            capture_output=True,
        )
    return home


needs_browser = pytest.mark.skipif(
    not CHROMIUM.exists() or shutil.which("certutil") is None,
    reason="Debian chromium and certutil (libnss3-tools) are needed: scripts/setup.sh --test",
)


@needs_browser
def test_browser_that_trusts_the_ca_loads_signs_in_and_gets_secure_cookie(
    ego: Ego, tmp_path: Path
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    home = _nssdb(tmp_path / "home", ego.data / "tls" / "ca.pem")
    with sync_api.sync_playwright() as playwright:
        browser = launch_with_home(playwright, home)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 800})
            response = page.goto(ego.url)
            assert response is not None and response.ok
            assert response.headers.get("strict-transport-security") == "max-age=31536000"
            security = response.security_details()
            assert security is not None and security.get("protocol", "").startswith("TLS")
            page.wait_for_selector("form input[name=name]")
            page.fill("input[name=name]", "owner")
            page.fill("input[name=password]", PASSWORD)
            page.fill("input[name=code]", pyotp.TOTP(ego.totp_secret).now())
            page.click("button[type=submit]")
            page.wait_for_function("!document.querySelector('form input[name=code]')")
            page.wait_for_selector("#link.live", timeout=15_000)  # the live stream over wss://
            assert page.get_attribute("#trust-ca", "href") == "/ca"  # only shown on https
            page.screenshot(path=str(ARTIFACTS / "https-fleet.png"))
            cookies = {c["name"]: c for c in page.context.cookies()}
            session = cookies["mirror_session"]
            assert session["secure"] is True and session["httpOnly"] is True

            # The trust page: QR code of the download address, the fingerprint, the steps.
            response = page.goto(ego.url + "ca")
            assert response is not None and response.ok
            assert page.locator("#qr svg").count() == 1
            pem = (ego.data / "tls" / "ca.pem").read_bytes()
            assert page.inner_text("#fingerprint") == fingerprint(pem)
            assert page.get_attribute("#download", "href") == ego.url + "ca/mirror-stage-ca.crt"
            for heading in ("Android", "iPhone and iPad", "Windows", "macOS", "Linux"):
                assert page.locator("h2", has_text=heading).count() == 1
            page.screenshot(path=str(ARTIFACTS / "https-trust-page.png"), full_page=True)
        finally:
            browser.close()


def launch_with_home(playwright: Any, home: Path) -> Any:
    """Chromium with HOME pointing at ``home``: its NSS database is the trust store."""
    return launch(playwright, env={**os.environ, "HOME": str(home)})


@needs_browser
def test_browser_without_the_ca_refuses_the_site(ego: Ego, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    home = _nssdb(tmp_path / "home", None)
    with sync_api.sync_playwright() as playwright:
        browser = launch_with_home(playwright, home)
        try:
            page = browser.new_page()
            with pytest.raises(sync_api.Error, match="ERR_CERT_AUTHORITY_INVALID"):
                page.goto(ego.url)
        finally:
            browser.close()


def test_ca_download_is_the_certificate_and_never_the_key(ego: Ego) -> None:
    ca_file = ego.data / "tls" / "ca.pem"
    with httpx.Client(base_url=ego.url, verify=_trust(ca_file), timeout=10) as http:
        got = http.get("/ca/mirror-stage-ca.crt")
        assert got.status_code == 200
        assert got.headers["content-type"].startswith("application/x-x509-ca-cert")
        assert got.content == ca_file.read_bytes()
        assert got.headers["strict-transport-security"] == "max-age=31536000"
        key = (ego.data / "tls" / "ca.key").read_bytes()
        for path in ("/ca/ca.key", "/ca/../tls/ca.key", "/tls/ca.key", "/ca.key"):
            answer = http.get(path)
            assert key not in answer.content
            assert answer.status_code != 200 or b"PRIVATE KEY" not in answer.content
        assert b"PRIVATE KEY" not in http.get("/ca").content
    # The plain-HTTP scheme on the HTTPS port gets nothing.
    with pytest.raises(httpx.HTTPError):
        httpx.get(ego.url.replace("https://", "http://") + "api/health", timeout=5)


def test_cli_reaches_an_https_ego_trusting_its_ca_and_refuses_without(ego: Ego) -> None:
    port = ego.url.rsplit(":", 1)[1].strip("/")
    env = _env(ego.data, MIRROR_BIND=ADDRESS, MIRROR_PORT=port, MIRROR_TLS="on")
    env["MIRROR_INVENTORY"] = str(ego.data / "inventory.yaml")
    cli = [sys.executable, "-m", "cli", "alerts", "list"]
    done = subprocess.run(cli, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "no alerts" in done.stdout
    # Another data directory (no CA to trust): refused with the reason, not bypassed.
    other = {**env, "MIRROR_DATA_DIR": str(ego.data / "elsewhere"), "MIRROR_TOKEN": "mst_x"}
    done = subprocess.run(cli, env=other, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "certificate is not trusted" in done.stderr


async def test_running_server_takes_the_renewed_certificate(tmp_path: Path) -> None:
    """The daily check re-issues a certificate that is due and loads it into the live SSL
    context: the next handshake gets the new one, without a restart."""
    import asyncio

    settings = Settings.from_env(
        {"MIRROR_DATA_DIR": str(tmp_path), "MIRROR_BIND": ADDRESS, "MIRROR_TLS": "on"}
    )
    ca = LocalCA(settings.tls_dir)
    names = server_names(settings.bind_host, settings.tls_names)
    # Issued 190 days ago: 10 days left, inside the renewal window.
    ca.ensure(names, dt.datetime.now(dt.UTC) - dt.timedelta(days=190))
    served = https.prepare(settings)  # at start: due, so renewed already
    assert served is not None and served.ca is not None
    # Make it due again, then serve with it as uvicorn would.
    ca.ensure(names, dt.datetime.now(dt.UTC) - dt.timedelta(days=190))
    old = ca.server_cert().serial_number
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(served.cert_file, served.key_file)
    server = await asyncio.start_server(lambda r, w: w.close(), ADDRESS, 0, ssl=context)
    port = server.sockets[0].getsockname()[1]

    async def serial() -> int:
        trust = _trust(ca.ca_cert_path)
        _reader, writer = await asyncio.open_connection(ADDRESS, port, ssl=trust)
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        writer.close()
        return x509.load_der_x509_certificate(der).serial_number

    try:
        assert await serial() == old
        renewal = asyncio.create_task(https.renew_daily(settings, served, context, every_s=0.05))
        for _ in range(100):
            if ca.server_cert().serial_number != old:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)  # loaded right after it is written
        renewal.cancel()
        new = ca.server_cert()
        assert new.serial_number != old
        assert new.not_valid_after_utc - dt.datetime.now(dt.UTC) > RENEW_BEFORE
        assert await serial() == new.serial_number
    finally:
        server.close()
        await server.wait_closed()
