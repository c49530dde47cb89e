"""`whatsapp_cloud`: the WhatsApp Business Cloud API — batched webhooks in, Messages API out.

Each `entry[].changes[].value` may hold `messages[]` (citizens' messages: text, media,
location, interactive replies...) and `statuses[]` (what became of our replies: sent,
delivered, read, failed). Messages become reports (exactly once by their `wamid`); statuses
are recorded on the reply rows and never become reports.

Replies respect the 24-hour customer-service window: inside it a free-form text (with reply
buttons or a list for the guided conversation); outside it only the approved template
`template_name` in `template_language`, carrying the tracking id and the update.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Literal

from pydantic import Field

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
from adapters.sms.grammar import DEFAULT_TRACKING_PATTERN, Grammar
from normalizer.phone import to_e164
from vocabulary.deliveries import DeliveryStatus
from vocabulary.drafts import MessageDraft, RawMessage
from vocabulary.durations import Duration
from vocabulary.errors import Ignored, SendError
from vocabulary.holds import HoldReason

MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
DEFAULT_TYPES = {
    "image": "image/jpeg",
    "document": "application/octet-stream",
    "audio": "audio/ogg",
    "video": "video/mp4",
    "sticker": "image/webp",
}
# "Re-engagement message": more than 24 hours since the citizen last wrote.
WINDOW_CLOSED = "131047"
TemplateParam = Literal["tracking_id", "text"]
_DEFAULT_PARAMS: list[TemplateParam] = ["tracking_id", "text"]


class WhatsAppOptions(MetaOptions):
    """YAML fields of a `whatsapp_cloud` channel."""

    type: Literal["whatsapp_cloud"] = "whatsapp_cloud"
    phone_number_id: str = Field(pattern=r"^\d{5,20}$")
    template_name: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,512}$")
    template_language: str = Field(default="id", pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")
    template_params: list[TemplateParam] = Field(default_factory=_DEFAULT_PARAMS.copy)
    tracking_id_pattern: str = DEFAULT_TRACKING_PATTERN
    conversation: bool = True
    conversation_timeout: Duration = 1800.0  # an unanswered conversation ends after this


class WhatsAppCloudAdapter(MetaAdapter[WhatsAppOptions]):
    """WhatsApp Business Cloud API."""

    type: ClassVar[str] = "whatsapp_cloud"
    kind: ClassVar[str] = "whatsapp"
    object_name: ClassVar[str] = "whatsapp_business_account"
    Options: ClassVar[builtins.type[ChannelOptions]] = WhatsAppOptions
    docs_url: ClassVar[str] = (
        "https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components"
    )

    def __init__(self, options: ChannelOptions, *, public_url: str = "") -> None:
        super().__init__(options, public_url=public_url)
        self.grammar = Grammar(tracking_pattern=self.options.tracking_id_pattern)

    def parse_inbound(self, request: InboundRequest) -> InboundResult:
        """Every message of every change; statuses as receipts; nothing else is an error."""
        result = InboundResult([])
        record = self.raw_record(request)
        raw_request = {k: record[k] for k in ("method", "url", "headers")}
        for value in _values(self.payload(request)):
            profiles = {
                str(c.get("wa_id")): str(_dict(c.get("profile")).get("name") or "")
                for c in _list(value.get("contacts"))
                if isinstance(c, dict)
            }
            number_id = str(_dict(value.get("metadata")).get("phone_number_id") or "")
            for item in _list(value.get("messages")):
                message = self._message(item, profiles, number_id, request.received_at)
                if message is not None:
                    message.raw["request"] = raw_request
                    message.raw["metadata"] = value.get("metadata")
                    result.messages.append(message)
            result.receipts += _receipts(_list(value.get("statuses")), request.received_at)
        if not result.messages and not result.receipts:
            raise Ignored("tidak ada pesan maupun status dalam pemberitahuan ini")
        return result

    def _message(
        self,
        item: Any,
        profiles: Mapping[str, str],
        number_id: str,
        received_at: dt.datetime,
    ) -> RawMessage | None:
        if not isinstance(item, dict) or not item.get("id") or not item.get("from"):
            return None  # an incomplete entry in a batch does not refuse the others
        kind = str(item.get("type") or "")
        if kind in ("reaction", "system", "ephemeral"):
            return None
        wa_id, wamid = str(item["from"]), str(item["id"])
        at = timestamp(item.get("timestamp"), received_at)
        text, choice = _text_and_choice(item, kind)
        parsed = self.grammar.parse(text) if text and not choice else None
        draft = MessageDraft(
            external_id=wamid,
            received_at=at,
            body=parsed.body if parsed else text,
            name=profiles.get(wa_id) or None,
            phone=to_e164("+" + wa_id.lstrip("+"), "ID"),
            status_query=parsed.status_query if parsed else None,
            in_reply_to=parsed.in_reply_to if parsed else None,
            choice=choice,
            reply_to={"wa_id": wa_id, "phone_number_id": number_id, "at": at.isoformat()},
        )
        context = item.get("context")
        if isinstance(context, dict) and context.get("id"):
            draft.thread_refs.append(str(context["id"]))
        media = _media(item, kind)
        location = item.get("location") if kind == "location" else None
        if isinstance(location, dict):
            draft.lat, draft.lon = (
                _float(location.get("latitude")),
                _float(location.get("longitude")),
            )
            place = ", ".join(str(location[k]) for k in ("name", "address") if location.get(k))
            draft.location_text = place or None
        if not draft.body.strip():
            if media:
                draft.body = MEDIA_ONLY_BODY.format(n=len(media))
            elif draft.lat is not None:
                draft.body = LOCATION_ONLY_BODY.format(
                    place=draft.location_text or f"{draft.lat}, {draft.lon}"
                )
        raw = {"message": item, "media": media}
        hold = HoldReason.EMPTY if not draft.body.strip() else None
        if kind == "unsupported":
            hold = HoldReason.UNSUPPORTED
        return RawMessage(wamid, at, raw, draft, hold=hold)

    def fetch_one(self, media: Mapping[str, Any], timeout: float) -> bytes:
        """Ask Graph for the media's URL (with the token), then download it (with the token)."""
        try:
            response = self.http.get(
                self.graph(str(media["id"])), headers=self.auth(), timeout=timeout
            )
            info = response.json() if response.status_code == 200 else None
        except (OSError, ValueError) as exc:
            raise MediaProblem(f"URL media tidak tersedia ({type(exc).__name__})") from None
        if not isinstance(info, dict) or not info.get("url"):
            raise MediaProblem(f"URL media tidak tersedia (Graph menjawab {response.status_code})")
        size, limit = int(info.get("file_size") or 0), self.options.max_media_bytes
        if size > limit:
            raise MediaProblem(f"{size} bita, lebih dari batas {limit} bita")
        return self.download(str(info["url"]), with_token=True, timeout=timeout)

    # --- replies -----------------------------------------------------------------------------
    def recipient_key(self, reply_to: Mapping[str, str]) -> str | None:
        """The citizen's number in E.164."""
        wa_id = reply_to.get("wa_id")
        return "+" + wa_id.lstrip("+") if wa_id else None

    def can_reply(self, reply_to: Mapping[str, str]) -> bool:
        """Whenever the citizen's WhatsApp id is known."""
        return bool(reply_to.get("wa_id"))

    def send_reply(self, reply: OutgoingReply) -> str | None:
        """Text (or buttons) inside the 24-hour window, the approved template outside it."""
        base: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": reply.reply_to["wa_id"],
        }
        free = window_open(reply, dt.datetime.now(dt.UTC))
        if free:
            body = {**base, **_free_form(reply)}
        elif self.options.template_name:
            body = {**base, **self._template(reply)}
        else:
            raise SendError(
                "di luar jendela 24 jam WhatsApp dan `template_name` tidak diatur",
                retryable=False,
                code="window_closed",
            )
        number_id = reply.reply_to.get("phone_number_id") or self.options.phone_number_id
        try:
            answer = self.post_graph(f"{number_id}/messages", body)
        except SendError as exc:
            if not (free and exc.code == WINDOW_CLOSED and self.options.template_name):
                raise
            # WhatsApp knows better when the window closed: the template, at once.
            answer = self.post_graph(f"{number_id}/messages", {**base, **self._template(reply)})
        messages = answer.get("messages") or [{}]
        return str(messages[0].get("id") or "") or None

    def _template(self, reply: OutgoingReply) -> dict[str, Any]:
        values = {"tracking_id": reply.tracking_id or "-", "text": reply.text}
        # Template parameters may not hold new lines, tabs or more than four spaces in a row.
        params = [
            {"type": "text", "text": " ".join(values[p].split())[:1000]}
            for p in self.options.template_params
        ]
        template: dict[str, Any] = {
            "name": self.options.template_name,
            "language": {"code": self.options.template_language},
        }
        if params:
            template["components"] = [{"type": "body", "parameters": params}]
        return {"type": "template", "template": template}


