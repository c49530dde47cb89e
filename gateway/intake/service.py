"""Durable intake: a message becomes inbound log row + report + outbox row in one transaction.

Only after that commit does a channel acknowledge its source. A repeat of `(channel,
external_id)` is recognised and answered with the first report's id, never a second report;
a repeat of a webhook key with a different body is a conflict and learns nothing. Input that
cannot be read is kept as a rejected row with its error, for an admin to fix and replay:
nothing is dropped.

Besides new reports, a message may be held back (quarantine), a status query, or a
follow-up on an earlier report of the same sender (see `followups`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from ulid import ULID

from adapters.base import Adapter, StoredOutcome
from forwarder.model_pass import awaiting
from forwarder.replies import ReplyQueue, recipient_hash
from forwarder.routing import Router
from gateway.conversation import ChatFlow
from gateway.intake import followups
from gateway.intake.plan import Action, Plan, Planner
from gateway.intake.records import draft_from_record, draft_to_record
from gateway.intake.rows import BatchRows
from gateway.intake.writer import GroupCommitWriter, WriteJob
from gateway.links import FileLinks
from normalizer.pipeline import NormalizerSettings, build_report, normalize_draft
from normalizer.report import ChannelRef
from store.cursors import save_cursor
from store.files import AttachmentStore
from store.jsonsafe import restored, storable
from store.metrics import Metrics
from store.models import InboundMessage, Report, utcnow
from store.states import ForwardAction, InboundState, ReportState
from store.status_tokens import new_status_token
from store.timeline import record_event
from vocabulary.drafts import RawMessage
from vocabulary.errors import PayloadInvalid

log = logging.getLogger(__name__)

MAX_ERROR_FIELD = 255


def new_id() -> str:
    """A time-sortable unique id (ULID): the report id is the central's idempotency key."""
    return str(ULID())


