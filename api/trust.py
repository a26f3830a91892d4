"""``/ca``: how to trust EGO's local CA on a phone or a desktop, and the certificate itself.

Public (no login): a device must trust the CA before it can sign in without a warning, and a
CA certificate is public by nature. The page shows a QR code of the download address (as the
browser reached EGO: scan it with the phone), the certificate's SHA-256 fingerprint to
compare on the device, and the steps for Android, iOS/iPadOS, Windows, macOS and Linux. The
CA's private key is never served: only ``ca.pem`` is read here. Without a local CA (plain
HTTP, or the owner's own certificate) the page says so and the download answers 404. The web
UI links here (its "Certificate" link) when it is served over HTTPS.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import segno
from litestar import MediaType, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler

from mirror.tls import CA_FILE_NAME, fingerprint

CA_PAGE = "/ca"
CA_DOWNLOAD = f"/ca/{CA_FILE_NAME}"
# iOS opens a profile installer and Android a certificate installer for this type.
CA_MEDIA_TYPE = "application/x-x509-ca-cert"


def trust_routes(ca_cert: Path | None) -> list[HTTPRouteHandler]:
    pem = ca_cert.read_bytes() if ca_cert is not None else None
    public: dict[str, Any] = {"exclude_from_auth": True}

    @get(CA_PAGE, opt=public, include_in_schema=False, media_type=MediaType.HTML)
    async def ca_page(request: Request[Any, Any, Any]) -> Response[str]:
        if pem is None:
            return Response(OWNER_PAGE, media_type=MediaType.HTML)
        url = f"{str(request.base_url).rstrip('/')}{CA_DOWNLOAD}"
        return Response(
            page(url, fingerprint(pem)),
            media_type=MediaType.HTML,
            headers={"Cache-Control": "no-cache"},
        )

    @get(CA_DOWNLOAD, opt=public, include_in_schema=False)
    async def ca_download() -> Response[bytes]:
        if pem is None:
            raise NotFoundException("EGO has no local CA: it serves the owner's certificate")
        return Response(
            pem,
            media_type=CA_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{CA_FILE_NAME}"'},
        )

    return [ca_page, ca_download]


OWNER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>EGO's certificate — MIRROR STAGE</title></head>
<body style="font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto">
<h1>EGO's certificate</h1>
<p id="owner">EGO serves a certificate its owner provided (<code>MIRROR_TLS_CERT_FILE</code>),
not one of its own CA: a device that trusts the owner's certificate authority needs
nothing more, and there is no EGO CA to install.</p></body></html>
"""


def page(url: str, sha256: str) -> str:
    """The trust page for ``url`` (the certificate's download address)."""
    qr = segno.make(url, error="m").svg_inline(scale=5, border=2, dark="#111", light="#fff")
    link = escape(url)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Trust EGO's certificate — MIRROR STAGE</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 1.5rem auto;
  padding: 0 1rem; color: #111; background: #fafafa; }}
code {{ word-break: break-all; background: #eee; padding: 0 .2em; }}
.qr {{ text-align: center; }} h2 {{ margin-top: 1.6rem; font-size: 1.1rem; }}
a.download {{ display: inline-block; padding: .5em 1em; background: #1a5fb4; color: #fff;
  border-radius: 4px; text-decoration: none; }}
</style></head><body>
<h1>Trust EGO's certificate</h1>
<p>EGO serves this page over HTTPS with a certificate from its own local certificate
authority (CA), made on this EGO and known to nobody else. Install the CA certificate once on
each phone or computer that opens EGO; browsers then connect without warnings, and the web
app can be installed and receive notifications. The CA's private key never leaves EGO.</p>
<p class="qr" id="qr">{qr}</p>
<p class="qr"><a class="download" id="download" href="{link}">Download the CA certificate</a>
<br><code>{link}</code></p>
<p>Check that the device shows this SHA-256 fingerprint before you trust it:<br>
<code id="fingerprint">{sha256}</code></p>
<h2>Android</h2>
<ol><li>Scan the QR code and download the certificate (the browser may warn once: it does
not trust EGO yet).</li>
<li>Settings → Security &amp; privacy → More security settings → Encryption &amp;
credentials → Install a certificate → <b>CA certificate</b> → Install anyway, and pick
<code>{CA_FILE_NAME}</code> from Downloads.</li>
<li>Chrome on Android trusts it from then on (reopen the tab).</li></ol>
<h2>iPhone and iPad</h2>
<ol><li>Scan the QR code with the camera and open the link in <b>Safari</b>; allow the
profile download.</li>
<li>Settings → General → VPN &amp; Device Management → the MIRROR STAGE profile →
Install.</li>
<li>Settings → General → About → Certificate Trust Settings → turn on full trust for
<b>MIRROR STAGE local CA</b>.</li></ol>
<h2>Windows</h2>
<ol><li>Download the certificate, open it → Install Certificate → Local Machine → Place all
certificates in the following store → <b>Trusted Root Certification Authorities</b>.</li>
<li>Restart the browser (Firefox: Settings → Privacy &amp; Security → Certificates → View
Certificates → Authorities → Import).</li></ol>
<h2>macOS</h2>
<ol><li>Download the certificate and open it: Keychain Access adds it to the
<b>System</b> keychain.</li>
<li>Double-click it there → Trust → When using this certificate: <b>Always Trust</b>.</li></ol>
<h2>Linux</h2>
<ol><li>Chrome/Chromium: Settings → Privacy and security → Security → Manage certificates →
Authorities → Import, tick "Trust this certificate for identifying websites"; or
<code>certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n mirror-stage -i {CA_FILE_NAME}</code>.
</li>
<li>Firefox: Settings → Privacy &amp; Security → Certificates → View Certificates →
Authorities → Import.</li>
<li>System-wide (curl, <code>mirror</code> on another machine): copy it to
<code>/usr/local/share/ca-certificates/mirror-stage.crt</code> and run
<code>sudo update-ca-certificates</code>.</li></ol>
</body></html>
"""
