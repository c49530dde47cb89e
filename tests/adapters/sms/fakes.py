"""Small local HTTP servers standing in for providers (Twilio's Messages API, Kannel sendsms)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    """One request the fake server got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Responder = Callable[[Seen], tuple[int, dict[str, str], bytes]]


@dataclass
class FakeServer:
    """An HTTP server on a free loopback port that records requests and answers as told."""

    respond: Responder
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(
                    self.command, self.path, dict(self.headers.items()), self.rfile.read(length)
                )
                server.seen.append(seen)
                status, headers, body = server.respond(seen)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _handle

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        """Shut the server down."""
        self.httpd.shutdown()
        self.httpd.server_close()


def json_answer(status: int, payload: Any) -> tuple[int, dict[str, str], bytes]:
    """A JSON answer for a Responder."""
    return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()
