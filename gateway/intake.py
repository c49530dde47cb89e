"""Durable intake: a message becomes inbound log row + report + outbox row in one transaction.

Only after that commit does a channel acknowledge its source. A repeat of `(channel,
external_id)` is recognised and answered with the first report's id, never a second report.
Input that cannot be read is kept as a rejected row with its error, for an admin to fix and
replay: nothing is dropped.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from ulid import ULID

from adapters.base import Adapter, RawMessage, StoredOutcome
from adapters.errors import PayloadInvalid
from forwarder.routing import Router, RoutingFacts
from gateway.metrics import Metrics
from gateway.store.files import AttachmentStore
from gateway.store.models import ForwardItem, InboundMessage, Report, utcnow
from gateway.store.timeline import record_event
from normalizer.pipeline import NormalizerSettings, build_report, normalize_draft
from normalizer.report import Attachment, ChannelRef

log = logging.getLogger(__name__)


def new_id() -> str:
    """A time-sortable unique id (ULID): the report id is the central's idempotency key."""
    return str(ULID())


class Intake:
    """Stores what adapters read; shared by webhooks, pollers and manual entry."""

    def __init__(self, sessions: sessionmaker[Session], router: Router,
                 settings_for: Callable[[Adapter], NormalizerSettings],
                 attachments: AttachmentStore, metrics: Metrics | None = None) -> None:
        self.sessions = sessions
        self.router = router
        self.settings_for = settings_for
        self.attachments = attachments
        self.metrics = metrics

    def accept(self, adapter: Adapter, messages: Sequence[RawMessage]) -> list[StoredOutcome]:
        """Store every message in one transaction; raise PayloadInvalid before storing any.

        Two requests carrying the same message at the same moment race on the unique key;
        the loser rolls back and answers with the winner's report.
        """
        for attempt in range(3):
            try:
                with self.sessions.begin() as session:
                    outcomes = [self.store(session, adapter, m) for m in messages]
            except IntegrityError:
                if attempt == 2:
                    raise
                continue
            for outcome in outcomes:
                self._count(adapter.name, "accepted" if outcome.created else "duplicate")
            return outcomes
        raise AssertionError("unreachable")

    def store(self, session: Session, adapter: Adapter, message: RawMessage) -> StoredOutcome:
        """Store one message in the caller's transaction (see `accept`)."""
        existing = session.scalar(select(InboundMessage).where(
            InboundMessage.channel == adapter.name,
            InboundMessage.external_id == message.external_id))
        if existing is not None:
            report = session.get(Report, existing.report_id) if existing.report_id else None
            return StoredOutcome(report_id=existing.report_id or existing.id,
                                 external_id=message.external_id, created=False,
                                 status=_public_status(report, existing.state))
        settings = self.settings_for(adapter)
        normalized = normalize_draft(message.draft, settings)
        routing = self.router.route(RoutingFacts(
            text=f"{normalized.title}\n{normalized.body}", kind=normalized.kind,
            channel=adapter.name, category=normalized.category,
            region=normalized.location.region_code if normalized.location else None))
        attachments = [
            Attachment(filename=a.filename, content_type=a.content_type, size=len(a.content),
                       sha256=self.attachments.put(a.content))
            for a in message.draft.attachments
        ]
        report_id, inbound_id = new_id(), new_id()
        canonical = build_report(
            normalized, report_id=report_id,
            channel=ChannelRef(name=adapter.name, type=adapter.type),
            external_id=message.external_id, received_at=message.received_at,
            routing=routing, attachments=attachments)
        session.add(InboundMessage(
            id=inbound_id, channel=adapter.name, external_id=message.external_id,
            received_at=message.received_at, state="accepted", raw=message.raw,
            report_id=report_id))
        session.flush()  # the unique key is checked here, before anything else is written
        session.add(Report(
            id=report_id, inbound_id=inbound_id, channel=adapter.name,
            channel_type=adapter.type, external_id=message.external_id, kind=canonical.kind,
            agency=routing.agency, hops=[], payload=canonical.to_wire(),
            reply_to=dict(message.draft.reply_to), state="queued"))
        session.flush()
        session.add(ForwardItem(report_id=report_id, action="submit", next_attempt_at=utcnow()))
        record_event(session, report_id, "received", channel=adapter.name, kind=canonical.kind)
        record_event(session, report_id, "routed", agency=routing.agency, reason=routing.reason)
        for note in normalized.notes:
            record_event(session, report_id, "normalizer_note", note=note)
        return StoredOutcome(report_id=report_id, external_id=message.external_id,
                             created=True, status="queued")

    def reject(self, adapter_name: str, raw: dict[str, Any], error: PayloadInvalid,
               received_at: dt.datetime | None = None) -> str:
        """Keep input that could not be read, with its error; returns the inbound row id."""
        inbound_id = new_id()
        with self.sessions.begin() as session:
            session.add(InboundMessage(
                id=inbound_id, channel=adapter_name, external_id=None,
                received_at=received_at or utcnow(), state="rejected", error=str(error),
                error_field=error.field, raw=raw))
        self._count(adapter_name, "rejected")
        log.warning("channel %s: input rejected and kept as %s: %s", adapter_name, inbound_id,
                    error)
        return inbound_id

    def _count(self, channel: str, result: str) -> None:
        if self.metrics:
            self.metrics.inbound.labels(channel, result).inc()


def _public_status(report: Report | None, inbound_state: str) -> str:
    if report is None:
        return inbound_state
    if report.state == "submitted":
        return report.central_status or "submitted"
    return report.state
