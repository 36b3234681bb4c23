"""A real HTTP server on 127.0.0.1 serving logos for the ``wallet-check`` HEAD requests.

Paths decide the answer: ``/ok.png`` 200, ``/moved.png`` 302, ``/missing.png`` 404,
``/broken.png`` 500, ``/hang.png`` never answers (until :meth:`LogoServer.stop`).
Every request is recorded as ``(method, path)``.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_STATUS = {"/ok.png": 200, "/moved.png": 302, "/missing.png": 404, "/broken.png": 500}


class LogoServer:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self._release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                server.requests.append((self.command, self.path))
                if self.path == "/hang.png":
                    server._release.wait()
                    return
                status = _STATUS.get(self.path, 404)
                try:
                    self.send_response(status)
                    if status == 302:
                        self.send_header("Location", "/ok.png")
                    self.send_header("Content-Type", "image/png")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass

            do_HEAD = do_GET = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    def start(self) -> LogoServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
