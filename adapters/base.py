"""What every channel adapter is made of: its options, the requests it reads, what it returns.

An adapter is small and uniform (STYLE.md): class attributes declare it, `verify` and
`parse_inbound` read a webhook without I/O, `poll` reads a source, `send_reply` answers the
citizen. Adapters never touch the database: the gateway stores what they return.
"""

from __future__ import annotations

import base64
import builtins
import datetime as dt
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Literal, TypeVar, cast, get_args

from pydantic import BaseModel, ConfigDict, Field

from vocabulary.deliveries import DeliveryStatus
from vocabulary.drafts import RawMessage
from vocabulary.durations import Duration
from vocabulary.errors import SendError
from vocabulary.kinds import Kind

Mode = Literal["push", "poll", "manual"]
log = logging.getLogger(__name__)


class ChannelOptions(BaseModel):
    """Config fields every channel entry has; an adapter's `Options` extends this."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    type: str
    enabled: bool = True
    description: str | None = None
    max_body_bytes: int = Field(default=1024 * 1024, gt=0, le=64 * 1024 * 1024)
    kind: Kind | None = None
    replies: bool = True
    # The dashboard and /readyz call a channel silent when nothing came for this long.
    silence_alarm: Duration | None = None


class PollOptions(ChannelOptions):
    """Config fields of a polled channel (IMAP, Gammu SMSD, a legacy database...)."""

    poll: Duration = 10.0
    batch_size: int = Field(default=100, gt=0, le=5000)


class CaseInsensitiveDict(dict[str, str]):
    """Header mapping whose keys compare case-insensitively (HTTP header semantics)."""

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        super().__init__()
        for key, value in (items or {}).items():
            self[key] = value

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key.lower(), value)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        """Look a header up ignoring case."""
        return super().get(key.lower(), default)


@dataclass(frozen=True)
class InboundRequest:
    """A webhook request as plain data, built by the web layer (no framework objects leak)."""

    method: str
    url: str
    headers: CaseInsensitiveDict
    body: bytes
    received_at: dt.datetime
    query: Mapping[str, str] = field(default_factory=dict)
    remote_addr: str | None = None

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-case."""
        return str(self.headers.get("content-type", "")).split(";")[0].strip().lower()

    @property
    def charset(self) -> str:
        """The declared charset, utf-8 when none."""
        for part in str(self.headers.get("content-type", "")).split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip('"').lower()
        return "utf-8"

    def to_record(self, redact_headers: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The request as a JSON-able record for the inbound log, secret headers redacted."""
        headers = {
            k: ("[redacted]" if k.lower() in redact_headers else v) for k, v in self.headers.items()
        }
        try:
            body: dict[str, str] = {"text": self.body.decode("utf-8")}
        except UnicodeDecodeError:
            body = {"base64": base64.b64encode(self.body).decode("ascii")}
        return {
            "method": self.method,
            "url": self.url,
            "headers": headers,
            "query": dict(self.query),
            "body": body,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any], received_at: dt.datetime) -> InboundRequest:
        """The request kept by `to_record`, back (redacted headers stay redacted)."""
        body = record.get("body") or {}
        if "base64" in body:
            raw = base64.b64decode(body["base64"])
        else:
            raw = str(body.get("text", "")).encode("utf-8", "surrogatepass")
        return cls(
            method=str(record.get("method", "POST")),
            url=str(record.get("url", "")),
            headers=CaseInsensitiveDict(
                {str(k): str(v) for k, v in (record.get("headers") or {}).items()}
            ),
            body=raw,
            received_at=received_at,
            query={str(k): str(v) for k, v in (record.get("query") or {}).items()},
        )


@dataclass(frozen=True)
class DeliveryReceipt:
    """A provider's word on a reply we sent (WhatsApp `statuses[]`, Messenger deliveries)."""

    provider_id: str
    status: DeliveryStatus
    at: dt.datetime
    error: str | None = None
    # The provider refused the reply because its free-form window was closed (WhatsApp
    # 131047): the gateway sends it again, once, in the form allowed outside the window.
    window_closed: bool = False


@dataclass
class InboundResult:
    """What `parse_inbound` found in one request: zero or more messages.

    `receipts` are delivery statuses of replies we sent: the gateway records them on the
    reply rows; they never become reports.
    """

    messages: list[RawMessage]
    receipts: list[DeliveryReceipt] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class StoredOutcome:
    """What the gateway did with one parsed message, for the adapter's HTTP answer.

    `conflict` marks a repeat of a stored key that came with a different request body: it
    is not the same message, so it is answered 409 without the first message's report id.
    """

    report_id: str
    external_id: str
    created: bool
    status: str
    conflict: bool = False


@dataclass(frozen=True)
class HttpAnswer:
    """The HTTP answer an adapter gives its provider."""

    status: int
    body: bytes
    content_type: str = "application/json"

    @classmethod
    def json(cls, status: int, payload: Any) -> HttpAnswer:
        """A JSON answer."""
        return cls(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))


