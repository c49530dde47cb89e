"""`twitter`: mentions and direct messages of one X account, replies in public or by DM.

Polled through the v2 API with tweepy (`api.py`): each poll walks the mentions timeline
(`since_id` plus pagination tokens, `cursor.py`) and the DM events (no `since_id` there:
read down to the newest event already stored; the event id is the key). Every message is
yielded with the cursor that follows it, so the poll runner stores them together.

Gaps are never skipped silently: X serves only the newest 800 mentions and 30 days of DMs;
a walk that hits either edge after an outage logs a warning, counts it as a channel
warning (`sp4n_channel_warnings_total`), keeps it in channel health for the admin and notes
it on the first report after the gap.

Replies: the acknowledgement and status changes of a public mention go back as a public
reply holding only the tracking id, the status and an invitation to continue by DM (a DM
button is attached). Everything else — agency answers, and every reply about a confidential
or whistleblowing report — goes by DM only.
"""

from __future__ import annotations

import builtins
import contextlib
import datetime as dt
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

import requests
import tweepy

from adapters.base import (
    Adapter,
    ChannelOptions,
    HttpAnswer,
    InboundRequest,
    InboundResult,
    Mode,
    OutgoingReply,
    StoredOutcome,
)
from adapters.media import MediaProblem
from adapters.sms.grammar import Grammar
from adapters.twitter import webhook
from adapters.twitter.api import BadRequest, RateLimited, XApi
from adapters.twitter.convert import Includes, Reader, dm_message, post_message
from adapters.twitter.cursor import Cursor, Timeline
from adapters.twitter.options import TwitterOptions
from adapters.twitter.text import fit_post
from vocabulary.drafts import AttachmentData, MessageDraft, RawMessage
from vocabulary.errors import (
    AdapterUnavailable,
    ChannelRefused,
    Ignored,
    InvalidSignature,
    PayloadInvalid,
    SendError,
)

log = logging.getLogger(__name__)

MENTIONS_REACH = 800  # X serves the newest 800 mentions, however far back since_id lies
DM_WINDOW = dt.timedelta(days=30)  # and DM events of the last 30 days
PAGE_SIZE = 100
MAX_DM = 10_000
PUBLIC_EVENTS = frozenset({"ack", "status", "query"})
CRC_TOKEN = re.compile(r"^[A-Za-z0-9+/=_.-]{1,256}$")  # never a JSON body: no signing oracle
POST_FIELDS = ["author_id", "created_at", "conversation_id", "referenced_tweets", "attachments"]
POST_FIELDS += ["entities", "geo"]
DM_FIELDS = ["id", "text", "event_type", "created_at", "sender_id", "dm_conversation_id"]
DM_FIELDS += ["attachments", "referenced_tweets"]
MEDIA_FIELDS = ["url", "type", "preview_image_url"]
GAP_NOTE = {
    "mentions": "X hanya menyediakan 800 sebutan terbaru: sebutan yang diunggah sebelum yang"
    " ini selama gateway tidak membaca mungkin tidak ada (lihat peringatan kanal)",
    "dms": "X hanya menyediakan pesan langsung 30 hari terakhir: pesan lebih lama yang dikirim"
    " selama gateway tidak membaca mungkin tidak ada (lihat peringatan kanal)",
}
# The channel warning an admin reads (channel health); the note above goes on the report.
GAP_WARNING = {
    "mentions": "sebutan mungkin ada yang terlewat: setelah gangguan, X hanya menyediakan 800"
    " sebutan terbaru dan pembacaan sampai di batas itu; periksa sebutan akun di X",
    "dms": "pesan langsung mungkin ada yang terlewat: X hanya menyediakan pesan langsung 30"
    " hari terakhir dan pembacaan sampai di batas itu; periksa kotak pesan akun di X",
}


