"""The guided conversation wired into intake: state in the database, prompts in the reply queue.

`ChatFlow.take` is the intake's one hook. For a message on a chat channel with the
conversation on, inside the intake's transaction (after the repeat check, so a redelivered
update never moves the conversation twice), it either:
- continues an active conversation: no report; the state moves and the next prompt is queued;
- completes it: returns the collected draft, which the intake turns into a report the normal
  way (routing, outbox, acknowledgement with the tracking id);
- or returns None: a plain message outside the flow stays an ordinary report (no wrong door).

`expire` (a scheduled job) ends conversations nobody answered in time; one that already
holds a description becomes a report all the same.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from ulid import ULID

from adapters.base import Adapter
from forwarder.replies import ReplyQueue, ReplyTemplates, recipient_hash
from normalizer import conversation as machine
from normalizer.report import Attachment
from store import conversations
from store.models import Conversation, utcnow
from vocabulary.drafts import MessageDraft, RawMessage

log = logging.getLogger(__name__)
KIND_LABELS = {
    "pengaduan": "Pengaduan",
    "aspirasi": "Aspirasi",
    "permintaan_informasi": "Permintaan informasi",
    "whistleblowing": "Pelaporan pelanggaran (dirahasiakan)",
}
PRIVACY_LABELS = {"biasa": "Biasa", "anonim": "Anonim", "rahasia": "Rahasia"}
DEFAULT_TIMEOUT = 1800.0


def enabled(adapter: Adapter[Any]) -> bool:
    """Whether the channel runs the guided conversation."""
    return bool(getattr(adapter.options, "conversation", False))


@dataclasses.dataclass(frozen=True)
class Taken:
    """The conversation took the message; `completed` is the report's draft when it ended."""

    completed: RawMessage | None
    attachments: list[Attachment]


