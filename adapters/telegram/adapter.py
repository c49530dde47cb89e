"""`telegram`: a Telegram bot — webhook (secret token) or `getUpdates` polling, Bot API replies.

Webhook: Telegram POSTs each update as JSON to `/channels/<name>/inbound` with the header
`X-Telegram-Bot-Api-Secret-Token` set to the secret given in `setWebhook`
(`sp4n-gateway channels register-webhook NAME`). Polling: `getUpdates` from the saved cursor;
the next call's `offset` (which is what tells Telegram to forget updates) is only sent once
every update read before is committed and confirmed — never the library's own polling
`Application`, which confirms before handlers run.

The library is asyncio; its calls run on a dedicated loop thread (`adapters.telegram.loop`),
never inside a web request's own thread. Files (photos, documents) are fetched with
`getFile`, each up to `max_media_bytes`, within `media_budget` seconds.
"""

from __future__ import annotations

import builtins
import collections
import datetime as dt
import hmac
import json
import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr, model_validator
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from adapters.base import (
    Adapter,
    ChannelOptions,
    HttpAnswer,
    InboundRequest,
    InboundResult,
    Mode,
    OutgoingReply,
    PollOptions,
    StoredOutcome,
)
from adapters.media import MediaProblem
from adapters.sms.grammar import DEFAULT_TRACKING_PATTERN, Grammar
from adapters.telegram.loop import LoopThread
from adapters.telegram.updates import UpdateLimits, read_update
from vocabulary.drafts import AttachmentData, MessageDraft, RawMessage
from vocabulary.durations import Duration
from vocabulary.errors import (
    AdapterUnavailable,
    Ignored,
    InvalidSignature,
    PayloadInvalid,
    SendError,
)
from vocabulary.holds import HoldReason

log = logging.getLogger(__name__)
TELEGRAM_API = "https://api.telegram.org"
SECRET_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 (a header name)
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
MAX_TEXT = 4096  # Bot API limit of one message