@dataclass(frozen=True)
class OutgoingReply:
    """A message to a citizen on the channel they used (acknowledgement, status, response)."""

    reply_id: str
    report_id: str
    tracking_id: str | None
    event: str
    text: str
    reply_to: Mapping[str, str]
    external_id: str
    # Buttons or list items offered with the text (guided conversation): (id, title) pairs.
    choices: tuple[tuple[str, str], ...] = ()
    # The report is confidential (whistleblowing always is): a channel with a public face
    # (X) must answer it privately, never in a way that reveals its nature.
    confidential: bool = False
    # When the citizen last wrote on this channel (any message), where the adapter keeps a
    # reply window (`Adapter.reply_window`): a later message reopens it.
    last_contact: dt.datetime | None = None
    # The provider said the window was closed for this reply: only the out-of-window form
    # (an approved template) may go.
    window_closed: bool = False


OptionsT = TypeVar("OptionsT", bound=ChannelOptions)


class Adapter(Generic[OptionsT]):
    """Base of every channel adapter; subclasses set the class attributes and override.

    `Adapter[WebformOptions]` types `self.options`. A concrete adapter (one that declares
    `type`) is checked when its class is made, so a plugin that gets the contract wrong fails
    at import, not at 3 a.m.: every class attribute set, `Options.type` equal to `type`, a
    push adapter verifying its webhooks, a polled one with `PollOptions`.
    """

    type: ClassVar[str]
    kind: ClassVar[str]
    modes: ClassVar[frozenset[Mode]]
    Options: ClassVar[builtins.type[ChannelOptions]] = ChannelOptions
    secret_fields: ClassVar[frozenset[str]] = frozenset()
    # The secret fields that verify what a provider sends (a webhook's shared secret or
    # signing key): the config refuses them shorter than 16 characters.
    signing_secrets: ClassVar[frozenset[str]] = frozenset()
    # Whether the channel takes webhooks with its signing secret unset (a legacy site that
    # cannot sign): legal, but warned about at config check and at start.
    unsigned_allowed: ClassVar[bool] = False
    redact_headers: ClassVar[frozenset[str]] = frozenset({"authorization", "cookie"})
    docs_url: ClassVar[str] = ""
    # HTTP methods the webhook accepts (Kannel's get-url calls with GET).
    methods: ClassVar[frozenset[str]] = frozenset({"POST"})
    # Replies depend on when the citizen last wrote (Meta's 24-hour window): the intake
    # notes each message's time per recipient and replies carry it as `last_contact`.
    reply_window: ClassVar[bool] = False

    options: OptionsT

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "type" in cls.__dict__:  # a concrete adapter; bases shared by a family are not
            problems = contract_problems(cls)
            if problems:
                raise TypeError(
                    f"{cls.__qualname__} breaks the adapter contract: " + "; ".join(problems)
                )

    def __init__(self, options: ChannelOptions, *, public_url: str = "") -> None:
        if not isinstance(options, self.Options):
            raise TypeError(
                f"{type(self).__name__} needs {self.Options.__name__}, got {type(options).__name__}"
            )
        self.options = cast(OptionsT, options)
        self.name = options.name
        self.public_url = public_url.rstrip("/")
        self.warnings: Counter[str] = Counter()
        # Where a warning is kept beyond the log (channel health; set by the runtime).
        self.keep_warning: Callable[[str], None] | None = None

    def warn(self, code: str, message: str) -> None:
        """A channel warning (a gap in what the source still serves, say): logged and kept.

        Counted per code in `sp4n_channel_warnings_total{channel,code}` and kept as the
        channel's last warning in channel health, which the admin reads (so `message` is in
        Bahasa Indonesia); it must hold no personal data.
        """
        self.warnings[code] += 1
        log.warning("channel %s: %s (%s)", self.name, message, code)
        if self.keep_warning is not None:
            self.keep_warning(message)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    @classmethod
    def inbound_url_for(cls, public_url: str, name: str) -> str:
        """The public URL a provider posts the webhooks of channel `name` to."""
        return f"{public_url.rstrip('/')}/channels/{name}/inbound"

    @classmethod
    def https_webhook(cls, options: ChannelOptions) -> bool:
        """Whether a provider posts this channel's webhooks and refuses an http URL for them.

        Telegram's `setWebhook`, Meta's and X's webhook registration take only https:
        `config check` warns when `gateway.public_url` is not https for such a channel.
        """
        return False

    def inbound_url(self) -> str:
        """The public URL a provider posts this channel's webhooks to."""
        return self.inbound_url_for(self.public_url, self.name)

    @property
    def strict(self) -> bool:
        """Whether unusable input is refused (HTTP 400) rather than dropped with a note.

        Only the `webform` channel can be strict (`strict: true`).
        """
        return False

    def handshake(self, request: InboundRequest) -> HttpAnswer | None:
        """Answer a provider proving the webhook URL (Meta's `hub.challenge`, X's CRC) or None.

        Called before `verify`; a request it answers is neither verified nor stored.
        """
        return None

    def verify(self, request: InboundRequest) -> None:
        """Raise InvalidSignature unless the request proves it comes from the provider."""

    def raw_record(self, request: InboundRequest) -> dict[str, Any]:
        """The request as kept in the inbound log, secrets redacted (headers by default)."""
        return request.to_record(self.redact_headers)

    def parse_inbound(self, request: InboundRequest) -> InboundResult:
        """Read a verified webhook request into messages (pure: no I/O, no clock)."""
        raise NotImplementedError(f"{self.type} takes no webhooks")

    def answer(self, outcomes: list[StoredOutcome]) -> HttpAnswer:
        """The provider's answer once every message is stored; JSON by default."""
        if len(outcomes) == 1:
            one = outcomes[0]
            return HttpAnswer.json(
                201 if one.created else 200, {"id": one.report_id, "status": one.status}
            )
        return HttpAnswer.json(
            200, {"messages": [{"id": o.report_id, "status": o.status} for o in outcomes]}
        )

    def reread(self, raw: Mapping[str, Any], received_at: dt.datetime) -> list[RawMessage]:
        """Read kept raw input again (rejected input, after an admin fixed the config).

        By default the raw record is a webhook request (`raw_record`); a polled adapter whose
        records differ overrides this, or leaves it raising `NotImplementedError`.
        """
        if not {"method", "body"} <= set(raw):
            raise NotImplementedError(f"{self.type} cannot read its kept input again")
        return self.parse_inbound(InboundRequest.from_record(raw, received_at)).messages

    def fetch_media(self, message: RawMessage) -> None:
        """Download what a parsed webhook message only points at (Twilio media).

        Called by the web layer after `parse_inbound` and before storing, so it must keep
        within a short time budget; a file that cannot be fetched becomes a note on the
        report, never an error (the message itself is never lost over an attachment).
        """

    def poll(self, cursor: str | None) -> Iterator[tuple[RawMessage, str | None]]:
        """Read new messages from a polled source, each with the cursor that follows it.

        The runner stores each message together with its cursor in one transaction, then
        calls `confirm`. `cursor` is what the adapter last yielded (None on the first poll);
        its format is the adapter's own (JSON text is fine). A source error is raised as
        `AdapterUnavailable` (logged, tried again at the next interval).
        """
        raise NotImplementedError(f"{self.type} is not polled")

    def confirm(self, messages: Sequence[RawMessage]) -> None:
        """Tell the source these messages are safe (IMAP Seen flag, Gammu Processed...).

        Called only after the gateway committed them. It must be idempotent: a crash before
        it runs means the same messages come again from `poll`, are recognised by their
        `(channel, external_id)` and confirmed then, without a second report.
        """

    def close(self) -> None:
        """Release connections held by the adapter (the runner calls it at shutdown)."""

    def recipient_key(self, reply_to: Mapping[str, str]) -> str | None:
        """Who a reply goes to (a phone number, an address), for per-recipient rate limits."""
        return None

    def sender_key(self, reply_to: Mapping[str, str]) -> str | None:
        """Who wrote the message, for "same sender" checks (follow-ups, status answers).

        The recipient key unless the channel lets a writer name another place for answers
        (email's Reply-To): then only what identifies the writer counts.
        """
        return self.recipient_key(reply_to)

    def can_reply(self, reply_to: Mapping[str, str]) -> bool:
        """Whether this channel can answer a citizen with these reply coordinates."""
        return False

    def send_reply(self, reply: OutgoingReply) -> str | None:
        """Send one reply; return the provider's message id. Raise SendError on failure."""
        raise SendError(f"kanal jenis {self.type} tidak dapat mengirim balasan", retryable=False)


def contract_problems(cls: builtins.type[Adapter[Any]]) -> list[str]:
    """What a concrete adapter class gets wrong (empty when it keeps the contract)."""
    problems = [
        f"class attribute {name!r} is not set"
        for name in ("type", "kind", "modes", "Options")
        if not hasattr(cls, name)
    ]
    if problems:
        return problems
    if not (isinstance(cls.Options, builtins.type) and issubclass(cls.Options, ChannelOptions)):
        return ["Options must be a ChannelOptions subclass"]
    declared = get_args(cls.Options.model_fields["type"].annotation)
    if declared != (cls.type,):
        problems.append(
            f"{cls.Options.__name__}.type must be Literal[{cls.type!r}], not {declared or 'str'}"
        )
    if not cls.modes or not cls.modes <= {"push", "poll", "manual"}:
        problems.append("modes must be a non-empty set of push, poll, manual")
    if "push" in cls.modes and cls.verify is Adapter.verify:
        problems.append("a push adapter must override verify (who may post to its webhook?)")
    if "poll" in cls.modes and not issubclass(cls.Options, PollOptions):
        problems.append("a polled adapter's Options must extend PollOptions")
    return problems
