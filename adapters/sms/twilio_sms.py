"""`twilio_sms`: SMS and WhatsApp through Twilio — signed webhooks in, Messages API out.

Twilio POSTs each incoming message as a form (MessageSid, From, To, Body, NumMedia,
MediaUrlN, Latitude...) to `/channels/<name>/inbound`, signed with `X-Twilio-Signature`
(HMAC-SHA1 of the public URL and the sorted form fields, keyed by the account's auth token).
The answer is an empty TwiML document: replies go later, through the REST API, once the
central has given a tracking id. WhatsApp numbers arrive as `whatsapp:+62…` and are
answered the same way.

Media (MMS, WhatsApp photos) are fetched after parsing, only from the configured API host,
with the account's credentials, each up to `max_media_bytes` and all within `media_budget`
seconds (Twilio waits 15 s for the answer); they become the report's attachments. One that
cannot be fetched is named in a note, its URL kept in the raw record.

Replies go through one client per channel, built whole with the adapter (the library builds
its API objects on first use, which raced between reply threads) and held by its HTTP
client to `api_base_url`'s origin: the account's credentials never go to another host,
whatever the library or `TWILIO_EDGE`/`TWILIO_REGION` would make of the URL. Each reply
carries `I-Twilio-Idempotency-Token: sp4n-reply-<reply id>`, the same on every try.
"""

from __future__ import annotations

import builtins
import mimetypes
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qsl, urlsplit

import requests
from pydantic import Field, SecretStr, model_validator
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from adapters.base import (
    ChannelOptions,
    HttpAnswer,
    InboundRequest,
    InboundResult,
    Mode,
    OutgoingReply,
    StoredOutcome,
)
from adapters.media import MediaProblem, download_capped
from adapters.sms.common import SmsAdapter, SmsFields, sms_draft, sms_reply_text
from vocabulary.drafts import AttachmentData, RawMessage
from vocabulary.errors import (
    Ignored,
    InvalidSignature,
    PayloadInvalid,
    SendError,
    is_retryable_status,
)
from vocabulary.holds import HoldReason

TWILIO_API = "https://api.twilio.com"
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_MEDIA = 10  # Twilio sends at most ten media per message
MEDIA_ONLY_BODY = "[Pesan tanpa teks, berisi {n} lampiran media]"
LOCATION_ONLY_BODY = "[Pesan tanpa teks, berisi lokasi: {place}]"


class TwilioOptions(ChannelOptions, SmsFields):
    """YAML fields of a `twilio_sms` channel."""

    type: Literal["twilio_sms"] = "twilio_sms"
    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$")
    auth_token: SecretStr
    number: str | None = None
    messaging_service_sid: str | None = Field(default=None, pattern=r"^MG[0-9a-fA-F]{32}$")
    api_base_url: str = Field(default=TWILIO_API, pattern=r"^https?://[^/\s]+")
    timeout: float = Field(default=10.0, gt=0, le=120)
    max_media_bytes: int = Field(default=5 * 1024 * 1024, ge=0, le=64 * 1024 * 1024)
    media_budget: float = Field(default=8.0, gt=0, le=12)

    @model_validator(mode="after")
    def _reply_sender(self) -> TwilioOptions:
        if self.replies and not (self.number or self.messaging_service_sid):
            raise ValueError(
                "replies need `number` (the From of replies) or `messaging_service_sid`"
            )
        return self


class _FormParams(dict[str, list[str]]):
    """Form fields with repeats kept, in the shape RequestValidator reads (`getall`)."""

    def getall(self, key: str) -> list[str]:
        """Every value of one field."""
        return self[key]


def _form(request: InboundRequest) -> _FormParams:
    params = _FormParams()
    if request.content_type != "application/x-www-form-urlencoded":
        return params
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return params
    for key, value in parse_qsl(text, keep_blank_values=True):
        params.setdefault(key, []).append(value)
    return params