class TelegramOptions(PollOptions):
    """YAML fields of a `telegram` channel."""

    type: Literal["telegram"] = "telegram"
    token: SecretStr
    receive: Literal["webhook", "polling"] = "webhook"
    secret_token: SecretStr | None = None
    api_url: str = Field(default=TELEGRAM_API, pattern=r"^https?://[^/\s]+")
    poll: Duration = 2.0
    batch_size: int = Field(default=100, gt=0, le=100)  # getUpdates takes at most 100
    timeout: float = Field(default=10.0, gt=0, le=120)
    max_media_bytes: int = Field(default=5 * 1024 * 1024, ge=0, le=20 * 1024 * 1024)
    media_budget: float = Field(default=8.0, gt=0, le=50)
    tracking_id_pattern: str = DEFAULT_TRACKING_PATTERN
    conversation: bool = True
    conversation_timeout: Duration = 1800.0  # an unanswered conversation ends after this

    @model_validator(mode="after")
    def _webhook_secret(self) -> TelegramOptions:
        if self.receive == "webhook" and self.secret_token is None:
            raise ValueError(
                "receive: webhook needs secret_token (Telegram sends it in"
                " X-Telegram-Bot-Api-Secret-Token); use receive: polling otherwise"
            )
        if self.secret_token is not None and not _valid_secret(
            self.secret_token.get_secret_value()
        ):
            raise ValueError("secret_token must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return self


def _valid_secret(value: str) -> bool:
    return 0 < len(value) <= 256 and all(c.isalnum() or c in "_-" for c in value)


class TelegramAdapter(Adapter[TelegramOptions]):
    """A Telegram bot that takes citizens' private messages."""

    type: ClassVar[str] = "telegram"
    kind: ClassVar[str] = "telegram"
    # Both: the mode chosen by `receive` is live, the other one does nothing.
    modes: ClassVar[frozenset[Mode]] = frozenset({"push", "poll"})
    Options: ClassVar[builtins.type[ChannelOptions]] = TelegramOptions
    secret_fields: ClassVar[frozenset[str]] = frozenset({"token", "secret_token"})
    signing_secrets: ClassVar[frozenset[str]] = frozenset({"secret_token"})
    redact_headers: ClassVar[frozenset[str]] = frozenset({"authorization", "cookie", SECRET_HEADER})
    docs_url: ClassVar[str] = "https://core.telegram.org/bots/api#getting-updates"

    def __init__(self, options: ChannelOptions, *, public_url: str = "") -> None:
        super().__init__(options, public_url=public_url)
        o = self.options
        self.limits = UpdateLimits(
            grammar=Grammar(tracking_pattern=o.tracking_id_pattern),
            max_media_bytes=o.max_media_bytes,
        )
        self.loop = LoopThread(self.name)
        self._bot: Bot | None = None
        self._confirmed: int | None = None  # highest update_id confirmed since the last poll
        # The last update passed over without storing, with the highest update read before
        # it that had to be stored: the offset may only skip it once that one is committed.
        self._passed: tuple[int, int | None] | None = None
        self._callbacks: collections.OrderedDict[str, str] = collections.OrderedDict()
        self._callbacks_lock = threading.Lock()

    @classmethod
    def https_webhook(cls, options: ChannelOptions) -> bool:
        """With `receive: webhook`: `setWebhook` takes only an https URL."""
        return isinstance(options, TelegramOptions) and options.receive == "webhook"

    # --- the library's Bot, on the loop thread --------------------------------------------
    def bot(self) -> Bot:
        """The library's Bot pointed at `api_url` (created on first use)."""
        if self._bot is None:
            base = self.options.api_url.rstrip("/")
            timeout = self.options.timeout
            request = HTTPXRequest(
                connection_pool_size=8, read_timeout=timeout, connect_timeout=timeout
            )
            self._bot = Bot(
                self.options.token.get_secret_value(),
                base_url=f"{base}/bot",
                base_file_url=f"{base}/file/bot",
                request=request,
                get_updates_request=HTTPXRequest(read_timeout=timeout, connect_timeout=timeout),
            )
        return self._bot

    def close(self) -> None:
        """Close the library's HTTP clients and stop the loop thread."""
        bot, self._bot = self._bot, None
        self.loop.close(bot.shutdown if bot is not None else None)

    # --- webhook ---------------------------------------------------------------------------
    def verify(self, request: InboundRequest) -> None:
        """The secret token header must match (constant-time); polling channels take none."""
        if self.options.receive != "webhook" or self.options.secret_token is None:
            raise InvalidSignature("kanal ini membaca Telegram dengan polling: tanpa webhook")
        given = str(request.headers.get(SECRET_HEADER) or "")
        if not given:
            raise InvalidSignature("header `X-Telegram-Bot-Api-Secret-Token` tidak ada")
        expected = self.options.secret_token.get_secret_value()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise InvalidSignature("header `X-Telegram-Bot-Api-Secret-Token` tidak cocok")

    def parse_inbound(self, request: InboundRequest) -> InboundResult:
        """One update per request (Telegram never batches webhooks)."""
        try:
            data = json.loads(request.body.decode(request.charset))
        except (UnicodeDecodeError, LookupError, json.JSONDecodeError):
            raise PayloadInvalid(
                "badan permintaan bukan pembaruan Telegram berformat JSON", field="body"
            ) from None
        message = self._commands(read_update(data, request.received_at, self.limits))
        self._remember_callback(message)
        message.raw["request"] = self.raw_record(request)["headers"]
        return InboundResult([message])

    def _commands(self, message: RawMessage) -> RawMessage:
        """Without the guided conversation, `/start` and a stale button are no complaint."""
        if not self.options.conversation and (
            message.draft.choice or message.draft.body.startswith("/")
        ):
            message.hold = HoldReason.COMMAND
        return message

    def _remember_callback(self, message: RawMessage) -> None:
        query = (message.raw.get("update") or {}).get("callback_query") or {}
        if query.get("id"):
            with self._callbacks_lock:
                self._callbacks[message.external_id] = str(query["id"])
                while len(self._callbacks) > 1000:
                    self._callbacks.popitem(last=False)

    def answer(self, outcomes: list[StoredOutcome]) -> HttpAnswer:
        """200; a pressed button is answered in the response itself (stops its spinner)."""
        with self._callbacks_lock:
            ids = [self._callbacks.pop(o.external_id, None) for o in outcomes]
        for callback_id in ids:
            if callback_id:
                return HttpAnswer.json(
                    200, {"method": "answerCallbackQuery", "callback_query_id": callback_id}
                )
        return HttpAnswer.json(200, {"ok": True})

    def fetch_media(self, message: RawMessage) -> None:
        """Download the files an update points at with `getFile` (bounded in size and time)."""
        deadline = time.monotonic() + self.options.media_budget
        limit = self.options.max_media_bytes
        for index, media in enumerate(message.raw.get("media") or []):
            left = deadline - time.monotonic()
            size = media.get("file_size") or 0
            if size > limit:
                problem = f"{size} bytes, over the {limit}-byte limit"
            elif left <= 0:
                problem = "no time left within the budget"
            else:
                try:
                    content = self._download(str(media["file_id"]), limit, left)
                except MediaProblem as exc:
                    problem = str(exc)
                else:
                    message.draft.attachments.append(
                        AttachmentData(
                            f"{index}-{media['filename']}", media["content_type"], content
                        )
                    )
                    continue
            message.draft.notes.append(
                f"berkas {index} ({media['content_type']}) tidak dilampirkan: {problem};"
                " `file_id`-nya ada di pesan mentah"
            )

    def _download(self, file_id: str, limit: int, timeout: float) -> bytes:
        bot = self.bot()

        async def fetch() -> bytes:
            info = await bot.get_file(file_id)
            if (info.file_size or 0) > limit:
                raise MediaProblem(f"{info.file_size} bita, lebih dari batas {limit} bita")
            content = bytes(await info.download_as_bytearray())
            if len(content) > limit:
                raise MediaProblem(f"lebih dari batas {limit} bita")
            return content

        try:
            return self.loop.run(fetch, timeout)
        except MediaProblem:
            raise
        except (TelegramError, TimeoutError, OSError) as exc:
            raise MediaProblem(f"`getFile` gagal ({type(exc).__name__})") from None

    # --- polling ---------------------------------------------------------------------------
    def poll(self, cursor: str | None) -> Iterator[tuple[RawMessage, str | None]]:
        """Pages of `getUpdates` after the cursor; a next page only once the last is confirmed.

        Updates that carry no citizen message (edits, group chatter) are not stored: the
        offset passes them in memory, but only once every update read before them is
        committed (a failed save leaves the cursor behind: they are all read again). After
        a restart they are read and passed again.
        """
        if self.options.receive != "polling":
            return
        saved = int(cursor) if cursor else None
        last = self._resume_from(saved)
        self._confirmed = saved
        needed = saved  # the highest update read so far that must be committed
        while True:
            updates = self._get_updates(None if last is None else last + 1)
            yielded: int | None = None
            for data in updates:
                update_id = int(data["update_id"])
                last = update_id if last is None else max(last, update_id)
                message = self._read_polled(data)
                if message is None:
                    self._passed = (update_id, needed)
                    continue
                yielded = needed = update_id
                yield message, str(update_id)
            # Asking for the next page tells Telegram to forget this one: only after commit.
            if len(updates) < self.options.batch_size:
                return
            if yielded is not None and self._confirmed != yielded:
                return

    def _resume_from(self, saved: int | None) -> int | None:
        """The last update the next offset may pass.

        The saved cursor, or an update passed over after it when everything read before that
        one is committed; otherwise the passed-over update is forgotten (read again).
        """
        passed, self._passed = self._passed, None
        if passed is None:
            return saved
        skipped, needed = passed
        if needed is not None and (saved is None or saved < needed):
            return saved
        self._passed = passed
        return skipped if saved is None else max(saved, skipped)

    def _read_polled(self, data: dict[str, Any]) -> RawMessage | None:
        now = dt.datetime.now(dt.UTC)
        try:
            message = self._commands(read_update(data, now, self.limits))
        except Ignored:
            return None
        except PayloadInvalid as exc:
            external_id = str(data.get("update_id"))
            draft = MessageDraft(external_id=external_id, received_at=now, body="")
            return RawMessage(external_id, now, {"update": data}, draft, problem=exc)
        self.fetch_media(message)
        return message

    def _get_updates(self, offset: int | None) -> list[dict[str, Any]]:
        bot = self.bot()

        async def call() -> list[dict[str, Any]]:
            result = await bot.get_updates(
                offset=offset,
                limit=self.options.batch_size,
                timeout=0,
                allowed_updates=list(ALLOWED_UPDATES),
            )
            return [u.to_dict() for u in result]

        try:
            return self.loop.run(call, self.options.timeout + 5)
        except (TelegramError, TimeoutError, OSError) as exc:
            raise AdapterUnavailable(f"`getUpdates` Telegram gagal ({_describe(exc)})") from None

    def confirm(self, messages: Sequence[RawMessage]) -> None:
        """Remember what is committed (the next page may be asked); answer pressed buttons."""
        for message in messages:
            update = message.raw.get("update") or {}
            update_id = update.get("update_id")
            if isinstance(update_id, int):
                self._confirmed = max(self._confirmed or update_id, update_id)
            query = update.get("callback_query") or {}
            if query.get("id"):
                self._answer_callback(str(query["id"]))

    def _answer_callback(self, callback_id: str) -> None:
        bot = self.bot()
        try:
            self.loop.run(lambda: bot.answer_callback_query(callback_id), self.options.timeout)
        except (TelegramError, TimeoutError, OSError) as exc:
            log.debug("channel %s: answerCallbackQuery failed: %s", self.name, _describe(exc))

    # --- replies ---------------------------------------------------------------------------
    def recipient_key(self, reply_to: Mapping[str, str]) -> str | None:
        """The chat id."""
        chat = reply_to.get("chat_id")
        return f"telegram:{chat}" if chat else None

    def can_reply(self, reply_to: Mapping[str, str]) -> bool:
        """Whenever the chat is known (a bot may write to a private chat that wrote to it)."""
        return bool(reply_to.get("chat_id"))

    def send_reply(self, reply: OutgoingReply) -> str | None:
        """`sendMessage`, with an inline keyboard for choices; returns `chat_id:message_id`."""
        chat_id = reply.reply_to["chat_id"]
        text = reply.text if len(reply.text) <= MAX_TEXT else reply.text[: MAX_TEXT - 3] + "..."
        markup = (
            InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(title, callback_data=ident)]
                    for ident, title in reply.choices
                ]
            )
            if reply.choices
            else None
        )
        bot = self.bot()
        try:
            sent = self.loop.run(
                lambda: bot.send_message(chat_id=chat_id, text=text, reply_markup=markup),
                self.options.timeout + 5,
            )
        except RetryAfter:
            raise SendError("Telegram meminta menunggu (flood control)", retryable=True) from None
        except Forbidden:
            raise SendError(
                "warga memblokir bot atau belum pernah memulainya",
                retryable=False,
                code="forbidden",
            ) from None
        except BadRequest as exc:
            raise SendError(
                f"Telegram menolak ({_describe(exc)})", retryable=False, code="bad_request"
            ) from None
        except (TelegramError, TimeoutError, OSError) as exc:
            raise SendError(
                f"Telegram tidak terjangkau ({_describe(exc)})", retryable=True
            ) from None
        return f"{chat_id}:{sent.message_id}"

    def register_webhook(self) -> str:
        """`setWebhook` with this channel's URL and secret token; returns the URL."""
        if self.options.receive != "webhook" or self.options.secret_token is None:
            raise AdapterUnavailable(
                "kanal ini memakai `receive: polling`; webhook akan menghentikan `getUpdates`"
            )
        url, secret = self.inbound_url(), self.options.secret_token.get_secret_value()
        bot = self.bot()
        try:
            self.loop.run(
                lambda: bot.set_webhook(
                    url=url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES)
                ),
                self.options.timeout + 5,
            )
        except (TelegramError, TimeoutError, OSError) as exc:
            raise AdapterUnavailable(f"`setWebhook` Telegram gagal ({_describe(exc)})") from None
        return url


def _describe(exc: BaseException) -> str:
    """An error for logs: the library's message never holds the token, but URLs may."""
    text = str(exc)
    return f"{type(exc).__name__}" + (f": {text}" if text and "/bot" not in text else "")