class ChatFlow:
    """Runs the guided conversation of chat channels."""

    def __init__(self, replies: ReplyQueue, templates: ReplyTemplates) -> None:
        self.replies = replies
        self.templates = templates
        self.titles = self._titles()
        for name in (
            "kind",
            "describe",
            "location",
            "photos",
            "photo_saved",
            "privacy",
            "confirm",
            "done",
            "cancelled",
            "stale",
        ):  # a broken edit fails at start
            self._render(name, {"attachments": []}, again=True)

    def _titles(self) -> dict[str, str]:
        loader = self.templates.env.loader
        assert loader is not None
        source, _, _ = loader.get_source(self.templates.env, "chat_choices.json")
        return {str(k): str(v) for k, v in json.loads(source).items()}

    def take(
        self,
        session: Session,
        adapter: Adapter[Any],
        message: RawMessage,
        attachments: list[Attachment],
        inbound_id: str,
    ) -> Taken | None:
        """The hook: see the module docstring."""
        draft = message.draft
        if not enabled(adapter) or message.raw.get("source") == "conversation":
            return None
        chat = recipient_hash(adapter.recipient_key(draft.reply_to))
        if chat is None:
            return None
        row = conversations.find(session, adapter.name, chat)
        text = draft.choice or draft.body
        if row is None:
            if machine.is_start(text):
                row = self._open(session, adapter, chat, draft)
                self._prompt(session, adapter.name, row, machine.begin(), inbound_id)
                return Taken(None, [])
            if draft.choice:  # a button of a conversation that is over
                self._say(session, adapter.name, draft.reply_to, "stale", {}, (), inbound_id)
                return Taken(None, [])
            return None
        row.reply_to = dict(draft.reply_to)
        if machine.is_cancel(text):
            turn = machine.Turn(None, row.data, "cancelled")
        elif machine.is_start(text):
            turn = machine.begin()
        else:
            given = machine.ChatInput(
                text=draft.body,
                choice=draft.choice,
                lat=draft.lat,
                lon=draft.lon,
                location_text=draft.location_text,
                attachments=[a.model_dump(mode="json") for a in attachments],
            )
            turn = machine.advance(row.step, row.data, given)
        self._prompt(session, adapter.name, row, turn, inbound_id)
        if turn.step is None:
            session.delete(row)
            if turn.complete:
                return self._completed(turn.data, message)
            return Taken(None, [])
        row.step, row.data, row.turns = turn.step, turn.data, row.turns + 1
        row.updated_at = utcnow()
        row.expires_at = row.updated_at + dt.timedelta(seconds=_timeout(adapter))
        return Taken(None, [])

    def _open(
        self, session: Session, adapter: Adapter[Any], chat: str, draft: MessageDraft
    ) -> Conversation:
        now = utcnow()
        row = Conversation(
            id=str(ULID()),
            channel=adapter.name,
            chat=chat,
            step="kind",
            data={"attachments": []},
            reply_to=dict(draft.reply_to),
            turns=0,
            started_at=now,
            updated_at=now,
            expires_at=now + dt.timedelta(seconds=_timeout(adapter)),
        )
        session.add(row)
        session.flush()  # two starts at once: the unique (channel, chat) refuses the second
        return row

    @staticmethod
    def _completed(data: Mapping[str, Any], message: RawMessage) -> Taken:
        draft = collected_draft(data, message.draft, message.external_id, message.received_at)
        kept = [Attachment.model_validate(a) for a in data.get("attachments") or []]
        raw = {**message.raw, "conversation": {k: v for k, v in data.items() if k != "body"}}
        return Taken(RawMessage(message.external_id, message.received_at, raw, draft), kept)

    def _prompt(
        self, session: Session, channel: str, row: Conversation, turn: machine.Turn, event: str
    ) -> None:
        context = {"again": turn.again}
        self._say(
            session, channel, row.reply_to, turn.prompt, turn.data, turn.choices, event, **context
        )

    def _say(
        self,
        session: Session,
        channel: str,
        reply_to: Mapping[str, str],
        name: str,
        data: Mapping[str, Any],
        choices: tuple[str, ...],
        event: str,
        again: bool = False,
    ) -> None:
        text = self._render(name, data, again=again)
        pairs = [[c, self.titles.get(c, c)] for c in choices]
        self.replies.prompt(session, channel, reply_to, f"chat:{event}", text, pairs)

    def _render(self, name: str, data: Mapping[str, Any], *, again: bool) -> str:
        privacy = (
            "rahasia"
            if data.get("confidential")
            else "anonim"
            if data.get("anonymous")
            else "biasa"
        )
        location = data.get("location_text") or (
            f"{data['lat']}, {data['lon']}" if data.get("lat") is not None else None
        )
        return self.templates.render(
            f"chat_{name}",
            None,
            again=again,
            kind_label=KIND_LABELS.get(str(data.get("kind")), "ditentukan petugas"),
            body=str(data.get("body") or ""),
            location=location,
            photos=len(data.get("attachments") or []),
            privacy_label=PRIVACY_LABELS[privacy],
        )

    def expire(
        self,
        sessions: sessionmaker[Session],
        adapters: Mapping[str, Adapter[Any]],
        accept: Callable[[Adapter[Any], list[RawMessage]], object],
    ) -> int:
        """End conversations past their time; one with a description becomes a report."""
        with sessions() as session:
            rows = [
                (r.id, r.channel, dict(r.data), dict(r.reply_to), r.updated_at)
                for r in conversations.expired(session, utcnow())
            ]
        for ident, channel, data, reply_to, at in rows:
            adapter = adapters.get(channel)
            if adapter is not None and data.get("body"):
                base = MessageDraft(external_id="", received_at=at, body="", reply_to=reply_to)
                draft = collected_draft(data, base, f"conversation:{ident}", at)
                raw = {"source": "conversation", "conversation": data, "expired": True}
                accept(adapter, [RawMessage(draft.external_id, at, raw, draft)])
            with sessions.begin() as session:
                row = session.get(Conversation, ident)
                if row is not None:
                    session.delete(row)
        return len(rows)


def collected_draft(
    data: Mapping[str, Any], sender: MessageDraft, external_id: str, at: dt.datetime
) -> MessageDraft:
    """The report's draft from what the conversation collected and who the citizen is."""
    return MessageDraft(
        external_id=external_id,
        received_at=at,
        body=str(data.get("body") or ""),
        kind=data.get("kind"),
        name=sender.name,
        phone=sender.phone,
        handle=sender.handle,
        lat=data.get("lat"),
        lon=data.get("lon"),
        location_text=data.get("location_text"),
        anonymous=data.get("anonymous"),
        confidential=data.get("confidential"),
        reply_to=dict(sender.reply_to),
        notes=["guided conversation"],
    )


def _timeout(adapter: Adapter[Any]) -> float:
    return float(getattr(adapter.options, "conversation_timeout", DEFAULT_TIMEOUT))
