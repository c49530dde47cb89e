"""SQLAlchemy 2 typed models: inbound log, reports, forward outbox, reply outbox, timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from normalizer.conversation import ConversationStep
from store.states import (
    CorrectionSource,
    ForwardAction,
    ForwardState,
    InboundState,
    ReplyState,
    ReportState,
    Role,
    StrEnumType,
)
from vocabulary.central import CentralStatus
from vocabulary.deliveries import DeliveryStatus
from vocabulary.holds import HoldReason
from vocabulary.kinds import Kind

JsonType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> dt.datetime:
    """The current time, UTC, aware."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores UTC; always gives back an aware UTC datetime (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        """Aware in, UTC stored."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        """Aware UTC out."""
        if value is None:
            return None
        moment: dt.datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""


class InboundMessage(Base):
    """A message as it arrived, kept raw for replay, keyed by (channel, external_id).

    Rejected input (malformed, missing fields) is kept too, with `external_id` NULL so a
    corrected resend is not mistaken for a repeat.
    """

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_inbound_channel_ext"),
        Index("ix_inbound_state", "state"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(255))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    stored_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    state: Mapped[InboundState] = mapped_column(StrEnumType(InboundState))
    # Why the message could not be read (state rejected): shown to the admin, never the input.
    error: Mapped[str | None] = mapped_column(Text)
    error_field: Mapped[str | None] = mapped_column(String(255))
    raw: Mapped[dict[str, Any]] = mapped_column(JsonType)
    report_id: Mapped[str | None] = mapped_column(String(32))
    # Why a message was held back (auto-reply, bounce, empty, mailing list...).
    hold_reason: Mapped[HoldReason | None] = mapped_column(StrEnumType(HoldReason, 64))
    # sha256 of the request that brought it (webhooks): a repeat of the key with another
    # body is not the same message, and is not answered with this one's report id.
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    # The adapter's draft (attachments by hash) for a quarantined message, to release later.
    draft: Mapped[dict[str, Any] | None] = mapped_column(JsonType)


class Report(Base):
    """A canonical report and where it stands at the central."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_report_channel_ext"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    inbound_id: Mapped[str | None] = mapped_column(ForeignKey("inbound_messages.id"))
    channel: Mapped[str] = mapped_column(String(64))
    channel_type: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    kind: Mapped[Kind] = mapped_column(StrEnumType(Kind, 32))
    agency: Mapped[str] = mapped_column(String(64))
    hops: Mapped[list[str]] = mapped_column(JsonType, default=list)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    reply_to: Mapped[dict[str, str]] = mapped_column(JsonType, default=dict)
    state: Mapped[ReportState] = mapped_column(StrEnumType(ReportState), default=ReportState.QUEUED)
    tracking_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    central_status: Mapped[CentralStatus | None] = mapped_column(StrEnumType(CentralStatus, 32))
    central_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The citizen's private status link (/s/<token>); kept plain, see store/status_tokens.py.
    status_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # While the kind and routing models have yet to decide (forwarder.model_pass): what their
    # decision needs; None once they have (and for a gateway without models).
    awaiting_models: Mapped[dict[str, Any] | None] = mapped_column(JsonType)

    # Declared so one flush orders INSERTs by dependency (intake writes whole batches);
    # never loaded implicitly.
    inbound: Mapped[InboundMessage | None] = relationship(lazy="raise")


