"""HTTPS for ``mirror serve``: which certificate uvicorn serves, and its daily renewal.

``prepare`` runs before the server starts: the owner's certificate and key when given
(checked to load together), else EGO's local CA in ``DATA_DIR/tls`` with a server
certificate for this machine's names and addresses (mirror/tls.py). ``renew_daily`` re-runs
the CA's check once a day and loads a new certificate into the running server's SSL context:
connections made after that get it, open ones keep theirs.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path

from mirror.settings import Settings, is_loopback
from mirror.tls import CHECK_EVERY_S, LocalCA, ServerNames, check_owner_files, server_names

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServedTls:
    cert_file: Path
    key_file: Path
    ca: LocalCA | None  # None: the owner's own certificate (no CA to offer)


def prepare(settings: Settings) -> ServedTls | None:
    """What to serve HTTPS with, or None for plain HTTP (loopback, or ``MIRROR_TLS=off``)."""
    if not settings.https:
        if settings.tls_mode == "off" and not is_loopback(settings.bind_host):
            log.warning(
                "MIRROR_TLS=off: serving plain HTTP on %s; passwords and session cookies "
                "cross the LAN readable by anyone on it",
                settings.bind_host,
            )
        return None
    if settings.tls_cert_file is not None and settings.tls_key_file is not None:
        check_owner_files(settings.tls_cert_file, settings.tls_key_file)
        return ServedTls(settings.tls_cert_file, settings.tls_key_file, None)
    ca = LocalCA(settings.tls_dir)
    names = server_names(settings.bind_host, settings.tls_names)
    if ca.ensure(names):
        log.info("issued EGO's server certificate for %s", _shown(names))
    return ServedTls(ca.cert_path, ca.key_path, ca)


async def renew_daily(
    settings: Settings,
    served: ServedTls,
    context: ssl.SSLContext,
    every_s: float = CHECK_EVERY_S,
) -> None:
    """Once a day: a new server certificate when due, loaded into ``context``."""
    assert served.ca is not None
    while True:
        await asyncio.sleep(every_s)
        names = server_names(settings.bind_host, settings.tls_names)
        try:
            renewed = await asyncio.to_thread(served.ca.ensure, names)
            if renewed:
                context.load_cert_chain(served.cert_file, served.key_file)
                log.info("renewed EGO's server certificate for %s", _shown(names))
        except Exception:  # a full disk must not end the server; tried again tomorrow
            log.exception("renewing EGO's server certificate failed")


def _shown(names: ServerNames) -> str:
    return ", ".join([*names.dns, *(str(ip) for ip in names.ips)])
