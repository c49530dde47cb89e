"""What an adapter reads from one citizen message, before the normalizer cleans it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from vocabulary.errors import PayloadInvalid
from vocabulary.holds import HoldReason


@dataclass
class AttachmentData:
    """A file that came with a message, before it is stored."""

    filename: str
    content_type: str
    content: bytes


@dataclass
class MessageDraft:
    """What an adapter read from one citizen message, before normalisation.

    Text fields are as the channel gave them; the normalizer cleans, classifies and checks.
    """

    external_id: str
    received_at: dt.datetime
    body: str
    body_content_type: str = "text/plain"
    title: str | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    handle: str | None = None
    address: str | None = None
    identity_number: str | None = None
    location_text: str | None = None
    lat: float | None = None
    lon: float | None = None
    region_code: str | None = None
    kind: str | None = None
    category: str | None = None
    anonymous: bool | None = None
    confidential: bool | None = None
    incident_date: dt.date | None = None
    attachments: list[AttachmentData] = field(default_factory=list)
    letter: dict[str, Any] | None = None
    # A follow-up: the tracking id (or gateway report id) of an earlier report this message
    # continues. The gateway checks it belongs to the same sender before treating it so.
    in_reply_to: str | None = None
    # Provider message ids this message answers (email In-Reply-To/References). The gateway
    # matches them against the replies it sent and the messages it stored: a match makes the
    # message a follow-up on that report.
    thread_refs: list[str] = field(default_factory=list)
    # The citizen asks for the status of this tracking id (SMS "STATUS LPR1234567"): no report
    # is made; the current status is sent back on the same channel.
    status_query: str | None = None
    # What the adapter noticed and the admin should see on the report's timeline (an
    # attachment skipped as too large, a charset guessed): plain text, no personal data.
    notes: list[str] = field(default_factory=list)
    # Where and how to answer the citizen (the adapter's own keys: phone, email, chat id...).
    reply_to: dict[str, str] = field(default_factory=dict)
    # The id of a button or list item the citizen picked (chat channels: Telegram inline
    # keyboards, WhatsApp interactive replies); the guided conversation reads it.
    choice: str | None = None


@dataclass
class RawMessage:
    """One message from a source: its key, the raw record kept for replay, and its draft.

    `hold` names why the message must not become a report (auto-reply, bounce, empty,
    mailing list): the gateway keeps it in quarantine, visible and releasable by an admin.
    `problem` is set by a polled adapter that could not read this message: the gateway keeps
    it as rejected with that error (never dropped) and the poll goes on.
    """

    external_id: str
    received_at: dt.datetime
    raw: dict[str, Any]
    draft: MessageDraft
    hold: HoldReason | None = None
    problem: PayloadInvalid | None = None
