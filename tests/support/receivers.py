"""Notification receivers on loopback: an HTTP endpoint (webhook, ntfy, Gotify) and SMTP."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    body: bytes
    at: float  # time.time() when it arrived
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class HttpReceiver:
    port: int
    got: list[Received] = field(default_factory=list)
    status: int = 200  # what it answers (500: a refusing channel)
    ok_status: int = 200  # the success code (a push service answers 201)
    hang_s: float = 0.0  # wait this long before answering (a hanging channel)
    cond: threading.Condition = field(default_factory=threading.Condition)

    async def arrived(self, n: int, timeout_s: float = 10.0) -> list[Received]:
        """What arrived once ``n`` messages have (or the timeout passed), without blocking
        the event loop that sends them."""
        deadline = time.monotonic() + timeout_s
        while len(self.got) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return list(self.got)

    def wait_for(self, n: int, timeout_s: float = 10.0) -> list[Received]:
        with self.cond:
            self.cond.wait_for(lambda: len(self.got) >= n, timeout_s)
            return list(self.got)


@contextmanager
def http_receiver() -> Iterator[HttpReceiver]:
    receiver: HttpReceiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            if receiver.hang_s:
                time.sleep(receiver.hang_s)
            with receiver.cond:
                if receiver.status == 200:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    receiver.got.append(Received(self.path, body, time.time(), headers))
                    receiver.cond.notify_all()
            self.send_response(receiver.status if receiver.status != 200 else receiver.ok_status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = HttpReceiver(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Mailbox:
    port: int
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox(port)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            box.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
