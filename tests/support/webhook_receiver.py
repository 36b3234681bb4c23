"""A real HTTP webhook receiver on loopback that verifies Standard Webhooks signatures."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    message_id: str
    type: str
    card: str | None
    data: dict[str, Any]
    verified: bool
    answered: int


@dataclass
class Receiver:
    url: str
    secret: str = ""
    #: Decides the answer per request: returns (status, seconds to wait first).
    behaviour: Callable[[dict[str, Any]], tuple[int, float]] = lambda body: (200, 0.0)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def delivered(self) -> list[Received]:
        """The requests answered 2xx, in arrival order."""
        with self.lock:
            return [r for r in self.received if 200 <= r.answered < 300]

    def types(self) -> list[str]:
        return [r.type for r in self.delivered()]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length).decode("utf-8")
            headers = {k.lower(): v for k, v in self.headers.items()}
            verified = False
            if receiver.secret:
                try:
                    Webhook(receiver.secret).verify(raw, headers)
                    verified = True
                except WebhookVerificationError:
                    verified = False
            body = json.loads(raw)
            status, wait = receiver.behaviour(body)
            if wait:
                time.sleep(wait)
            card = (body.get("data") or {}).get("card", {}).get("number")
            with receiver.lock:
                receiver.received.append(
                    Received(
                        message_id=headers.get("webhook-id", ""),
                        type=body.get("type", ""),
                        card=card,
                        data=body.get("data") or {},
                        verified=verified,
                        answered=status,
                    )
                )
            try:
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender gave up waiting (timeout test)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    receiver = Receiver(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_port}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
