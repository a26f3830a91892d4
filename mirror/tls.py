"""HTTPS for EGO on the LAN: a local certificate authority and the server certificate it signs.

When EGO listens beyond loopback it serves HTTPS by itself (README "HTTPS on the LAN"). The
owner may give a certificate and key of their own (``MIRROR_TLS_CERT_FILE`` and
``MIRROR_TLS_KEY_FILE``); otherwise EGO makes, on first start, a CA of its own in
``DATA_DIR/tls`` (``ca.pem``, and ``ca.key``: mode 0600, never served) and signs with it a
server certificate for EGO's names and addresses (``server.pem``, ``server.key``). The CA
certificate is what a phone or a desktop installs once (``/ca`` shows how).

:meth:`LocalCA.ensure` is called at start and once a day: it issues a new server certificate
when there is none, when it ends within :data:`RENEW_BEFORE` (a third of its life), when it
does not cover EGO's current names and addresses, or when another CA signed it. The CA's key
never leaves this folder, and nothing here talks to the network.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import itertools
import os
import socket
import ssl
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mirror.errors import ConfigError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

CA_LIFETIME = dt.timedelta(days=3650)
# Below Apple's and Chrome's 398-day ceiling, so the same rule holds if an owner moves the
# CA into a managed trust store; renewed with a third of its life left.
SERVER_LIFETIME = dt.timedelta(days=200)
RENEW_BEFORE = dt.timedelta(days=67)
CHECK_EVERY_S = 86400.0  # `mirror serve` re-runs ensure() daily
CA_FILE_NAME = "mirror-stage-ca.crt"  # the name the download route gives the CA certificate


@dataclass(frozen=True, slots=True)
class ServerNames:
    """What the server certificate must cover: DNS names and IP addresses."""

    dns: tuple[str, ...]
    ips: tuple[IPAddress, ...]

    def covered_by(self, cert: x509.Certificate) -> bool:
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            return False
        have_dns = {n.lower() for n in san.get_values_for_type(x509.DNSName)}
        have_ips = set(san.get_values_for_type(x509.IPAddress))
        return {n.lower() for n in self.dns} <= have_dns and set(self.ips) <= have_ips


def server_names(
    bind_host: str, extra: Iterable[str] = (), *, hostname: str | None = None
) -> ServerNames:
    """EGO's names and addresses: loopback, this machine's host name (and ``NAME.local`` for
    mDNS), the address it binds (every local address for a wildcard bind) and ``extra``
    (``MIRROR_TLS_NAMES``). Nothing is looked up: addresses come from the kernel's tables."""
    host = (hostname if hostname is not None else socket.gethostname()).strip().lower()
    dns = ["localhost"]
    if host and host != "localhost":
        dns.append(host)
        if "." not in host:
            dns.append(f"{host}.local")
    ips: list[IPAddress] = [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    bind = bind_host.strip()
    bound = _ip(bind)
    if bound is not None and bound.is_unspecified:
        ips += local_addresses()
    elif bound is not None:
        ips.append(bound)
    elif bind and bind != "localhost":
        dns.append(bind.lower())
    for item in extra:
        item = item.strip()
        found = _ip(item)
        if found is not None:
            ips.append(found)
        elif item:
            dns.append(item.lower())
    return ServerNames(tuple(dict.fromkeys(dns)), tuple(dict.fromkeys(ips)))


def local_addresses(
    fib_trie: Path = Path("/proc/net/fib_trie"), inet6: Path = Path("/proc/net/if_inet6")
) -> list[IPAddress]:
    """This machine's own addresses, read from the kernel (no resolver, no socket)."""
    found: list[IPAddress] = []
    try:
        lines = fib_trie.read_text().splitlines()
    except OSError:
        lines = []
    for before, line in itertools.pairwise(lines):
        # "  |-- 10.0.0.5" followed by "     /32 host LOCAL": an address of this machine.
        if "/32 host LOCAL" in line and "|--" in before:
            ip = _ip(before.split("|--", 1)[1].strip())
            if ip is not None:
                found.append(ip)
    try:
        for line in inet6.read_text().splitlines():
            raw = line.split()[0] if line.split() else ""
            if len(raw) == 32:
                ip6 = ipaddress.IPv6Address(bytes.fromhex(raw))
                if not ip6.is_link_local:  # needs a zone in a URL; browsers refuse those
                    found.append(ip6)
    except (OSError, ValueError):
        pass
    return list(dict.fromkeys(found))


def _ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


class LocalCA:
    """EGO's own CA and server certificate in one folder (``DATA_DIR/tls``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ca_cert_path = directory / "ca.pem"
        self.ca_key_path = directory / "ca.key"
        self.cert_path = directory / "server.pem"
        self.key_path = directory / "server.key"

    def ensure(self, names: ServerNames, now: dt.datetime | None = None) -> bool:
        """Make the CA if missing and (re)issue the server certificate when due; True when a
        new server certificate was written (a running server must load it)."""
        now = now or dt.datetime.now(dt.UTC)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.directory, 0o700)
        ca_cert, ca_key = self._ca(now)
        if not self._due(ca_cert, names, now):
            return False
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _server_cert(ca_cert, ca_key, key, names, now)
        _write_private(self.key_path, _key_pem(key))
        _write_public(self.cert_path, cert.public_bytes(serialization.Encoding.PEM))
        return True

    def ca_pem(self) -> bytes:
        return self.ca_cert_path.read_bytes()

    def server_cert(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_path.read_bytes())

    def _ca(self, now: dt.datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        if self.ca_cert_path.is_file() and self.ca_key_path.is_file():
            cert = x509.load_pem_x509_certificate(self.ca_cert_path.read_bytes())
            key = serialization.load_pem_private_key(self.ca_key_path.read_bytes(), None)
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise ConfigError(f"{self.ca_key_path}: not the EC key EGO made")
            os.chmod(self.ca_key_path, 0o600)
            if cert.not_valid_after_utc > now:
                return cert, key
        # None yet (or expired after ten years): a new one, which devices must trust again.
        key = ec.generate_private_key(ec.SECP384R1())
        cert = _ca_cert(key, now)
        _write_private(self.ca_key_path, _key_pem(key))
        _write_public(self.ca_cert_path, cert.public_bytes(serialization.Encoding.PEM))
        self.cert_path.unlink(missing_ok=True)  # signed by the old CA
        return cert, key

    def _due(self, ca_cert: x509.Certificate, names: ServerNames, now: dt.datetime) -> bool:
        if not (self.cert_path.is_file() and self.key_path.is_file()):
            return True
        try:
            cert = self.server_cert()
        except ValueError:
            return True
        return (
            cert.issuer != ca_cert.subject
            or cert.not_valid_after_utc - now < RENEW_BEFORE
            or cert.not_valid_before_utc > now
            or not names.covered_by(cert)
        )


def fingerprint(pem: bytes) -> str:
    """SHA-256 of a certificate, as devices show it (``AB:CD:…``)."""
    digest = x509.load_pem_x509_certificate(pem).fingerprint(hashes.SHA256())
    return ":".join(f"{b:02X}" for b in digest)


def check_owner_files(cert: Path, key: Path) -> None:
    """The owner's own certificate and key must load together; ``ConfigError`` otherwise."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except FileNotFoundError as exc:
        raise ConfigError(f"TLS: {exc.filename}: no such file") from None
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(
            f"TLS: {cert} with {key} does not load as a certificate and its key: {exc}"
        ) from None


def client_context(ca_file: Path | None) -> ssl.SSLContext:
    """What the CLI uses to reach an HTTPS EGO: the system's CAs and EGO's own, if readable."""
    context = ssl.create_default_context()
    if ca_file is not None and ca_file.is_file():
        context.load_verify_locations(cafile=str(ca_file))
    return context


def _ca_cert(key: ec.EllipticCurvePrivateKey, now: dt.datetime) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "MIRROR STAGE"),
            x509.NameAttribute(
                NameOID.COMMON_NAME, f"MIRROR STAGE local CA ({socket.gethostname()[:30]})"
            ),
        ]
    )
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA384())
    )


def _server_cert(
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    key: ec.EllipticCurvePrivateKey,
    names: ServerNames,
    now: dt.datetime,
) -> x509.Certificate:
    alt: list[x509.GeneralName] = [x509.DNSName(n) for n in names.dns]
    alt += [x509.IPAddress(ip) for ip in names.ips]
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names.dns[0])])
    ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + SERVER_LIFETIME, ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(ca_key, hashes.SHA384())
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_private(path: Path, data: bytes) -> None:
    _write(path, data, 0o600)


def _write_public(path: Path, data: bytes) -> None:
    _write(path, data, 0o644)


def _write(path: Path, data: bytes, mode: int) -> None:
    """Atomically, created with ``mode`` (a key is never readable by others, even briefly)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