class TwitterAdapter(Adapter[TwitterOptions]):
    """One X account: polled mentions and DMs, optional Account Activity webhook."""

    type: ClassVar[str] = "twitter"
    kind: ClassVar[str] = "twitter"
    modes: ClassVar[frozenset[Mode]] = frozenset({"poll", "push"})
    methods: ClassVar[frozenset[str]] = frozenset({"GET", "POST"})
    Options: ClassVar[builtins.type[ChannelOptions]] = TwitterOptions
    secret_fields: ClassVar[frozenset[str]] = frozenset(
        {"consumer_key", "consumer_secret", "access_token", "access_token_secret"}
    )
    signing_secrets: ClassVar[frozenset[str]] = frozenset({"consumer_secret"})
    redact_headers: ClassVar[frozenset[str]] = frozenset(
        {"authorization", "cookie", "x-twitter-webhooks-signature"}
    )
    docs_url: ClassVar[str] = "https://docs.x.com/x-api/posts/timelines/introduction"

    def __init__(
        self,
        options: ChannelOptions,
        *,
        public_url: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(options, public_url=public_url)
        self.clock = clock
        self.api = XApi(self.options, clock)
        self._account_id = self.options.user_id
        self._carry: tuple[str | None, str] | None = None
        self._final: dict[str, Timeline] = {}
        self.grammar = Grammar(
            prefixes=(),
            status_keywords=tuple(self.options.status_keywords),
            tracking_pattern=self.options.tracking_id_pattern,
        )

    @classmethod
    def https_webhook(cls, options: ChannelOptions) -> bool:
        """With `webhook: true`: X registers only an https webhook URL (no port)."""
        return isinstance(options, TwitterOptions) and options.webhook

    # --- who we are ---------------------------------------------------------------------

    def account_id(self) -> str:
        """The account's numeric id (from the config, else GET /2/users/me once)."""
        if self._account_id is None:
            data = self.api.call("users_me", self.api.client.get_me)
            ident = str((data.get("data") or {}).get("id") or "")
            if not ident.isdigit():
                raise AdapterUnavailable("X tidak menyebut akun pemilik `access_token` ini")
            self._account_id = ident
        return self._account_id

    def reader(self) -> Reader:
        """How this channel reads posts and DMs."""
        return Reader(
            self.account_id(),
            self.grammar,
            re.compile(self.options.tracking_id_pattern, re.IGNORECASE),
        )

    # --- polling ------------------------------------------------------------------------

    def poll(self, cursor: str | None) -> Iterator[tuple[RawMessage, str | None]]:
        """New mentions, then new DMs, each with the cursor that follows it."""
        if self._carry is not None and self._carry[0] == cursor:
            cursor = self._carry[1]  # only posts we ignore came after the stored cursor
        self._carry = None
        state, last, refused = Cursor.loads(cursor), cursor, None
        reader = self.reader()
        for name, enabled in (
            ("mentions", self.options.mentions),
            ("dms", self.options.direct_messages),
        ):
            if not enabled:
                continue
            self._final.pop(name, None)
            try:
                for message, timeline in self._walk(name, getattr(state, name), reader):
                    state = state.with_timeline(name, timeline)
                    self._attach(message)
                    last = state.dumps()
                    yield message, last
            except RateLimited as exc:
                log.info("channel %s: %s; other timelines and channels go on", self.name, exc)
            except BadRequest as exc:
                log.info("channel %s: %s; reading %s again from the top", self.name, exc, name)
                self._final[name] = getattr(state, name).restarted()
            except ChannelRefused as exc:
                refused = exc
            if name in self._final:
                state = state.with_timeline(name, self._final[name])
        self._carry = (last, state.dumps())
        if refused is not None:
            raise refused

    def _walk(
        self, name: str, timeline: Timeline, reader: Reader
    ) -> Iterator[tuple[RawMessage, Timeline]]:
        """One timeline from the top down to where the last walk ended, page by page."""
        token = timeline.token
        while True:
            page = self._page(name, timeline, token)
            items = [i for i in page.get("data") or [] if isinstance(i, dict)]
            if token is None:
                newest = max(items, key=lambda i: int(str(i.get("id", "0")) or 0), default=None)
                timeline = timeline.started(
                    str(newest["id"]) if newest else None,
                    str(newest.get("created_at") or "") if newest else None,
                )
            fresh, reached = self._fresh(name, items, timeline)
            seen = timeline.seen + len(fresh)
            next_token = None if reached else (page.get("meta") or {}).get("next_token")
            after = timeline.next_page(str(next_token), seen) if next_token else timeline.finished()
            includes = Includes(page.get("includes"))
            messages = [
                m for m in (self._read(name, i, includes, reader) for i in reversed(fresh)) if m
            ]
            if next_token is None and self._gap(name, timeline, seen, reached):
                self.warn("gap", GAP_WARNING[name])
                if messages:
                    messages[0].draft.notes.append(GAP_NOTE[name])
            for k, message in enumerate(messages):
                yield message, after if k == len(messages) - 1 else timeline
            timeline = after
            if next_token is None:
                break
            token = str(next_token)
        self._final[name] = timeline

    def _page(self, name: str, timeline: Timeline, token: str | None) -> dict[str, Any]:
        client = self.api.client
        if name == "mentions":
            params: dict[str, Any] = {
                "id": self.account_id(),
                "max_results": PAGE_SIZE,
                "expansions": ["author_id", "attachments.media_keys", "geo.place_id"],
                "tweet_fields": POST_FIELDS,
                "user_fields": ["username", "name"],
                "media_fields": MEDIA_FIELDS,
                "place_fields": ["full_name", "geo"],
            }
            if timeline.since_id:
                params["since_id"] = timeline.since_id
            else:
                params["start_time"] = self._lookback()
            if token:
                params["pagination_token"] = token
            return self.api.call("mentions", client.get_users_mentions, **params)
        params = {
            "event_types": "MessageCreate",
            "max_results": PAGE_SIZE,
            "dm_event_fields": DM_FIELDS,
            "expansions": ["attachments.media_keys", "sender_id"],
            "user_fields": ["username", "name"],
            "media_fields": MEDIA_FIELDS,
        }
        if token:
            params["pagination_token"] = token
        return self.api.call("dm_events", client.get_direct_message_events, **params)

    def _fresh(
        self, name: str, items: list[dict[str, Any]], timeline: Timeline
    ) -> tuple[list[dict[str, Any]], bool]:
        """The items newer than the last walk; whether the walk has reached older ones."""
        if name == "mentions":
            return items, False  # X filters by since_id / start_time itself
        if timeline.since_id is not None:
            fresh = [
                i
                for i in items
                if str(i.get("id", "")).isdigit() and int(i["id"]) > int(timeline.since_id)
            ]
        else:
            start = self._lookback()
            fresh = [i for i in items if str(i.get("created_at") or "") >= start]
        return fresh, len(fresh) < len(items)

    def _gap(self, name: str, timeline: Timeline, seen: int, reached: bool) -> bool:
        """Whether a finished walk may have missed items X no longer serves."""
        if timeline.since_id is None:
            return False  # the first poll reads a chosen span, not a gap
        if name == "mentions":
            return seen >= MENTIONS_REACH
        since = _when(timeline.since_at)
        edge = dt.datetime.fromtimestamp(self.clock(), dt.UTC) - DM_WINDOW
        return not reached and since is not None and since < edge

    def _read(
        self, name: str, item: dict[str, Any], includes: Includes, reader: Reader
    ) -> RawMessage | None:
        try:
            if name == "mentions":
                return post_message(item, includes, reader)
            return dm_message(item, includes, reader)
        except PayloadInvalid as exc:  # kept as rejected with its error; the poll goes on
            ident = "".join(c for c in str(item.get("id", "")) if c.isdigit())[:30] or "unknown"
            prefix = "tweet" if name == "mentions" else "dm"
            now = dt.datetime.fromtimestamp(self.clock(), dt.UTC)
            draft = MessageDraft(external_id=f"{prefix}:{ident}", received_at=now, body="")
            raw = {"source": "x_api_v2", "timeline": name, "item": item}
            return RawMessage(draft.external_id, now, raw, draft, problem=exc)

    def _lookback(self) -> str:
        start = dt.datetime.fromtimestamp(self.clock() - self.options.first_poll_lookback, dt.UTC)
        return start.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def _attach(self, message: RawMessage) -> None:
        """Download the message's photos (size-capped); a failure becomes a note."""
        for index, media in enumerate(message.raw.get("media") or []):
            try:
                content, ctype = self.api.download(str(media["url"]), self.options.max_media_bytes)
            except MediaProblem as exc:
                message.draft.notes.append(
                    f"media {index} ({media.get('type')}) tidak dilampirkan: {exc};"
                    " URL-nya ada di pesan mentah"
                )
                continue
            extension = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif"}
            name = f"x-media-{index}{extension.get(ctype, '')}"
            message.draft.attachments.append(AttachmentData(name, ctype, content))

    # --- the optional Account Activity webhook ------------------------------------------

    def handshake(self, request: InboundRequest) -> HttpAnswer | None:
        """Answer X's CRC `GET ?crc_token=...` (before any signature check)."""
        token = request.query.get("crc_token")
        if request.method != "GET" or not self.options.webhook or token is None:
            return None
        if not CRC_TOKEN.match(token):
            return HttpAnswer.json(400, {"error": "crc_token is not in X's format"})
        secret = self.options.consumer_secret.get_secret_value()
        return HttpAnswer.json(200, webhook.crc_response(secret, token))

    def verify(self, request: InboundRequest) -> None:
        """`x-twitter-webhooks-signature` must sign the raw body with the consumer secret."""
        if not self.options.webhook:
            raise InvalidSignature("kanal X ini tidak menerima webhook (atur `webhook: true`)")
        header = request.headers.get("x-twitter-webhooks-signature")
        if not header:
            raise InvalidSignature("header `x-twitter-webhooks-signature` tidak ada")
        secret = self.options.consumer_secret.get_secret_value()
        if request.method != "POST" or not webhook.valid_signature(secret, request.body, header):
            raise InvalidSignature(
                "header `x-twitter-webhooks-signature` tidak cocok dengan badan permintaan"
            )

    def parse_inbound(self, request: InboundRequest) -> InboundResult:
        """Account Activity events: mentions and DMs to the account become messages."""
        try:
            payload = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise PayloadInvalid("badan permintaan bukan JSON", field="body") from None
        if not isinstance(payload, dict):
            raise PayloadInvalid("badan permintaan bukan objek JSON", field="body")
        account = self.options.user_id or ""
        if str(payload.get("for_user_id", "")) != account:
            raise Ignored("peristiwa untuk akun lain")
        reader = Reader(account, self.grammar, re.compile(self.options.tracking_id_pattern, re.I))
        messages = []
        for status in payload.get("tweet_create_events") or []:
            post, includes = webhook.post_from_v1(status)
            messages.append(post_message(post, Includes(includes), reader))
        users = payload.get("users") or {}
        for event in payload.get("direct_message_events") or []:
            dm, includes = webhook.dm_from_v1(event, users)
            messages.append(dm_message(dm, Includes(includes), reader))
        found = [m for m in messages if m is not None]
        if not found:
            raise Ignored("tidak ada pesan warga dalam peristiwa ini")
        raw = self.raw_record(request)
        for message in found:
            message.raw = {**message.raw, "source": "x_account_activity", "request": raw}
        return InboundResult(found)

    def answer(self, outcomes: list[StoredOutcome]) -> HttpAnswer:
        """X wants a plain 200 for every delivery it should not repeat."""
        return HttpAnswer.json(
            200, {"messages": [{"id": o.report_id, "status": o.status} for o in outcomes]}
        )

    def fetch_media(self, message: RawMessage) -> None:
        """A webhook message's photos, fetched before it is stored."""
        self._attach(message)

    # --- replies ------------------------------------------------------------------------

    def recipient_key(self, reply_to: Mapping[str, str]) -> str | None:
        """The citizen's X account id: the same person in mentions and DMs."""
        user = reply_to.get("user_id")
        return f"x:{user}" if user else None

    def can_reply(self, reply_to: Mapping[str, str]) -> bool:
        """Whenever the message had an author."""
        return bool(reply_to.get("user_id"))

    def send_reply(self, reply: OutgoingReply) -> str | None:
        """A public reply for a public mention's acknowledgement and status; else a DM."""
        reply_to = reply.reply_to
        event = reply.event.split(":", 1)[0]
        public = (
            reply_to.get("via") == "tweet"
            and reply_to.get("tweet_id")
            and event in PUBLIC_EVENTS
            and not reply.confidential
        )
        if public:
            return self._post(reply.text, str(reply_to["tweet_id"]))
        return self._dm(reply.text, str(reply_to.get("user_id") or ""))

    def _post(self, text: str, in_reply_to: str) -> str | None:
        link = None
        with contextlib.suppress(AdapterUnavailable):
            link = f"https://twitter.com/messages/compose?recipient_id={self.account_id()}"
        data = self._send(
            "tweets",
            self.api.client.create_tweet,
            text=fit_post(text),
            in_reply_to_tweet_id=in_reply_to,
            direct_message_deep_link=link,
        )
        if data is None:
            return None
        return f"tweet:{(data.get('data') or {}).get('id', '')}"

    def _dm(self, text: str, user_id: str) -> str | None:
        if not user_id:
            raise SendError(
                "tidak ada akun X tujuan pesan langsung", retryable=False, code="no_recipient"
            )
        data = self._send(
            "dm_send",
            self.api.client.create_direct_message,
            participant_id=user_id,
            text=text.strip()[:MAX_DM],
        )
        if data is None:
            return None
        return f"dm:{(data.get('data') or {}).get('dm_event_id', '')}"

    def _send(
        self, endpoint: str, method: Callable[..., Any], **params: Any
    ) -> dict[str, Any] | None:
        """One send; None when X says the very same post exists (an earlier try got through)."""
        try:
            return self.api.send(endpoint, method, **params)
        except RateLimited as exc:
            raise SendError(str(exc), retryable=True, code="rate_limited") from None
        except BadRequest as exc:
            raise SendError(str(exc), retryable=False, code="bad_request") from None
        except tweepy.Forbidden as exc:
            detail = "; ".join(exc.api_messages) or _problem_detail(exc.response)
            if "duplicate" in detail.lower():
                return None
            raise SendError(f"X menolak: {detail}", retryable=False, code="forbidden") from None
        except AdapterUnavailable as exc:
            raise SendError(str(exc), retryable=True) from None

    def close(self) -> None:
        """Close the HTTP session."""
        self.api.client.session.close()


def _problem_detail(response: requests.Response | None) -> str:
    try:
        problem = response.json() if response is not None else {}
    except ValueError:
        return "403"
    return str(problem.get("detail") or problem.get("title") or "403")


def _when(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
