"""A local stand-in for Meta's Graph API: media lookup and download, Send/Messages API.

Answers are the recorded documentation payloads in `payloads/`; it records every request
(with its headers, to check the access token goes only where it should).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from tests.adapters.harness import WireRequest
from tests.adapters.sms.fakes import FakeServer, Seen, json_answer

PAYLOADS = Path(__file__).parent / "payloads"
APP_SECRET = "meta-app-secret-4f1d2c"
VERIFY_TOKEN = "meta-verify-token-9a8b"
ACCESS_TOKEN = "EAAG-test-access-token-0123456789"
PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 12


def payload(name: str) -> dict[str, Any]:
    """A recorded payload as data."""
    return dict(json.loads((PAYLOADS / name).read_text(encoding="utf-8")))


class FakeGraph:
    """The fake Graph API server."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, Any]] = []  # next answers to POSTs
        self.server = FakeServer(self._respond)

    @property
    def url(self) -> str:
        """The base URL to give the channel as `graph_url`."""
        return self.server.url

    @property
    def seen(self) -> list[Seen]:
        """Every request so far."""
        return self.server.seen

    def stop(self) -> None:
        """Shut the server down."""
        self.server.stop()

    def body(self, name: str) -> bytes:
        """A recorded webhook payload with its media URLs pointing at this server."""
        text = (PAYLOADS / name).read_text(encoding="utf-8")
        return text.replace("ATTACHMENT_URL", f"{self.url}/cdn/photo.jpg").encode()

    def _respond(self, seen: Seen) -> tuple[int, dict[str, str], bytes]:
        bearer = seen.headers.get("Authorization") == f"Bearer {ACCESS_TOKEN}"
        if seen.method == "GET" and seen.path == "/v21.0/1003383421387256" and bearer:
            info = payload("wa_media_url.json")
            info["url"] = f"{self.url}/media/1003383421387256"
            info["file_size"] = len(PHOTO)
            return json_answer(200, info)
        if seen.method == "GET" and seen.path == "/media/1003383421387256":
            return (200, {"Content-Type": "image/jpeg"}, PHOTO) if bearer else (401, {}, b"")
        if seen.method == "GET" and seen.path == "/cdn/photo.jpg":
            return 200, {"Content-Type": "image/jpeg"}, PHOTO
        if seen.method == "POST" and seen.path.endswith("/messages"):
            if self.answers:
                return json_answer(*self.answers.pop(0))
            name = "messenger_sent.json" if "/me/" in seen.path else "wa_messages_sent.json"
            return json_answer(200, payload(name))
        return json_answer(404, {"error": {"message": "Unknown path", "code": 803}})


def sign(wire: WireRequest, secret: str = APP_SECRET) -> WireRequest:
    """What Meta sends: X-Hub-Signature-256 over the raw body."""
    digest = hmac.new(secret.encode(), wire.body, hashlib.sha256).hexdigest()
    wire.headers["X-Hub-Signature-256"] = f"sha256={digest}"
    return wire


def forge(wire: WireRequest) -> WireRequest:
    """The same request signed with another app's secret."""
    return sign(wire, "another-apps-secret")
