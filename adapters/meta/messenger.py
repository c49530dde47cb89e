"""`facebook_messenger` and `instagram_dm`: a Page's or Instagram account's direct messages.

Both arrive as `entry[].messaging[]` events (Messenger Platform webhooks) and are answered
through the Send API (`POST /me/messages`); Instagram differs by the payload's `object` and
its documentation page, so it is a parameter variant, not a copy. Echoes of our own messages,
reads and reactions are not messages; `delivery.mids` are recorded as delivered.

Outside the 24-hour standard messaging window a reply needs a message tag (`message_tag`,
e.g. `ACCOUNT_UPDATE` on Messenger or `HUMAN_AGENT` where the page is approved for it);
without one, such a reply is dead-lettered with that reason for an admin.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from adapters.base import (
    ChannelOptions,
    DeliveryReceipt,
    InboundRequest,
    InboundResult,
    OutgoingReply,
)
from adapters.media import MediaProblem
from adapters.meta.graph import (
    LOCATION_ONLY_BODY,
    MEDIA_ONLY_BODY,
    MetaAdapter,
    MetaOptions,
    timestamp,
    window_open,
)
from adapters.sms.grammar import Grammar
from vocabulary.deliveries import DeliveryStatus
from vocabulary.drafts import MessageDraft, RawMessage
from vocabulary.errors import Ignored, SendError
from vocabulary.holds import HoldReason

TYPES = {"image": "image/jpeg", "video": "video/mp4", "audio": "audio/mpeg", "file": ""}


class MessengerOptions(MetaOptions):
    """YAML fields of a `facebook_messenger` channel."""

    type: Literal["facebook_messenger"] = "facebook_messenger"
    message_tag: str | None = None


class InstagramOptions(MessengerOptions):
    """YAML fields of an `instagram_dm` channel (the same as Messenger's)."""

    type: Literal["instagram_dm"] = "instagram_dm"  # type: ignore[assignment]


class MessengerAdapter(MetaAdapter[MessengerOptions]):
    """Facebook Messenger (a Page's inbox)."""

    type: ClassVar[str] = "facebook_messenger"
    kind: ClassVar[str] = "messenger"
    object_name: ClassVar[str] = "page"
    Options: ClassVar[builtins.type[ChannelOptions]] = MessengerOptions
    docs_url: ClassVar[str] = "https://developers.facebook.com/docs/messenger-platform/webhooks"
    grammar = Grammar()

    def parse_inbound(self, request: InboundRequest) -> InboundResult:
        """Each `messaging[]` event of each entry: messages, postbacks, deliveries."""
        result = InboundResult([])
        record = self.raw_record(request)
        raw_request = {k: record[k] for k in ("method", "url", "headers")}
        for entry in self.payload(request):
            for event in entry.get("messaging") or []:
                if not isinstance(event, dict):
                    continue
                delivery = event.get("delivery")
                if isinstance(delivery, dict):
                    at = timestamp(delivery.get("watermark"), request.received_at)
                    result.receipts += [
                        DeliveryReceipt(str(mid), DeliveryStatus.DELIVERED, at)
                        for mid in delivery.get("mids") or []
                    ]
                    continue
                message = self._event(event, request.received_at)
                if message is not None:
                    message.raw["request"] = raw_request
                    result.messages.append(message)
        if not result.messages and not result.receipts:
            raise Ignored("tidak ada pesan dalam pemberitahuan ini (gema, tanda dibaca, reaksi...)")
        return result

    def _event(self, event: dict[str, Any], received_at: dt.datetime) -> RawMessage | None:
        sender = (event.get("sender") or {}).get("id")
        recipient = (event.get("recipient") or {}).get("id")
        message, postback = event.get("message"), event.get("postback")
        if not sender or not isinstance(message or postback, dict):
            return None
        part: dict[str, Any] = message if isinstance(message, dict) else dict(postback or {})
        if part.get("is_echo") or part.get("is_deleted") or not part.get("mid"):
            return None
        mid, at = str(part["mid"]), timestamp(event.get("timestamp"), received_at)
        choice = None
        if isinstance(postback, dict):
            text, choice = str(postback.get("title") or ""), str(postback.get("payload") or "")
        else:
            text = str(part.get("text") or "")
            quick = part.get("quick_reply")
            choice = str(quick.get("payload")) if isinstance(quick, dict) else None
        parsed = self.grammar.parse(text) if text and not choice else None
        draft = MessageDraft(
            external_id=mid,
            received_at=at,
            body=parsed.body if parsed else text,
            status_query=parsed.status_query if parsed else None,
            in_reply_to=parsed.in_reply_to if parsed else None,
            choice=choice or None,
            reply_to={"psid": str(sender), "page_id": str(recipient or ""), "at": at.isoformat()},
        )
        replied = part.get("reply_to")
        if isinstance(replied, dict) and replied.get("mid"):
            draft.thread_refs.append(str(replied["mid"]))
        media = self._attachments(part.get("attachments"), draft)
        if not draft.body.strip():
            if media:
                draft.body = MEDIA_ONLY_BODY.format(n=len(media))
            elif draft.lat is not None:
                draft.body = LOCATION_ONLY_BODY.format(place=f"{draft.lat}, {draft.lon}")
        raw = {"event": event, "media": media}
        hold = None if draft.body.strip() else HoldReason.EMPTY
        return RawMessage(mid, at, raw, draft, hold=hold)

    @staticmethod
    def _attachments(items: Any, draft: MessageDraft) -> list[dict[str, Any]]:
        media: list[dict[str, Any]] = []
        for index, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict):
                continue
            found = item.get("payload")
            payload: dict[str, Any] = found if isinstance(found, dict) else {}
            coords = payload.get("coordinates")
            if item.get("type") == "location" and isinstance(coords, dict):
                draft.lat, draft.lon = coords.get("lat"), coords.get("long")
            elif item.get("type") in TYPES and payload.get("url"):
                media.append(
                    {
                        "url": str(payload["url"]),
                        "content_type": TYPES[str(item["type"])] or "application/octet-stream",
                        "filename": f"{item['type']}-{index}",
                    }
                )
        return media

    def fetch_one(self, media: Mapping[str, Any], timeout: float) -> bytes:
        """Attachment URLs are on Meta's CDN and need no token."""
        if not media.get("url"):
            raise MediaProblem("tanpa URL")
        return self.download(str(media["url"]), with_token=False, timeout=timeout)

    def recipient_key(self, reply_to: Mapping[str, str]) -> str | None:
        """The citizen's page-scoped id."""
        psid = reply_to.get("psid")
        return f"{self.type}:{psid}" if psid else None

    def can_reply(self, reply_to: Mapping[str, str]) -> bool:
        """Whenever the sender's id is known."""
        return bool(reply_to.get("psid"))

    def send_reply(self, reply: OutgoingReply) -> str | None:
        """Send API: a response inside the window, a tagged message outside it."""
        body: dict[str, Any] = {
            "recipient": {"id": reply.reply_to["psid"]},
            "message": {"text": reply.text[:2000]},
        }
        if reply.choices:
            body["message"]["quick_replies"] = [
                {"content_type": "text", "title": title[:20], "payload": ident}
                for ident, title in reply.choices[:13]
            ]
        if window_open(reply, dt.datetime.now(dt.UTC)):
            body["messaging_type"] = "RESPONSE"
        elif self.options.message_tag:
            body["messaging_type"], body["tag"] = "MESSAGE_TAG", self.options.message_tag
        else:
            raise SendError(
                "di luar jendela pesan 24 jam dan `message_tag` tidak diatur",
                retryable=False,
                code="window_closed",
            )
        answer = self.post_graph("me/messages", body)
        return str(answer.get("message_id") or "") or None


class InstagramDmAdapter(MessengerAdapter):
    """Instagram direct messages: Messenger's scheme with `object: instagram`."""

    type: ClassVar[str] = "instagram_dm"
    kind: ClassVar[str] = "instagram"
    object_name: ClassVar[str] = "instagram"
    Options: ClassVar[builtins.type[ChannelOptions]] = InstagramOptions
    docs_url: ClassVar[str] = "https://developers.facebook.com/docs/instagram-platform/webhooks"
