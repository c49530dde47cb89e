"""Telegram `Update` objects -> raw messages (pure: no I/O, no clock).

An update is read with python-telegram-bot's own `Update.de_json`, so the library's view of
the Bot API is the one that counts. Only private chats with people are citizens' messages:
group chatter, channel posts, edits and membership changes are answered and dropped
(`Ignored`). The key of a message is the update's `update_id` (Telegram repeats an update
with the same id until it is acknowledged).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from telegram import Contact, Message, Update

from adapters.sms.grammar import Grammar
from vocabulary.drafts import MessageDraft, RawMessage
from vocabulary.errors import Ignored, PayloadInvalid
from vocabulary.holds import HoldReason

MEDIA_ONLY_BODY = "[Pesan tanpa teks, berisi {n} lampiran]"
LOCATION_ONLY_BODY = "[Lokasi dibagikan: {place}]"
CONTACT_BODY = "[Kontak dibagikan: {name} {phone}]"


@dataclass(frozen=True)
class UpdateLimits:
    """What the parser needs from the channel's options."""

    grammar: Grammar
    max_media_bytes: int


def chat_key(chat_id: int | str) -> str:
    """How a chat is named in reply coordinates and provider message ids."""
    return str(chat_id)


def read_update(
    data: Mapping[str, Any], received_at: dt.datetime, limits: UpdateLimits
) -> RawMessage:
    """One update -> one raw message; `Ignored` for updates that carry no citizen message."""
    if not isinstance(data, Mapping) or not isinstance(data.get("update_id"), int):
        raise PayloadInvalid(
            "pembaruan harus punya `update_id` berupa bilangan bulat", field="update_id"
        )
    try:
        update = Update.de_json(dict(data), None)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
        # OverflowError/OSError: a `date` no clock can hold (the library converts it).
        raise PayloadInvalid(f"bukan pembaruan Telegram ({type(exc).__name__})") from None
    try:
        return _read(update, dict(data), received_at, limits)
    except (AttributeError, TypeError, ValueError, OverflowError) as exc:
        # The library builds objects leniently (a missing field is None): a shape it let
        # through but that lacks what every message has is refused here.
        raise PayloadInvalid(f"pembaruan Telegram tidak lengkap ({type(exc).__name__})") from None


def _read(
    update: Update, data: dict[str, Any], received_at: dt.datetime, limits: UpdateLimits
) -> RawMessage:
    external_id = str(update.update_id)
    if update.callback_query is not None:
        draft = _callback_draft(update, external_id, received_at)
        return RawMessage(external_id, draft.received_at, {"update": data}, draft)
    if update.edited_message is not None:
        raise Ignored("suntingan pesan yang sudah diterima (versi pertama yang disimpan)")
    message = update.message
    if message is None:
        raise Ignored("pembaruan tanpa pesan (unggahan kanal, keanggotaan, jajak pendapat...)")
    if message.chat.type != "private":
        raise Ignored("pesan di grup atau kanal: hanya obrolan pribadi yang dibaca")
    if message.from_user is None or message.from_user.is_bot:
        raise Ignored("pesan dari bot")
    if not isinstance(message.message_id, int) or not isinstance(message.date, dt.datetime):
        raise PayloadInvalid("pesan tanpa `message_id` atau `date`", field="message")
    return _message(message, external_id, data, limits)


