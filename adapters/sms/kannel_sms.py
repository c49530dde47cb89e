"""`kannel_sms`: a Kannel SMS gateway — its sms-service calls us, its sendsms answers the citizen.

Kannel's smsbox fetches `get-url` (GET, escape codes in the query) or `post-url` for every
incoming SMS. Point a catch-all sms-service at this channel::

    group = sms-service
    keyword = default
    get-url = "http://gw/channels/NAME/inbound?sender=%p&receiver=%P&text=%b&time=%t&id=%I&charset=%C&coding=%c&secret=SECRET"
    max-messages = 0      # never turn our answer into an SMS
    omit-empty = true
    catch-all = true

`%b` is the text's bytes as they are, read by `coding`/`charset` (UTF-8, UTF-16BE for UCS-2);
`%a` splits those bytes on whitespace bytes, which cuts UCS-2 text (an emoji, a curly quote).
Parameter names are configurable (`params:`); the shared secret travels as a query parameter
(or a header, behind a proxy that adds one) and is compared in constant time, and is removed
from what is kept, from the query and from the raw bytes of a form body whatever its
encoding. The answer is an empty 200: the acknowledgement with the tracking id goes later
through sendsms, as a POST whose credentials, numbers and reference travel in `X-Kannel-*`
headers (never in a URL that an HTTP library would log).
"""

from __future__ import annotations

import builtins
import codecs
import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import requests
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from adapters.base import (
    ChannelOptions,
    HttpAnswer,
    InboundRequest,
    InboundResult,
    Mode,
    OutgoingReply,
    StoredOutcome,
)
from adapters.sms.common import SmsAdapter, SmsFields, sms_draft, sms_reply_text
from adapters.sms.gsm import encoding_of
from vocabulary.drafts import RawMessage
from vocabulary.errors import InvalidSignature, PayloadInvalid, SendError, is_retryable_status
from vocabulary.holds import HoldReason

REDACTED = "[redacted]"
_CHARSET = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,39}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class KannelParams(BaseModel):
    """The query/form names Kannel's get-url or post-url uses for each value."""

    model_config = ConfigDict(extra="forbid")

    sender: str = "sender"  # %p
    receiver: str = "receiver"  # %P
    text: str = "text"  # %b (the bytes as they are; not %a, which cuts UCS-2)
    time: str = "time"  # %t, or %T for a Unix time
    id: str = "id"  # %I
    charset: str = "charset"  # %C
    coding: str = "coding"  # %c


class KannelOptions(ChannelOptions, SmsFields):
    """YAML fields of a `kannel_sms` channel."""

    type: Literal["kannel_sms"] = "kannel_sms"
    secret: SecretStr
    secret_param: str = "secret"  # noqa: S105 (a parameter name, not a secret)
    secret_header: str = "X-Kannel-Secret"  # noqa: S105
    params: KannelParams = Field(default_factory=KannelParams)
    time_zone: str = "UTC"  # Kannel's %t is written in UTC
    sendsms_url: str = Field(
        default="http://127.0.0.1:13013/cgi-bin/sendsms", pattern=r"^https?://[^/\s]+"
    )
    username: str | None = None
    password: SecretStr | None = None
    number: str | None = None  # `from` of replies; default: the number the citizen wrote to
    smsc: str | None = None
    dlr_url: str | None = None
    dlr_mask: int = Field(default=31, ge=0, le=31)
    timeout: float = Field(default=10.0, gt=0, le=120)

    @model_validator(mode="after")
    def _check(self) -> KannelOptions:
        if self.replies and not (self.username and self.password):
            raise ValueError("replies need `username` and `password` of a Kannel sendsms-user")
        ZoneInfo(self.time_zone)
        return self


def _raw_params(text: str) -> dict[str, bytes]:
    """URL-encoded pairs with their values as raw bytes (Kannel's %b is binary)."""
    return {
        k: v.encode("latin-1")
        for k, v in parse_qsl(text, keep_blank_values=True, encoding="latin-1")
    }


