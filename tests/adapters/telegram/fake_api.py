"""A local stand-in for the Telegram Bot API, reached by python-telegram-bot's own `Bot`.

It answers `getUpdates` from a queue of updates honouring `offset` the way Telegram does
(updates below the offset are forgotten), `getFile` and file downloads, `sendMessage`,
`answerCallbackQuery` and `setWebhook`, with the `{"ok": ..., "result": ...}` envelope of
the Bot API. `hold_offset_above` makes a `getUpdates` carrying a higher offset wait (a test
kills the gateway while it waits: the offset never reached Telegram).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from tests.adapters.sms.fakes import FakeServer, Seen

TOKEN = "123456:TEST-bot-token-AAbbCCddEEff"


def _params(seen: Seen) -> dict[str, Any]:
    ctype = seen.headers.get("Content-Type", seen.headers.get("content-type", ""))
    if "json" in ctype:
        return dict(json.loads(seen.body or b"{}"))
    out: dict[str, Any] = {}
    for key, value in parse_qsl(seen.body.decode(), keep_blank_values=True):
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


@dataclass
class FakeTelegram:
    """The fake Bot API server and what it was asked."""

    updates: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    offsets: list[int | None] = field(default_factory=list)
    errors: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # next answers
    hold_offset_above: int | None = None
    held: int | None = None  # the offset of a getUpdates call being held
    next_message_id: int = 5000
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.server = FakeServer(self._respond)

    @property
    def url(self) -> str:
        """The base URL to give the channel as `api_url`."""
        return self.server.url

    def stop(self) -> None:
        """Shut the server down."""
        self.hold_offset_above = None
        self.server.stop()

    def _respond(self, seen: Seen) -> tuple[int, dict[str, str], bytes]:
        if unquote(seen.path).startswith(f"/file/bot{TOKEN}/"):
            content = self.files.get(seen.path.rsplit("/", 1)[1])
            return (200, {}, content) if content is not None else (404, {}, b"")
        if not seen.path.startswith(f"/bot{TOKEN}/"):
            return self._answer(
                401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            )
        method = seen.path.rsplit("/", 1)[1]
        params = _params(seen)
        with self.lock:
            self.calls.append((method, params))
            if self.errors and method != "getUpdates":
                return self._answer(*self.errors.pop(0))
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._answer(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        return self._answer(200, {"ok": True, "result": handler(params)})

    @staticmethod
    def _answer(status: int, payload: Any) -> tuple[int, dict[str, str], bytes]:
        return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()

    def _m_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = params.get("offset")
        offset = int(offset) if offset is not None else None
        while self.hold_offset_above is not None and offset and offset > self.hold_offset_above:
            self.held = offset
            time.sleep(0.05)
        with self.lock:
            self.offsets.append(offset)
            if offset is not None:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            return self.updates[: int(params.get("limit") or 100)]

    def _m_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params["file_id"])
        size = len(self.files.get(file_id, b""))
        return {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_size": size,
            "file_path": f"photos/{file_id}",
        }

    def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.sent.append(params)
            self.next_message_id += 1
            message_id = self.next_message_id
        return {
            "message_id": message_id,
            "from": {"id": 123456, "is_bot": True, "first_name": "LAPOR", "username": "LaporBot"},
            "chat": {"id": int(params["chat_id"]), "type": "private", "first_name": "Warga"},
            "date": int(time.time()),
            "text": params["text"],
        }

    def _m_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        return True

    def _m_setWebhook(self, params: dict[str, Any]) -> bool:
        return True

    def _m_deleteWebhook(self, params: dict[str, Any]) -> bool:
        return True