class TwilioSmsAdapter(SmsAdapter[TwilioOptions]):
    """Twilio Programmable Messaging (SMS and WhatsApp)."""

    type: ClassVar[str] = "twilio_sms"
    modes: ClassVar[frozenset[Mode]] = frozenset({"push"})
    Options: ClassVar[builtins.type[ChannelOptions]] = TwilioOptions
    secret_fields: ClassVar[frozenset[str]] = frozenset({"auth_token"})
    signing_secrets: ClassVar[frozenset[str]] = frozenset({"auth_token"})
    redact_headers: ClassVar[frozenset[str]] = frozenset(
        {"authorization", "cookie", "x-twilio-signature"}
    )
    docs_url: ClassVar[str] = "https://www.twilio.com/docs/messaging/guides/webhook-request"

    def __init__(self, options: ChannelOptions, *, public_url: str = "") -> None:
        super().__init__(options, public_url=public_url)
        self.validator = RequestValidator(self.options.auth_token.get_secret_value())
        # Built whole here, before any reply thread can use it: the library makes its API
        # objects on first use, and two threads doing that at once left one call on the
        # default host (api.twilio.com) with the account's credentials.
        self.http_client = PinnedHttpClient(self.options.api_base_url, self.options.timeout)
        self._client = Client(
            self.options.account_sid,
            self.options.auth_token.get_secret_value(),
            http_client=self.http_client,
        )
        # TWILIO_EDGE / TWILIO_REGION in the environment would rewrite the host.
        self._client.edge = self._client.region = None
        self._client.api.base_url = self.options.api_base_url.rstrip("/")
        self._messages = self._client.api.v2010.account.messages
        self.http = requests.Session()  # media downloads

    def verify(self, request: InboundRequest) -> None:
        """`X-Twilio-Signature` must sign the public URL and the form fields."""
        signature = request.headers.get("x-twilio-signature")
        if not signature:
            raise InvalidSignature("header `X-Twilio-Signature` tidak ada")
        if not self.validator.validate(request.url, _form(request), str(signature)):
            raise InvalidSignature("header `X-Twilio-Signature` tidak cocok dengan permintaan")

    def parse_inbound(self, request: InboundRequest) -> InboundResult:
        """One incoming message -> one draft; a status callback is ignored."""
        form = {key: values[-1] for key, values in _form(request).items()}
        if not form:
            raise PayloadInvalid(
                "badan permintaan harus formulir `application/x-www-form-urlencoded` UTF-8",
                field="Content-Type",
            )
        if "MessageStatus" in form and "Body" not in form:
            raise Ignored(f"laporan status pengiriman ({form['MessageStatus'] or 'tanpa status'})")
        sid = form.get("MessageSid") or form.get("SmsMessageSid") or form.get("SmsSid")
        if not sid:
            raise PayloadInvalid("isian `MessageSid` wajib ada", field="MessageSid")
        sender = form.get("From", "").strip()
        if not sender:
            raise PayloadInvalid("isian `From` wajib ada", field="From")
        media = _media(form)
        body = form.get("Body", "")
        place = (
            ", ".join(form[k] for k in ("Label", "Address") if form.get(k))
            or f"{form.get('Latitude', '')}, {form.get('Longitude', '')}"
        )
        # A photo or a location with no words (or only "LAPOR") is still a complaint.
        if self.grammar.is_empty(body) and media:
            body = f"{body.strip()} {MEDIA_ONLY_BODY.format(n=len(media))}".lstrip()
        elif self.grammar.is_empty(body) and form.get("Latitude") and form.get("Longitude"):
            body = f"{body.strip()} {LOCATION_ONLY_BODY.format(place=place)}".lstrip()
        extra = {"to": form["To"]} if form.get("To") else {}
        draft = sms_draft(
            external_id=sid,
            received_at=request.received_at,
            sender=sender,
            text=body,
            grammar=self.grammar,
            region=self.options.region,
            reply_extra=extra,
        )
        if form.get("Latitude") and form.get("Longitude"):
            draft.lat, draft.lon = _float(form["Latitude"]), _float(form["Longitude"])
            draft.location_text = place
        if form.get("ProfileName") and not draft.name:
            draft.name = form["ProfileName"]
        raw = self.raw_record(request)
        raw["media"] = media
        hold = HoldReason.EMPTY if self.grammar.is_empty(body) else None
        return InboundResult([RawMessage(sid, request.received_at, raw, draft, hold=hold)])

    def fetch_media(self, message: RawMessage) -> None:
        """Download the message's media from Twilio as attachments (bounded in size and time)."""
        deadline = time.monotonic() + self.options.media_budget
        allowed = urlsplit(self.options.api_base_url).netloc.lower()
        auth = (self.options.account_sid, self.options.auth_token.get_secret_value())
        for index, media in enumerate(message.raw.get("media") or []):
            url, ctype = str(media["url"]), str(media["content_type"])
            left = deadline - time.monotonic()
            if urlsplit(url).netloc.lower() != allowed or not url.lower().startswith("http"):
                problem = "bukan di host API Twilio"
            elif left <= 0:
                problem = "waktu webhook sudah habis"
            else:
                try:
                    content = self._download(url, auth, min(left, self.options.timeout))
                except MediaProblem as exc:
                    problem = str(exc)
                else:
                    message.draft.attachments.append(
                        AttachmentData(
                            f"media-{index}{mimetypes.guess_extension(ctype) or ''}", ctype, content
                        )
                    )
                    continue
            message.draft.notes.append(
                f"media {index} ({ctype}) tidak dilampirkan: {problem};"
                " URL Twilio-nya ada di pesan mentah"
            )

    def _download(self, url: str, auth: tuple[str, str], timeout: float) -> bytes:
        return download_capped(
            self.http,
            url,
            limit=self.options.max_media_bytes,
            timeout=timeout,
            provider="Twilio",
            auth=auth,
        ).content

    def answer(self, outcomes: list[StoredOutcome]) -> HttpAnswer:
        """Empty TwiML: Twilio sends nothing back now (the acknowledgement follows)."""
        return HttpAnswer(200, EMPTY_TWIML, "text/xml")

    def client(self) -> Client:
        """The Twilio REST client, pointed at `api_base_url` (built with the adapter)."""
        return self._client

    def send_reply(self, reply: OutgoingReply) -> str | None:
        """Send through the Messages API; returns the message SID."""
        to = reply.reply_to["phone"]
        whatsapp = to.lower().startswith("whatsapp:")
        args: dict[str, Any] = {
            "to": to,
            "body": sms_reply_text(reply.text, 10 if whatsapp else self.options.max_reply_parts),
        }
        if self.options.messaging_service_sid and not whatsapp:
            args["messaging_service_sid"] = self.options.messaging_service_sid
        else:
            sender = self.options.number or reply.reply_to.get("to", "")
            if whatsapp and not sender.lower().startswith("whatsapp:"):
                sender = f"whatsapp:{sender}"
            args["from_"] = sender
        try:
            with self.http_client.reference(client_reference(reply.reply_id)):
                message = self._messages.create(**args)
        except TwilioRestException as exc:
            raise SendError(
                f"Twilio menjawab {exc.status} (galat {exc.code})",
                retryable=is_retryable_status(exc.status),
                code=str(exc.code or exc.status),
            ) from exc
        except (requests.RequestException, TwilioException) as exc:
            raise SendError(
                f"Twilio tidak terjangkau ({type(exc).__name__})", retryable=True
            ) from exc
        return str(message.sid)