class ForwardItem(Base):
    """One thing to tell the central about a report: submit, reroute, or a follow-up."""

    __tablename__ = "forward_outbox"
    __table_args__ = (Index("ix_forward_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), index=True)
    action: Mapped[ForwardAction] = mapped_column(StrEnumType(ForwardAction))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    state: Mapped[ForwardState] = mapped_column(
        StrEnumType(ForwardState), default=ForwardState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    report: Mapped[Report] = relationship(lazy="raise")  # flush order only


class ReplyItem(Base):
    """One message to the citizen, sent by the channel they used; one per (report, event)."""

    __tablename__ = "reply_outbox"
    __table_args__ = (
        UniqueConstraint("report_id", "event", name="uq_reply_report_event"),
        Index("ix_reply_due", "state", "next_attempt_at"),
        Index("ix_reply_recipient", "channel", "recipient", "sent_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # None for an answer that concerns no report of ours (a query about an unknown id).
    report_id: Mapped[str | None] = mapped_column(ForeignKey("reports.id"), index=True)
    # Where to send it when not to the report's own sender (the asker of a status query).
    reply_to: Mapped[dict[str, str] | None] = mapped_column(JsonType)
    # sha256 of the adapter's recipient key: the per-recipient rate limit counts by it.
    recipient: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[ReplyState] = mapped_column(StrEnumType(ReplyState), default=ReplyState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Buttons offered with the text (guided conversation): [[id, title], ...].
    choices: Mapped[list[list[str]] | None] = mapped_column(JsonType)
    # What the provider said after sending (WhatsApp statuses).
    delivery_status: Mapped[DeliveryStatus | None] = mapped_column(StrEnumType(DeliveryStatus))
    delivery_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    delivery_error: Mapped[str | None] = mapped_column(Text)
    # The provider said the free-form window was closed (WhatsApp 131047): the reply goes
    # again, once, in the form allowed outside it (the approved template).
    window_closed: Mapped[bool] = mapped_column(Boolean, default=False)

    report: Mapped[Report | None] = relationship(lazy="raise")  # flush order only


class TimelineEvent(Base):
    """Something that happened to a report, in order: received, routed, forwarded, status..."""

    __tablename__ = "timeline_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    event: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)

    report: Mapped[Report] = relationship(lazy="raise")  # flush order only


class SyncState(Base):
    """Small key/value state of scheduled jobs (the changes-feed position)."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ChannelStatus(Base):
    """Whether a channel's source (a poll, a reply gateway) answers: for /readyz and admins.

    Written by whichever process polls or sends for the channel, read by every web process.
    """

    __tablename__ = "channel_status"

    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_ok_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Set while the channel fails; cleared by its next success.
    failing_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    failures: Mapped[int] = mapped_column(Integer, default=0)
    # Which parts fail now, comma-separated: "source" (reading it), "replies" (sending).
    failing_parts: Mapped[str | None] = mapped_column(String(64))
    # The newest channel warning (a gap in what the source still serves after an outage):
    # the channel works, but an admin must look. Kept until a newer warning replaces it.
    last_warning: Mapped[str | None] = mapped_column(Text)
    last_warning_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Conversation(Base):
    """A citizen's guided conversation on a chat channel (Telegram, WhatsApp), in progress.

    One per (channel, chat); `chat` is the sha256 of the adapter's recipient key, so the
    table holds no phone number in clear. Deleted when the report is made or it is given up.
    """

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("channel", "chat", name="uq_conversation_chat"),
        Index("ix_conversation_expires", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(64))
    chat: Mapped[str] = mapped_column(String(64))
    step: Mapped[ConversationStep] = mapped_column(StrEnumType(ConversationStep, 32))
    data: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    reply_to: Mapped[dict[str, str]] = mapped_column(JsonType, default=dict)
    turns: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class TrainingRow(Base):
    """A report whose right agency is known from a correction: one row for retraining routing.

    Written when the central returns a report and it is rerouted, when the central itself
    moves it to another agency, or when an admin corrects the agency; a later correction of
    the same report replaces the earlier one. `text` has personal data removed.
    """

    __tablename__ = "training_rows"
    __table_args__ = (UniqueConstraint("report_id", name="uq_training_report"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"))
    text: Mapped[str] = mapped_column(Text)
    agency: Mapped[str] = mapped_column(String(64))
    previous_agency: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[CorrectionSource] = mapped_column(StrEnumType(CorrectionSource))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    report: Mapped[Report] = relationship(lazy="raise")  # flush order only


# --- admin console (issue 11) -----------------------------------------------------------------

# The reports list filters by these and orders by time: each filter has an index that
# also serves the order (bench/admin_pages.py shows the plans).
Index("ix_reports_created", Report.created_at)
Index("ix_reports_channel_created", Report.channel, Report.created_at)
Index("ix_reports_agency_created", Report.agency, Report.created_at)
Index("ix_reports_kind_created", Report.kind, Report.created_at)
Index("ix_reports_state_created", Report.state, Report.central_status, Report.created_at)
# The dashboard counts messages per channel and day.
Index("ix_inbound_channel_received", InboundMessage.channel, InboundMessage.received_at)
# ... and shows each channel's newest rejected input (migration 0016).
Index(
    "ix_inbound_state_channel_stored",
    InboundMessage.state,
    InboundMessage.channel,
    InboundMessage.stored_at,
)
# The text search's own indexes (FTS5 on SQLite, pg_trgm on PostgreSQL) are not models:
# see store/search.py and migration 0016.


class User(Base):
    """A person who signs in to the admin console: `admin` (everything) or `operator`."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(StrEnumType(Role))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    password_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """One admin action: who did what to which object, when (never personal data)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)


class ChannelContact(Base):
    """When a citizen last wrote on a channel whose replies depend on it (Meta's 24 hours).

    One row per (channel, recipient); `recipient` is the sha256 of the adapter's recipient
    key (no phone number in clear). Any message counts: a report, a follow-up, a status
    question, a conversation turn.
    """

    __tablename__ = "channel_contacts"

    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_inbound_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
