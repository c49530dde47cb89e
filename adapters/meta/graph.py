"""What Meta's channels share: the webhook handshake and signature, the Graph API over HTTP.

- `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…` is answered with the
  challenge when the verify token matches (the "Verify and save" step of the app dashboard);
- every `POST` carries `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`:
  anything else is refused with 403 and nothing is stored;
- one `POST` may batch many events (`entry[]`); each message is stored once by its id;
- media are fetched from Graph with the access token (only from Meta's hosts), replies go
  through the Send/Messages API; Graph errors map to retryable or final `SendError`s.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import requests
from pydantic import Field, SecretStr

from adapters.base import (
    Adapter,
    ChannelOptions,
    HttpAnswer,
    InboundRequest,
    OutgoingReply,
    StoredOutcome,
)
from adapters.media import MediaProblem, download_capped
from vocabulary.drafts import AttachmentData, RawMessage
from vocabulary.errors import InvalidSignature, PayloadInvalid, SendError

GRAPH_URL = "https://graph.facebook.com"
SIGNATURE_HEADER = "x-hub-signature-256"
WINDOW = dt.timedelta(hours=24)
# Graph error codes worth another try: rate limits and temporary trouble.
RETRYABLE_CODES = frozenset({1, 2, 4, 17, 32, 341, 613, 80007, 130429, 131000, 131016, 131056})
MEDIA_ONLY_BODY = "[Pesan tanpa teks, berisi {n} lampiran]"
LOCATION_ONLY_BODY = "[Lokasi dibagikan: {place}]"


class MetaOptions(ChannelOptions):
    """YAML fields every Meta channel has."""

    app_secret: SecretStr
    verify_token: SecretStr
    access_token: SecretStr
    graph_url: str = Field(default=GRAPH_URL, pattern=r"^https?://[^/\s]+")
    api_version: str = Field(default="v21.0", pattern=r"^v\d+\.\d+$")
    timeout: float = Field(default=10.0, gt=0, le=120)
    max_media_bytes: int = Field(default=5 * 1024 * 1024, ge=0, le=100 * 1024 * 1024)
    media_budget: float = Field(default=8.0, gt=0, le=15)
    # Hosts (or `.suffix`es) media may come from; the access token only ever goes to these.
    media_hosts: list[str] = Field(
        default_factory=lambda: [".fbsbx.com", ".fbcdn.net", ".cdninstagram.com"]
    )


MetaOptionsT = TypeVar("MetaOptionsT", bound=MetaOptions)


class MetaAdapter(Adapter[MetaOptionsT]):
    """Base of the Meta channels: handshake, signature, Graph calls, media, answers."""

    modes = frozenset({"push"})
    methods = frozenset({"GET", "POST"})
    secret_fields: ClassVar[frozenset[str]] = frozenset(
        {"app_secret", "verify_token", "access_token"}
    )
    signing_secrets: ClassVar[frozenset[str]] = frozenset({"app_secret", "verify_token"})
    redact_headers: ClassVar[frozenset[str]] = frozenset(
        {"authorization", "cookie", SIGNATURE_HEADER}
    )
    object_name: ClassVar[str]  # the payload's "object"
    reply_window: ClassVar[bool] = True

    def __init__(self, options: ChannelOptions, *, public_url: str = "") -> None:
        super().__init__(options, public_url=public_url)
        self.http = requests.Session()

    @classmethod
    def https_webhook(cls, options: ChannelOptions) -> bool:
        """Always: Meta reads every message through the webhook, at an https callback URL."""
        return True

    def close(self) -> None:
        """Drop pooled connections."""
        self.http.close()

    # --- webhook -----------------------------------------------------------------------
    def handshake(self, request: InboundRequest) -> HttpAnswer | None:
        """Meta's subscription check: echo `hub.challenge` when the verify token matches."""
        if request.method != "GET" or "hub.mode" not in request.query:
            return None
        token = str(request.query.get("hub.verify_token", ""))
        expected = self.options.verify_token.get_secret_value()
        if request.query.get("hub.mode") != "subscribe" or not hmac.compare_digest(
            token.encode(), expected.encode()
        ):
            return HttpAnswer.json(403, {"error": "verify_token does not match"})
        challenge = str(request.query.get("hub.challenge", ""))[:256]
        return HttpAnswer(200, challenge.encode(), "text/plain")

    def verify(self, request: InboundRequest) -> None:
        """`X-Hub-Signature-256` must be the app secret's HMAC of the raw body."""
        given = str(request.headers.get(SIGNATURE_HEADER) or "")
        if not given.startswith("sha256="):
            raise InvalidSignature("header `X-Hub-Signature-256` tidak ada")
        secret = self.options.app_secret.get_secret_value().encode()
        expected = "sha256=" + hmac.new(secret, request.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(given.lower().encode(), expected.encode()):
            raise InvalidSignature(
                "header `X-Hub-Signature-256` tidak cocok dengan badan permintaan"
            )

    def payload(self, request: InboundRequest) -> list[dict[str, Any]]:
        """The JSON body's `entry[]`, after checking it is this channel's object."""
        try:
            data = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise PayloadInvalid("badan permintaan bukan JSON", field="body") from None
        if not isinstance(data, dict) or data.get("object") != self.object_name:
            raise PayloadInvalid(
                f"isian `object` harus bernilai `{self.object_name}`", field="object"
            )
        entries = data.get("entry")
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise PayloadInvalid("isian `entry` harus berupa daftar objek", field="entry")
        return entries

    def answer(self, outcomes: list[StoredOutcome]) -> HttpAnswer:
        """Always 200 once stored (Meta retries anything else for hours)."""
        return HttpAnswer.json(
            200,
            {
                "status": "ok",
                "messages": [{"id": o.report_id, "status": o.status} for o in outcomes],
            },
        )

    # --- Graph API -------------------------------------------------------------------------
    def graph(self, path: str) -> str:
        """A Graph API URL."""
        return f"{self.options.graph_url.rstrip('/')}/{self.options.api_version}/{path.lstrip('/')}"

    def auth(self) -> dict[str, str]:
        """The bearer header (never logged, never stored)."""
        return {"Authorization": f"Bearer {self.options.access_token.get_secret_value()}"}

    def post_graph(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST JSON to Graph; a failure becomes a `SendError` (retryable or final)."""
        try:
            response = self.http.post(
                self.graph(path), json=body, headers=self.auth(), timeout=self.options.timeout
            )
        except requests.RequestException as exc:
            raise SendError(
                f"Graph API tidak terjangkau ({type(exc).__name__})", retryable=True
            ) from None
        if response.status_code // 100 == 2:
            try:
                return dict(response.json())
            except ValueError:
                return {}
        raise graph_error(response)

    def media_allowed(self, url: str) -> bool:
        """Whether a media URL is on Graph's host or one of `media_hosts`."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            return False
        if host == (urlsplit(self.options.graph_url).hostname or "").lower():
            return True
        return any(
            host == h.lower().lstrip(".") or (h.startswith(".") and host.endswith(h.lower()))
            for h in self.options.media_hosts
        )

    def download(self, url: str, *, with_token: bool, timeout: float) -> bytes:
        """GET a media URL, streamed and capped at `max_media_bytes`."""
        if not self.media_allowed(url):
            raise MediaProblem("bukan di host media Meta")
        headers = self.auth() if with_token else {}
        return download_capped(
            self.http,
            url,
            limit=self.options.max_media_bytes,
            timeout=timeout,
            provider="Meta",
            headers=headers,
        ).content

    def fetch_media(self, message: RawMessage) -> None:
        """Download each media the message points at, within the budget; notes for the rest."""
        deadline = time.monotonic() + self.options.media_budget
        for index, media in enumerate(message.raw.get("media") or []):
            ctype = str(media.get("content_type") or "application/octet-stream")
            left = deadline - time.monotonic()
            try:
                if left <= 0:
                    raise MediaProblem("waktu webhook sudah habis")
                content = self.fetch_one(media, min(left, self.options.timeout))
            except MediaProblem as exc:
                message.draft.notes.append(
                    f"media {index} ({ctype}) tidak dilampirkan: {exc}; rujukannya ada di pesan"
                    " mentah"
                )
                continue
            name = str(media.get("filename") or f"media-{index}")
            message.draft.attachments.append(AttachmentData(name, ctype, content))

    def fetch_one(self, media: Mapping[str, Any], timeout: float) -> bytes:
        """One media file's bytes (per channel: by id through Graph, or by URL)."""
        raise NotImplementedError


def graph_error(response: requests.Response) -> SendError:
    """A Graph error answer as a SendError: 429, 5xx and rate-limit codes are retryable."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    code = error.get("code")
    message = str(error.get("message") or response.reason or "error")[:200]
    retryable = (
        response.status_code == 429 or response.status_code >= 500 or code in RETRYABLE_CODES
    )
    return SendError(
        f"Graph API menjawab {response.status_code} (galat {code}): {message}",
        retryable=retryable,
        code=str(code or response.status_code),
    )


def timestamp(value: Any, fallback: dt.datetime) -> dt.datetime:
    """A Unix time in seconds (WhatsApp) or milliseconds (Messenger) as UTC."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return fallback
    if number > 10**11:
        number /= 1000
    try:
        return dt.datetime.fromtimestamp(number, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return fallback


def window_open(reply: OutgoingReply, now: dt.datetime) -> bool:
    """Whether the citizen wrote within the last 24 hours (Meta's customer-service window).

    The latest of `reply_to["at"]` (when the message this reply answers arrived: the
    report's own message, or the status question) and `last_contact` (the citizen's last
    message of any kind: a follow-up, a conversation turn...); a little margin keeps a reply
    from racing the edge. Closed when the provider already said so (`window_closed`).
    """
    if reply.window_closed:
        return False
    times = [reply.last_contact] if reply.last_contact is not None else []
    with contextlib.suppress(ValueError):
        times.append(dt.datetime.fromisoformat(reply.reply_to.get("at", "")))
    aware = [t for t in times if t.tzinfo is not None]
    return bool(aware) and now - max(aware) < WINDOW - dt.timedelta(minutes=5)