def client_reference(reply_id: str) -> str:
    """The stable reference a reply carries to Twilio: the same on every try of one reply."""
    return f"sp4n-reply-{reply_id}"


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


class PinnedHttpClient(TwilioHttpClient):
    """Twilio's HTTP client held to one origin, adding the reply's idempotency token.

    A request to any other scheme or host is refused before it is made: the account's
    credentials go only to `api_base_url`, whatever the library builds. The token
    (`I-Twilio-Idempotency-Token`) is set per thread by `reference()` around one send.
    """

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.origin = _origin(base_url)
        self._reference: ContextVar[str | None] = ContextVar("twilio_reference", default=None)

    @contextmanager
    def reference(self, value: str) -> Iterator[None]:
        """Requests made inside carry `value` as their idempotency token."""
        token = self._reference.set(value)
        try:
            yield
        finally:
            self._reference.reset(token)

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """The library's request, only to the pinned origin."""
        if _origin(url) != self.origin:
            raise TwilioException("request outside api_base_url refused")
        reference = self._reference.get()
        if reference is not None:
            headers = {**(headers or {}), IDEMPOTENCY_HEADER: reference}
        return super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )


def _media(form: Mapping[str, str]) -> list[dict[str, str]]:
    try:
        count = min(int(form.get("NumMedia", "0") or 0), MAX_MEDIA)
    except ValueError:
        raise PayloadInvalid("isian `NumMedia` harus berupa angka", field="NumMedia") from None
    return [
        {
            "url": form[f"MediaUrl{i}"],
            "content_type": form.get(f"MediaContentType{i}", "application/octet-stream"),
        }
        for i in range(count)
        if form.get(f"MediaUrl{i}")
    ]


def _float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None
