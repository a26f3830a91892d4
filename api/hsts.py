"""``Strict-Transport-Security`` on every HTTPS answer (README "HTTPS on the LAN").

A browser that once reached EGO over HTTPS then refuses plain HTTP to it for a year, so a
spoofed ``http://`` link on the LAN cannot take the session cookie (which is ``Secure`` on
HTTPS anyway, api/auth.py). Answers over plain HTTP (loopback) carry no such header: HSTS
sent there would be ignored by browsers and would only mislead.
"""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send

HSTS = b"max-age=31536000"


def hsts_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("scheme") != "https":
            await app(scope, receive, send)
            return

        async def send_with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"strict-transport-security", HSTS))
                message["headers"] = headers
            await send(message)

        await app(scope, receive, send_with_hsts)

    return middleware