class KannelSmsAdapter(SmsAdapter[KannelOptions]):
    """Kannel smsbox: sms-service get-url/post-url in, sendsms out."""

    type: ClassVar[str] = "kannel_sms"
    modes: ClassVar[frozenset[Mode]] = frozenset({"push"})
    methods: ClassVar[frozenset[str]] = frozenset({"GET", "POST"})
    Options: ClassVar[builtins.type[ChannelOptions]] = KannelOptions
    secret_fields: ClassVar[frozenset[str]] = frozenset({"secret", "password"})
    signing_secrets: ClassVar[frozenset[str]] = frozenset({"secret"})
    docs_url: ClassVar[str] = (
        "https://www.kannel.org/download/kannel-userguide-snapshot/userguide.html"
    )

    def __init__(
        self, options: ChannelOptions, *, public_url: str = "", http: requests.Session | None = None
    ) -> None:
        super().__init__(options, public_url=public_url)
        self.http = http or requests.Session()
        self.zone = ZoneInfo(self.options.time_zone)

    @property
    def redact_headers(self) -> frozenset[str]:  # type: ignore[override]
        """Headers never kept: credentials and the shared-secret header."""
        return frozenset({"authorization", "cookie", self.options.secret_header.lower()})

    def _params(self, request: InboundRequest) -> dict[str, bytes]:
        params = _raw_params(urlsplit(request.url).query)
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            params.update(_raw_params(request.body.decode("latin-1")))
        return params

    def verify(self, request: InboundRequest) -> None:
        """The shared secret, from the query/form or the header, compared in constant time."""
        given = self._params(request).get(self.options.secret_param)
        if given is None and request.headers.get(self.options.secret_header):
            given = str(request.headers.get(self.options.secret_header)).encode("utf-8")
        expected = self.options.secret.get_secret_value().encode("utf-8")
        if given is None:
            raise InvalidSignature(f"parameter `{self.options.secret_param}` tidak ada")
        if not hmac.compare_digest(given, expected):
            raise InvalidSignature("rahasia bersama tidak cocok")

    def raw_record(self, request: InboundRequest) -> dict[str, Any]:
        """The request as kept: the secret parameter and header redacted everywhere."""
        name = self.options.secret_param
        if request.content_type == "application/x-www-form-urlencoded":
            # On the raw bytes: a form whose values are not UTF-8 (ISO-8859-1, %b UCS-2)
            # keeps them exactly, and never keeps the secret, in any encoding.
            request = replace(request, body=_form_without(request.body, name))
        record = request.to_record(self.redact_headers)
        parts = urlsplit(request.url)
        query = _form_without(parts.query.encode("latin-1", "replace"), name)
        record["url"] = urlunsplit(parts._replace(query=query.decode("ascii")))
        # Binary (%b, UCS-2) values hold NUL bytes that JSON columns refuse; the URL above
        # keeps them exactly, percent-encoded.
        record["query"] = {
            k: (REDACTED if k == name else str(v).replace("\x00", "\ufffd"))
            for k, v in record["query"].items()
        }
        return record

    def parse_inbound(self, request: InboundRequest) -> InboundResult:
        """One Kannel callback -> one SMS."""
        p = self.options.params
        params = self._params(request)
        if request.method == "POST" and request.content_type != "application/x-www-form-urlencoded":
            # post-url: the text is the body, the rest comes in X-Kannel-* headers.
            params.setdefault(p.text, request.body)
            for name, header in (
                (p.sender, "x-kannel-from"),
                (p.receiver, "x-kannel-to"),
                (p.time, "x-kannel-time"),
                (p.coding, "x-kannel-coding"),
            ):
                if request.headers.get(header) and name not in params:
                    params[name] = str(request.headers.get(header)).encode("utf-8")
            if p.charset not in params and request.headers.get("content-type"):
                params[p.charset] = request.charset.encode("ascii", "replace")
        sender = _ascii(params.get(p.sender), p.sender)
        if not sender:
            raise PayloadInvalid(f"parameter `{p.sender}` (Kannel %p) wajib ada", field=p.sender)
        receiver = _ascii(params.get(p.receiver), p.receiver) or ""
        if p.text not in params:
            raise PayloadInvalid(f"parameter `{p.text}` (Kannel %b) wajib ada", field=p.text)
        text = self._decode(params[p.text], params)
        stamp = _ascii(params.get(p.time), p.time)
        received_at = self._time(stamp) or request.received_at
        external_id = (
            _ascii(params.get(p.id), p.id)
            or "sha256:"
            + hashlib.sha256(
                "\x1f".join((sender, receiver, stamp or "", text)).encode("utf-8")
            ).hexdigest()[:40]
        )
        draft = sms_draft(
            external_id=external_id,
            received_at=received_at,
            sender=sender,
            text=text,
            grammar=self.grammar,
            region=self.options.region,
            reply_extra={"to": receiver} if receiver else None,
        )
        raw = self.raw_record(request)
        hold = HoldReason.EMPTY if self.grammar.is_empty(text) else None
        return InboundResult([RawMessage(external_id, received_at, raw, draft, hold=hold)])

    def _decode(self, data: bytes, params: Mapping[str, bytes]) -> str:
        p = self.options.params
        charset = (_ascii(params.get(p.charset), p.charset) or "").strip().lower()
        coding = (_ascii(params.get(p.coding), p.coding) or "").strip()
        if not charset:
            charset = "utf-16-be" if coding == "2" else "utf-8"
        try:
            if not _CHARSET.match(charset):
                raise LookupError(charset)
            codecs.lookup(charset)
        except LookupError:
            raise PayloadInvalid(
                f"set karakter {charset[:40]!r} tidak dikenal", field=p.charset
            ) from None
        try:
            return data.decode(charset)
        except UnicodeDecodeError:
            raise PayloadInvalid(f"teks pesan bukan {charset} yang sah", field=p.text) from None

    def _time(self, stamp: str | None) -> dt.datetime | None:
        if not stamp:
            return None
        if re.fullmatch(r"[0-9]{1,11}", stamp):
            return dt.datetime.fromtimestamp(int(stamp), dt.UTC)
        for fmt in (
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%d %H:%M",
            "%Y-%m-%d+%H:%M:%S",
            "%Y-%m-%dT%H:%M:%S",
        ):
            try:
                moment = dt.datetime.strptime(stamp.strip(), fmt)  # zone set below
            except ValueError:
                continue
            return moment.replace(tzinfo=self.zone).astimezone(dt.UTC)
        raise PayloadInvalid(
            f"parameter `{self.options.params.time}` bukan waktu yang dikenali",
            field=self.options.params.time,
        )

    def answer(self, outcomes: list[StoredOutcome]) -> HttpAnswer:
        """An empty 200: nothing for Kannel to send back."""
        return HttpAnswer(200, b"", "text/plain")

    def send_reply(self, reply: OutgoingReply) -> str | None:
        """POST the reply to Kannel's sendsms (UCS-2 for non-GSM text).

        The text is the body; user, password, numbers and the delivery-report URL go in
        `X-Kannel-*` headers, so no URL that an HTTP library logs carries the password or
        the citizen's number. The delivery-report URL names the reply (`sp4n_reply=<id>`):
        a reply sent twice (a crash before the gateway recorded it) reports under one id.
        """
        text = sms_reply_text(reply.text, self.options.max_reply_parts)
        password = self.options.password.get_secret_value() if self.options.password else ""
        fields: dict[str, str] = {
            "Username": self.options.username or "",
            "Password": password,
            "To": reply.reply_to["phone"],
        }
        sender = self.options.number or reply.reply_to.get("to")
        if sender:
            fields["From"] = sender
        if encoding_of(text) == "ucs2":
            fields["Coding"] = "2"
        if self.options.smsc:
            fields["SMSC"] = self.options.smsc
        if self.options.dlr_url:
            fields["DLR-Url"] = dlr_url_for(self.options.dlr_url, reply.reply_id)
            fields["DLR-Mask"] = str(self.options.dlr_mask)
        if any(_CONTROL.search(value) for value in fields.values()):
            raise SendError("salah satu isian sendsms memuat karakter kendali", retryable=False)
        headers: dict[str, str | bytes] = {"Content-Type": "text/plain; charset=UTF-8"}
        headers.update({f"X-Kannel-{k}": v.encode("utf-8") for k, v in fields.items()})
        try:
            response = self.http.post(
                self.options.sendsms_url,
                data=text.encode("utf-8"),
                headers=headers,
                timeout=self.options.timeout,
            )
        except requests.RequestException as exc:
            # Only the exception's type: its text may quote the request.
            raise SendError(
                f"sendsms Kannel tidak terjangkau ({type(exc).__name__})", retryable=True
            ) from None
        if response.status_code >= 300:
            raise SendError(
                f"sendsms Kannel menjawab {response.status_code}",
                retryable=is_retryable_status(response.status_code),
                code=str(response.status_code),
            )
        return None


def dlr_url_for(dlr_url: str, reply_id: str) -> str:
    """The channel's delivery-report URL naming one reply (`sp4n_reply=<id>` added).

    Kannel fills `%` escape codes in this URL when it calls it, so the id is kept to
    letters, digits, `-` and `_` (reply ids are ULIDs) and never percent-encoded.
    """
    reference = re.sub(r"[^A-Za-z0-9_-]", "", reply_id)
    return f"{dlr_url}{'&' if '?' in dlr_url else '?'}sp4n_reply={reference}"


def _form_without(data: bytes, name: str) -> bytes:
    """URL-encoded pairs with `name`'s value replaced, every other byte value kept as is."""
    pairs = parse_qsl(data.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
    kept = [(k, REDACTED if k == name else v) for k, v in pairs]
    return urlencode(kept, encoding="latin-1").encode("ascii")


def _ascii(value: bytes | None, name: str) -> str | None:
    if value is None:
        return None
    try:
        return value.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise PayloadInvalid(f"parameter `{name}` bukan UTF-8", field=name) from None