def _free_form(reply: OutgoingReply) -> dict[str, Any]:
    """A text, reply buttons (up to three) or a list (up to ten) for a prompt's choices."""
    if not reply.choices:
        return {"type": "text", "text": {"preview_url": False, "body": reply.text[:4096]}}
    text = reply.text[:1024]
    if len(reply.choices) <= 3:
        buttons = [
            {"type": "reply", "reply": {"id": ident[:256], "title": title[:20]}}
            for ident, title in reply.choices
        ]
        action: dict[str, Any] = {"buttons": buttons}
        kind = "button"
    else:
        rows = [{"id": ident[:200], "title": title[:24]} for ident, title in reply.choices[:10]]
        action = {"button": "Pilih", "sections": [{"title": "Pilihan", "rows": rows}]}
        kind = "list"
    return {
        "type": "interactive",
        "interactive": {"type": kind, "body": {"text": text}, "action": action},
    }


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _values(entries: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for entry in entries:
        for change in _list(entry.get("changes")):
            if isinstance(change, dict) and isinstance(change.get("value"), dict):
                yield change["value"]


def _text_and_choice(item: dict[str, Any], kind: str) -> tuple[str, str | None]:
    found = item.get(kind)
    part: dict[str, Any] = found if isinstance(found, dict) else {}
    if kind == "text":
        return str(part.get("body") or ""), None
    if kind == "interactive":
        reply = _dict(part.get("button_reply") or part.get("list_reply"))
        if reply.get("id"):
            return str(reply.get("title") or reply["id"]), str(reply["id"])
        return "", None
    if kind == "button":  # a quick-reply button of a template message
        return str(part.get("text") or ""), str(part.get("payload") or "") or None
    return str(part.get("caption") or ""), None


def _media(item: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    part = item.get(kind)
    if kind not in MEDIA_TYPES or not isinstance(part, dict) or not part.get("id"):
        return []
    ctype = str(part.get("mime_type") or DEFAULT_TYPES[kind]).split(";")[0].strip()
    return [
        {
            "id": str(part["id"]),
            "content_type": ctype,
            "filename": str(part.get("filename") or f"{kind}-{part['id']}")[:120],
            "sha256": part.get("sha256"),
        }
    ]


def _receipts(statuses: list[Any], received_at: dt.datetime) -> list[DeliveryReceipt]:
    found = []
    for status in statuses:
        if not isinstance(status, dict) or not status.get("id"):
            continue
        state = DeliveryStatus.parse(status.get("status"))
        if state is None:  # a status we do not track (`deleted`, `warning`...)
            continue
        errors = _list(status.get("errors"))
        error, code = None, None
        if errors and isinstance(errors[0], dict):
            code = str(errors[0].get("code"))
            error = f"{code}: {errors[0].get('title') or ''}".strip()
        found.append(
            DeliveryReceipt(
                provider_id=str(status["id"]),
                status=state,
                at=timestamp(status.get("timestamp"), received_at),
                error=error,
                window_closed=code == WINDOW_CLOSED,
            )
        )
    return found


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