def _message(
    message: Message, external_id: str, data: dict[str, Any], limits: UpdateLimits
) -> RawMessage:
    received_at = message.date.astimezone(dt.UTC)
    text = (message.text or message.caption or "").strip()
    if text.startswith("/"):
        # Bot commands: "/status LPR1234567" reads as the SMS grammar's "status LPR1234567";
        # "/start@NamaBot" loses the bot's name.
        command, _, rest = text[1:].partition(" ")
        text = f"{command.split('@', 1)[0]} {rest}".strip()
        if command.split("@", 1)[0].lower() in ("start", "lapor", "batal", "mulai", "menu"):
            text = "/" + text
    parsed = limits.grammar.parse(text) if text and not text.startswith("/") else None
    user = message.from_user
    assert user is not None
    draft = MessageDraft(
        external_id=external_id,
        received_at=received_at,
        body=parsed.body if parsed else text,
        name=" ".join(p for p in (user.first_name, user.last_name) if p) or None,
        handle=user.username,
        status_query=parsed.status_query if parsed else None,
        in_reply_to=parsed.in_reply_to if parsed else None,
        reply_to={"chat_id": chat_key(message.chat.id), "at": received_at.isoformat()},
    )
    replied = message.reply_to_message
    if replied is not None:
        draft.thread_refs.append(f"{chat_key(message.chat.id)}:{replied.message_id}")
    media = _media(message, limits.max_media_bytes)
    _location(message, draft)
    if message.contact is not None:
        _contact(message.contact, user.id, draft)
    if not draft.body:
        if media:
            draft.body = MEDIA_ONLY_BODY.format(n=len(media))
        elif draft.lat is not None:
            draft.body = LOCATION_ONLY_BODY.format(
                place=draft.location_text or f"{draft.lat}, {draft.lon}"
            )
    raw = {"update": data, "media": media}
    hold = HoldReason.EMPTY if not draft.body else None
    return RawMessage(external_id, received_at, raw, draft, hold=hold)


def _callback_draft(update: Update, external_id: str, received_at: dt.datetime) -> MessageDraft:
    query = update.callback_query
    assert query is not None
    if query.from_user is None:
        raise PayloadInvalid("`callback_query` tanpa `from`", field="callback_query.from")
    message = query.message
    if message is None or message.chat.type != "private":
        raise Ignored("tombol ditekan di luar obrolan pribadi")
    if not query.data:
        raise Ignored("tombol tanpa data (permainan atau pesan inline)")
    user = query.from_user
    return MessageDraft(
        external_id=external_id,
        received_at=received_at,
        body=query.data,
        choice=query.data,
        name=" ".join(p for p in (user.first_name, user.last_name) if p) or None,
        handle=user.username,
        reply_to={"chat_id": chat_key(message.chat.id), "at": received_at.isoformat()},
    )


def _media(message: Message, limit: int) -> list[dict[str, Any]]:
    """The files a message points at: the largest photo size within the limit, documents..."""
    found: list[dict[str, Any]] = []
    if message.photo:
        sizes = sorted(message.photo, key=lambda p: p.file_size or p.width * p.height)
        fitting = [p for p in sizes if (p.file_size or 0) <= limit] or sizes[:1]
        best = fitting[-1]
        found.append(_file(best.file_id, best.file_size, "image/jpeg", "photo.jpg"))
    for item, default_type, default_name in (
        (message.document, "application/octet-stream", "document"),
        (message.video, "video/mp4", "video.mp4"),
        (message.voice, "audio/ogg", "voice.ogg"),
        (message.audio, "audio/mpeg", "audio.mp3"),
    ):
        if item is not None:
            found.append(
                _file(
                    item.file_id,
                    item.file_size,
                    getattr(item, "mime_type", None) or default_type,
                    getattr(item, "file_name", None) or default_name,
                )
            )
    return found


def _file(file_id: str, size: int | None, content_type: str, name: str) -> dict[str, Any]:
    return {"file_id": file_id, "file_size": size, "content_type": content_type, "filename": name}


def _location(message: Message, draft: MessageDraft) -> None:
    venue, location = message.venue, message.location
    if venue is not None:
        location = venue.location
        draft.location_text = ", ".join(p for p in (venue.title, venue.address) if p) or None
    if location is not None:
        draft.lat, draft.lon = float(location.latitude), float(location.longitude)


def _contact(contact: Contact, sender_id: int, draft: MessageDraft) -> None:
    """The sender's own contact fills the reporter; someone else's is part of the text."""
    name = " ".join(p for p in (contact.first_name, contact.last_name) if p)
    if contact.user_id == sender_id:
        draft.phone = contact.phone_number
        draft.name = name or draft.name
        if not draft.body:
            draft.body = CONTACT_BODY.format(name=name, phone="").strip()
        return
    extra = CONTACT_BODY.format(name=name, phone=contact.phone_number)
    draft.body = f"{draft.body}\n{extra}".strip()