class Intake:
    """Stores what adapters read; shared by webhooks, pollers and manual entry."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        router: Router,
        settings_for: Callable[[Adapter[Any]], NormalizerSettings],
        attachments: AttachmentStore,
        metrics: Metrics | None = None,
        replies: ReplyQueue | None = None,
        max_batch: int = 64,
        links: FileLinks | None = None,
        defer_models: bool = False,
    ) -> None:
        self.sessions = sessions
        self.router = router
        self.attachments = attachments
        self.metrics = metrics
        self.replies = replies
        self.planner = Planner(settings_for, attachments, links, router, defer_models)
        self.writer = GroupCommitWriter(sessions, self._store_jobs, max_batch=max_batch)
        # The guided conversation of chat channels (set by the runtime; None: no hook).
        self.chat_flow: ChatFlow | None = None

    # --- the public entries ---------------------------------------------------------------

    def accept(
        self,
        adapter: Adapter[Any],
        messages: Sequence[RawMessage],
        *,
        cursor: tuple[str, str] | None = None,
        fingerprint: str | None = None,
    ) -> list[StoredOutcome]:
        """Store every message in one transaction; raise PayloadInvalid before storing any.

        Returns once the messages are committed. `cursor` (key, value) is saved in the same
        transaction: a poller's position moves exactly when its messages are stored.
        `fingerprint` identifies the request that carried them (webhooks).
        """
        try:
            plans = [self.planner.plan(adapter, m, fingerprint=fingerprint) for m in messages]
        except PayloadInvalid:
            self._count(adapter.name, "invalid")
            raise
        outcomes = self.writer.run(WriteJob(adapter, plans, cursor))
        for outcome in outcomes:
            self._count(adapter.name, _result_label(outcome))
        return outcomes

    def reject(
        self,
        adapter_name: str,
        raw: dict[str, Any],
        error: PayloadInvalid,
        received_at: dt.datetime | None = None,
        external_id: str | None = None,
        cursor: tuple[str, str] | None = None,
    ) -> str:
        """Keep input that could not be read, with its error; returns the inbound row id.

        A webhook's rejected input has no key (a corrected resend is not a repeat); a polled
        message keeps its key, so the next poll recognises it and the source can let go.
        """
        inbound_id = new_id()
        try:
            with self.sessions.begin() as session:
                session.add(
                    InboundMessage(
                        id=inbound_id,
                        channel=adapter_name,
                        external_id=_usable_key(external_id),
                        received_at=_usable_time(received_at),
                        state=InboundState.REJECTED,
                        error=str(error),
                        error_field=(error.field or None) and str(error.field)[:MAX_ERROR_FIELD],
                        raw=storable(raw),
                    )
                )
                if cursor is not None:
                    save_cursor(session, *cursor)
        except IntegrityError:
            with self.sessions() as session:
                existing = session.scalar(
                    select(InboundMessage.id).where(
                        InboundMessage.channel == adapter_name,
                        InboundMessage.external_id == external_id,
                    )
                )
            return existing or inbound_id
        self._count(adapter_name, "rejected")
        log.warning(
            "channel %s: input rejected and kept as %s: %s", adapter_name, inbound_id, error
        )
        return inbound_id

    def release(self, session: Session, inbound_id: str, adapter: Adapter[Any]) -> str:
        """Turn a quarantined message into a report (an admin decided it is real)."""
        row = session.get(InboundMessage, inbound_id)
        if row is None or row.state != InboundState.QUARANTINED or row.draft is None:
            raise LookupError(f"no quarantined message {inbound_id}")
        draft = draft_from_record(row.draft, self.attachments)
        message = RawMessage(
            external_id=row.external_id or inbound_id,
            received_at=row.received_at,
            raw=row.raw,
            draft=draft,
        )
        plan = self.planner.plan(adapter, message, ignore_hold=True)
        plan.action = Action.REPORT
        rows = BatchRows()
        report_id = self._add_report(adapter, plan, inbound_id, rows)
        row.state, row.report_id = InboundState.RELEASED, report_id
        rows.event(report_id, "released", reason=row.hold_reason)
        rows.write(session)
        return report_id

    def reprocess(self, inbound_id: str, adapter: Adapter[Any]) -> list[StoredOutcome]:
        """Read rejected input again (after an admin fixed the config) and store it.

        In one transaction the rejected row becomes `reprocessed` (its key freed for the new
        row, its raw input kept) and its messages are stored as if they had just arrived; a
        repeat of something stored meanwhile answers with that report. Raises LookupError
        for a row that is not rejected input, NotImplementedError for a channel that cannot
        read its kept input again, PayloadInvalid (recorded on the row) when it still fails.
        """
        try:
            with self.sessions.begin() as session:
                return self._reprocess(session, inbound_id, adapter)
        except PayloadInvalid as exc:
            with self.sessions.begin() as session:
                row = session.get(InboundMessage, inbound_id)
                if row is not None:
                    row.error, row.error_field = str(exc), exc.field and exc.field[:255]
            raise

    def _reprocess(
        self, session: Session, inbound_id: str, adapter: Adapter[Any]
    ) -> list[StoredOutcome]:
        row = session.get(InboundMessage, inbound_id, with_for_update=True)
        if row is None or row.state != InboundState.REJECTED:
            raise LookupError(f"no rejected input {inbound_id}")
        try:
            messages = adapter.reread(restored(row.raw), row.received_at)
        except (PayloadInvalid, NotImplementedError):
            raise
        except Exception as exc:
            raise PayloadInvalid(f"masukan tidak dapat dibaca ({type(exc).__name__})") from exc
        plans = [self.planner.plan(adapter, m) for m in messages]
        row.state, row.external_id = InboundState.REPROCESSED, None
        session.flush()  # the key is free before the new rows take it
        job = WriteJob(adapter, plans)
        self._store_jobs(session, [job])
        outcomes = job.outcomes or []
        row.report_id = outcomes[0].report_id if outcomes else None
        for outcome in outcomes:
            if outcome.created and outcome.status == "queued":
                record_event(session, outcome.report_id, "reprocessed", inbound_id=inbound_id)
        log.info("channel %s: rejected input %s read again", adapter.name, inbound_id)
        return outcomes

    # --- inside the writer's transaction --------------------------------------------------

    def _store_jobs(self, session: Session, jobs: Sequence[WriteJob]) -> None:
        keys = {(job.adapter.name, p.message.external_id) for job in jobs for p in job.plans}
        existing = self._existing(session, keys)
        rows = BatchRows()
        if self.chat_flow is not None:
            for job in jobs:
                self.chat_flow.prefetch(session, job.adapter, (p.message.draft for p in job.plans))
        for job in jobs:
            job.outcomes = [
                self._store_plan(session, job.adapter, plan, existing, rows) for plan in job.plans
            ]
            if job.cursor is not None:
                save_cursor(session, *job.cursor)
        rows.write(session)

    @staticmethod
    def _existing(
        session: Session, keys: set[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[StoredOutcome, str | None]]:
        """What is already stored under these keys: its outcome and request fingerprint."""
        found: dict[tuple[str, str], tuple[StoredOutcome, str | None]] = {}
        if not keys:
            return found
        inbound, report = InboundMessage.__table__.c, Report.__table__.c
        rows = session.connection().execute(
            select(
                inbound.channel,
                inbound.external_id,
                inbound.id,
                inbound.state,
                inbound.report_id,
                inbound.fingerprint,
                report.state,
                report.central_status,
            )
            .select_from(
                InboundMessage.__table__.outerjoin(Report.__table__, report.id == inbound.report_id)
            )
            .where(
                inbound.channel.in_({c for c, _ in keys}),
                inbound.external_id.in_({e for _, e in keys}),
            )
        )
        for channel, ext, inbound_id, state, report_id, fprint, rstate, cstatus in rows:
            if ext is not None and (channel, ext) in keys:
                outcome = StoredOutcome(
                    report_id=report_id or inbound_id,
                    external_id=ext,
                    created=False,
                    status=public_status(rstate, cstatus, state),
                )
                found[(channel, ext)] = (outcome, fprint)
        return found

    def _store_plan(
        self,
        session: Session,
        adapter: Adapter[Any],
        plan: Plan,
        existing: dict[tuple[str, str], tuple[StoredOutcome, str | None]],
        rows: BatchRows,
    ) -> StoredOutcome:
        message = plan.message
        key = (adapter.name, message.external_id)
        if key in existing:
            outcome, fingerprint = existing[key]
            if plan.fingerprint and fingerprint and plan.fingerprint != fingerprint:
                return dataclasses.replace(outcome, conflict=True)
            return outcome
        inbound_id = new_id()
        inbound: dict[str, Any] = {
            "id": inbound_id,
            "channel": adapter.name,
            "external_id": message.external_id,
            "received_at": message.received_at,
            "state": InboundState.ACCEPTED,
            "error": None,
            "error_field": None,
            "hold_reason": None,
            "fingerprint": plan.fingerprint,
            "raw": storable(message.raw),
            "report_id": None,
            "draft": None,
        }
        rows.inbound.append(inbound)  # written before the report rows that point at it
        if adapter.reply_window:  # any message reopens the provider's reply window
            recipient = recipient_hash(adapter.recipient_key(message.draft.reply_to))
            if recipient is not None:
                rows.contact(adapter.name, recipient, message.received_at)
        outcome = self._apply(session, adapter, plan, inbound, rows)
        existing[key] = (dataclasses.replace(outcome, created=False), plan.fingerprint)
        return outcome

    def _apply(
        self,
        session: Session,
        adapter: Adapter[Any],
        plan: Plan,
        inbound: dict[str, Any],
        rows: BatchRows,
    ) -> StoredOutcome:
        """Write what the plan's action asks for; returns the outcome for the caller."""
        message, inbound_id = plan.message, str(inbound["id"])

        def outcome(report_id: str, status: str) -> StoredOutcome:
            return StoredOutcome(
                report_id=report_id, external_id=message.external_id, created=True, status=status
            )

        if plan.action is Action.QUARANTINE:
            inbound.update(
                state=InboundState.QUARANTINED,
                hold_reason=message.hold,
                draft=storable(draft_to_record(message.draft, plan.attachments)),
            )
            log.info(
                "channel %s: message %s held in quarantine (%s)",
                adapter.name,
                inbound_id,
                message.hold,
            )
            return outcome(inbound_id, "quarantined")
        if plan.action is Action.QUERY:
            asked = followups.answer_query(
                session, self.replies, adapter, message.draft, inbound_id
            )
            inbound.update(state=InboundState.QUERY, report_id=asked)
            return outcome(asked or inbound_id, "query")
        target = (
            followups.followup_target(session, adapter, message.draft, rows)
            if plan.action is Action.FOLLOWUP
            else None
        )
        if target is None:
            # A message quoting one of our prompts (WhatsApp sends reply buttons with the
            # prompt as `context`) continues no report: it may be a conversation turn.
            taken = self._conversation(session, adapter, plan, inbound_id, rows)
            if taken is not None:
                inbound.update(state=InboundState.CONVERSATION, report_id=taken.report_id)
                if taken.report_id is not None:
                    return outcome(taken.report_id, "queued")
                return outcome(inbound_id, "conversation")
        if target is not None:
            inbound.update(state=InboundState.FOLLOWUP, report_id=target.id)
            followups.add_followup(target, plan, inbound_id, rows)
            return outcome(target.id, "followup")
        report_id = self._add_report(adapter, plan, inbound_id, rows)
        inbound["report_id"] = report_id
        return outcome(report_id, "queued")

    def _conversation(
        self, session: Session, adapter: Adapter[Any], plan: Plan, inbound_id: str, rows: BatchRows
    ) -> Conversed | None:
        """The guided conversation's hook (gateway.conversation): None when not taken."""
        if self.chat_flow is None:
            return None
        taken = self.chat_flow.take(session, adapter, plan.message, plan.attachments, inbound_id)
        if taken is None:
            return None
        if taken.completed is None:
            return Conversed(report_id=None)
        done = Plan(
            taken.completed,
            Action.REPORT,
            plan.fingerprint,
            normalize_draft(taken.completed.draft, self.planner.settings_for(adapter)),
            taken.attachments,
        )
        return Conversed(report_id=self._add_report(adapter, done, inbound_id, rows))

    def _add_report(
        self, adapter: Adapter[Any], plan: Plan, inbound_id: str, rows: BatchRows
    ) -> str:
        normalized = plan.normalized
        assert normalized is not None
        message = plan.message
        decision = plan.route or self.planner.decide_route(adapter, normalized)
        routing = decision.routing
        report_id = new_id()
        canonical = build_report(
            normalized,
            report_id=report_id,
            channel=ChannelRef(name=adapter.name, type=adapter.type),
            external_id=message.external_id,
            received_at=message.received_at,
            routing=routing,
            attachments=plan.attachments,
        )
        now = utcnow()
        rows.reports.append(
            {
                "id": report_id,
                "inbound_id": inbound_id,
                "channel": adapter.name,
                "channel_type": adapter.type,
                "external_id": message.external_id,
                "kind": canonical.kind,
                "agency": routing.agency,
                "hops": [],
                "payload": canonical.to_wire(),
                "reply_to": dict(message.draft.reply_to),
                "state": ReportState.QUEUED,
                "status_token": new_status_token(),
                "created_at": now,
                "updated_at": now,
                "awaiting_models": (
                    awaiting(normalized.given_kind) if self.planner.defer_models else None
                ),
            }
        )
        rows.outbox(report_id, ForwardAction.SUBMIT)
        rows.event(report_id, "received", channel=adapter.name, kind=canonical.kind)
        if not self.planner.defer_models:  # else the models' pass records it
            rows.event(report_id, "routed", **decision.detail())
        for note in normalized.notes:
            rows.event(report_id, "normalizer_note", note=note)
        return report_id

    def _count(self, channel: str, result: str) -> None:
        if self.metrics:
            self.metrics.inbound.labels(channel, result).inc()


@dataclass(frozen=True)
class Conversed:
    """A message the guided conversation took; `report_id` when it completed a report."""

    report_id: str | None


def _result_label(outcome: StoredOutcome) -> str:
    if outcome.conflict:
        return "conflict"
    if not outcome.created:
        return "duplicate"
    if outcome.status in ("quarantined", "query", "followup", "conversation"):
        return outcome.status
    return "accepted"


def _usable_key(external_id: str | None) -> str | None:
    """A rejected message's key, when a column can hold it (else it is kept without one)."""
    if external_id and len(external_id) <= 255 and "\x00" not in external_id:
        return external_id
    return None


def _usable_time(received_at: dt.datetime | None) -> dt.datetime:
    if received_at is not None:
        try:
            if received_at.tzinfo is not None and received_at.astimezone(dt.UTC).year >= 1900:
                return received_at
        except (OverflowError, ValueError):
            pass
    return utcnow()


def public_status(report_state: str | None, central_status: str | None, inbound_state: str) -> str:
    """What a repeat of a message is answered with: where its report stands now."""
    if report_state is None:
        return str(inbound_state)
    if report_state == ReportState.SUBMITTED:
        return central_status or "submitted"
    return str(report_state)
