"""The guided conversation wired into intake: state in the database, prompts in the reply queue.

`ChatFlow.take` is the intake's one hook. For a message on a chat channel with the
conversation on, inside the intake's transaction (after the repeat check, so a redelivered
update never moves the conversation twice), it either:
- continues an active conversation: no report; the state moves and the next prompt is queued;
- completes it: returns the collected draft, which the intake turns into a report the normal
  way (routing, outbox, acknowledgement with the tracking id);
- or returns None: a plain message outside the flow stays an ordinary report (no wrong door).

`expire` (a scheduled job) ends conversations nobody answered in time; one that already
holds a description becomes a report all the same, with the photos the citizen had sent
(read back from the attachment store by their hash).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from ulid import ULID

from adapters.base import Adapter
from forwarder.replies import ReplyQueue, ReplyTemplates, recipient_hash
from normalizer import conversation as machine
from normalizer.report import Attachment
from store import conversations
from store.files import AttachmentStore
from store.models import Conversation, utcnow
from vocabulary.drafts import AttachmentData, MessageDraft, RawMessage

log = logging.getLogger(__name__)
KIND_LABELS = {
    "pengaduan": "Pengaduan",
    "aspirasi": "Aspirasi",
    "permintaan_informasi": "Permintaan informasi",
    "whistleblowing": "Pelaporan pelanggaran (dirahasiakan)",
}
PRIVACY_LABELS = {"biasa": "Biasa", "anonim": "Anonim", "rahasia": "Rahasia"}
DEFAULT_TIMEOUT = 1800.0
_KNOWN = "sp4n.conversations"  # Session.info: chats checked for a conversation, and active


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

    def __init__(
        self,
        replies: ReplyQueue,
        templates: ReplyTemplates,
        attachments: AttachmentStore | None = None,
    ) -> None:
        self.replies = replies
        self.templates = templates
        self.attachments = attachments  # where an expired conversation's photos are read back
        self.titles = self._titles()
        prompts = [*machine.ConversationStep, "photo_saved", "done", "cancelled", "stale"]
        for name in prompts:  # a broken edit fails at start
            self._render(name, {"attachments": []}, again=True)

    def _titles(self) -> dict[str, str]:
        loader = self.templates.env.loader
        assert loader is not None
        source, _, _ = loader.get_source(self.templates.env, "chat_choices.json")
        return {str(k): str(v) for k, v in json.loads(source).items()}

    def prefetch(
        self, session: Session, adapter: Adapter[Any], drafts: Iterable[MessageDraft]
    ) -> None:
        """Learn in one query which chats of a batch are in a conversation.

        For the rest of the transaction, `take` passes over a plain message of a chat known to
        have none without a query of its own (one per message was most of the writer's time
        on a batched WhatsApp notification: bench/RESULTS.md).
        """
        if not enabled(adapter):
            return
        chats = {recipient_hash(adapter.recipient_key(d.reply_to)) for d in drafts} - {None}
        if not chats:
            return
        known = session.info.setdefault(_KNOWN, {"checked": set(), "active": set()})
        active = conversations.active_chats(session, adapter.name, {str(c) for c in chats})
        known["checked"] |= {(adapter.name, c) for c in chats}
        known["active"] |= {(adapter.name, c) for c in active}

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
        text = draft.choice or draft.body
        if not draft.choice and not machine.is_start(text) and _idle(session, adapter.name, chat):
            return None
        row = conversations.find(session, adapter.name, chat)
        if row is None:
            return self._outside(session, adapter, chat, draft, inbound_id)
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

    def _outside(
        self,
        session: Session,
        adapter: Adapter[Any],
        chat: str,
        draft: MessageDraft,
        inbound_id: str,
    ) -> Taken | None:
        """A message of a chat with no conversation: a start, a stale button, or not ours."""
        if machine.is_start(draft.choice or draft.body):
            row = self._open(session, adapter, chat, draft)
            self._prompt(session, adapter.name, row, machine.begin(), inbound_id)
            return Taken(None, [])
        if draft.choice:  # a button of a conversation that is over
            self._say(session, adapter.name, draft.reply_to, "stale", {}, (), inbound_id)
            return Taken(None, [])
        return None

    def _open(
        self, session: Session, adapter: Adapter[Any], chat: str, draft: MessageDraft
    ) -> Conversation:
        now = utcnow()
        row = Conversation(
            id=str(ULID()),
            channel=adapter.name,
            chat=chat,
            step=machine.ConversationStep.KIND,
            data={"attachments": []},
            reply_to=dict(draft.reply_to),
            turns=0,
            started_at=now,
            updated_at=now,
            expires_at=now + dt.timedelta(seconds=_timeout(adapter)),
        )
        session.add(row)
        session.flush()  # two starts at once: the unique (channel, chat) refuses the second
        known = session.info.get(_KNOWN)
        if known is not None:
            known["active"].add((adapter.name, chat))
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
                draft.attachments = self._kept_files(data, draft.notes)
                raw = {"source": "conversation", "conversation": data, "expired": True}
                accept(adapter, [RawMessage(draft.external_id, at, raw, draft)])
            with sessions.begin() as session:
                row = session.get(Conversation, ident)
                if row is not None:
                    session.delete(row)
        return len(rows)

    def _kept_files(self, data: Mapping[str, Any], notes: list[str]) -> list[AttachmentData]:
        """The photos a conversation collected, read back from the attachment store.

        A file that is no longer there (or no store to read it from) is named in a note on
        the report instead: the report itself is never held back for it.
        """
        found: list[AttachmentData] = []
        for index, kept in enumerate(data.get("attachments") or []):
            try:
                attachment = Attachment.model_validate(kept)
                if self.attachments is None:
                    raise LookupError("no attachment store")
                content = self.attachments.get(attachment.sha256)
            except (ValueError, LookupError, OSError) as exc:
                notes.append(
                    f"foto {index} dari percakapan tidak dilampirkan ({type(exc).__name__})"
                )
                continue
            found.append(AttachmentData(attachment.filename, attachment.content_type, content))
        return found


def _idle(session: Session, channel: str, chat: str) -> bool:
    """Whether this transaction's prefetch found the chat without a conversation."""
    known = session.info.get(_KNOWN)
    key = (channel, chat)
    return known is not None and key in known["checked"] and key not in known["active"]


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
