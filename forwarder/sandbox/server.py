"""Serving the sandbox: in a background thread (tests, `run`) or in the foreground (CLI)."""

from __future__ import annotations

import threading

from werkzeug.serving import BaseWSGIServer, make_server

from forwarder.sandbox.app import SandboxSettings, make_app


class SandboxServer:
    """A threaded werkzeug server for the sandbox; port 0 picks a free port."""

    def __init__(
        self, settings: SandboxSettings, host: str = "127.0.0.1", port: int = 8700
    ) -> None:
        self.settings = settings
        self.server: BaseWSGIServer = make_server(host, port, make_app(settings), threaded=True)
        self.host = host
        self.port = int(self.server.server_port)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Where the sandbox answers."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="sandbox", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)


def serve(settings: SandboxSettings, host: str, port: int) -> None:
    """Serve in the foreground until interrupted."""
    server = SandboxServer(settings, host, port)
    try:
        server.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server.server_close()
