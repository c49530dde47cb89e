"""Durable intake: a message becomes inbound log row + report + outbox row in one transaction.

Only after that commit does a channel acknowledge its source. A repeat of `(channel,
external_id)` is recognised and answered with the first report's id, never a second report.
Input that cannot be read is kept as a rejected row with its error, for an admin to fix and
replay: nothing is dropped.

Besides new reports, a message may be:
- held back (`RawMessage.hold`: auto-reply, bounce, empty): kept in quarantine with its
  draft, visible and releasable into a report by an admin;
- a status query (`draft.status_query`): answered on the same channel, no report made;
- a follow-up (`draft.in_reply_to` or `draft.thread_refs` naming an earlier report of the
  same sender): sent to the central's follow-up endpoint of that report.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from sqlalchemy import Table, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from ulid import ULID

from adapters.base import Adapter, StoredOutcome
from forwarder.replies import ReplyQueue
from forwarder.routing import RouteDecision, Router, RoutingFacts
from gateway.links import FileLinks
from normalizer.pipeline import (
    NormalizedMessage,
    NormalizerSettings,
    build_report,
    normalize_draft,
)
from normalizer.report import Attachment, ChannelRef
from store.files import AttachmentStore
from store.metrics import Metrics
from store.models import (
    ForwardItem,
    InboundMessage,
    ReplyItem,
    Report,
    SyncState,
    TimelineEvent,
    utcnow,
)
from vocabulary.drafts import AttachmentData, MessageDraft, RawMessage
from vocabulary.errors import PayloadInvalid

log = logging.getLogger(__name__)

Action = Literal["report", "quarantine", "query", "followup"]


def new_id() -> str:
    """A time-sortable unique id (ULID): the report id is the central's idempotency key."""
    return str(ULID())


def draft_to_record(draft: MessageDraft, attachments: Sequence[Attachment]) -> dict[str, Any]:
    """A draft as JSON (attachments by hash, already in the store) for a quarantined row."""
    record = dataclasses.asdict(dataclasses.replace(draft, attachments=[]))
    record["received_at"] = draft.received_at.isoformat()
    if draft.incident_date is not None:
        record["incident_date"] = draft.incident_date.isoformat()
    record["attachments"] = [a.model_dump(mode="json") for a in attachments]
    return record


def draft_from_record(record: dict[str, Any], store: AttachmentStore) -> MessageDraft:
    """The draft kept with a quarantined row, attachments read back from the store."""
    values = dict(record)
    values["received_at"] = dt.datetime.fromisoformat(values["received_at"])
    if values.get("incident_date"):
        values["incident_date"] = dt.date.fromisoformat(values["incident_date"])
    values["attachments"] = [
        AttachmentData(
            filename=a["filename"], content_type=a["content_type"], content=store.get(a["sha256"])
        )
        for a in values.get("attachments") or []
    ]
    known = {f.name for f in dataclasses.fields(MessageDraft)}
    return MessageDraft(**{k: v for k, v in values.items() if k in known})


@dataclass
class _Plan:
    """One message, read and checked, waiting for its place in a transaction."""

    message: RawMessage
    action: Action
    normalized: NormalizedMessage | None = None
    attachments: list[Attachment] = field(default_factory=list)
    route: RouteDecision | None = None  # decided before the transaction (models take time)


@dataclass
class _Rows:
    """The rows a batch adds, written in one statement per table at its end.

    No key is needed back, so the ORM's one-by-one inserts (to learn generated keys) and its
    unit-of-work bookkeeping are skipped: the writer's cost per message halves.
    """

    inbound: list[dict[str, Any]] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)
    forward: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def outbox(self, report_id: str, action: str, payload: dict[str, Any] | None = None) -> None:
        now = utcnow()
        self.forward.append(
            {
                "report_id": report_id,
                "action": action,
                "payload": payload,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )

    def event(self, report_id: str, event: str, **detail: Any) -> None:
        self.events.append(
            {"report_id": report_id, "event": event, "detail": detail, "at": utcnow()}
        )

    def write(self, session: Session) -> None:
        """Insert everything collected, parents first."""
        session.flush()
        conn = session.connection()  # Core, not the ORM's bulk path: the column types apply
        for model, values in (
            (InboundMessage, self.inbound),
            (Report, self.reports),
            (ForwardItem, self.forward),
            (TimelineEvent, self.events),
        ):
            if values:
                conn.execute(insert(cast(Table, model.__table__)), values)
        self.inbound, self.reports, self.forward, self.events = [], [], [], []


@dataclass
class _Job:
    """One caller's messages waiting for the group-commit writer."""

    adapter: Adapter
    messages: Sequence[RawMessage]
    cursor: tuple[str, str] | None = None
    done: threading.Event = field(default_factory=threading.Event)
    plans: list[_Plan] | None = None
    outcomes: list[StoredOutcome] | None = None
    error: BaseException | None = None


class Intake:
    """Stores what adapters read; shared by webhooks, pollers and manual entry.

    Concurrent callers share commits (group commit): one writer thread takes every job
    waiting at that moment and stores them in one transaction. Messages are normalized
    before the transaction, so a bad one fails its own caller alone. Every caller still
    returns only after the commit that holds its messages, so "acknowledge after commit"
    holds; the fsync and the write lock are paid once per batch instead of once per request.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        router: Router,
        settings_for: Callable[[Adapter], NormalizerSettings],
        attachments: AttachmentStore,
        metrics: Metrics | None = None,
        replies: ReplyQueue | None = None,
        max_batch: int = 64,
        links: FileLinks | None = None,
    ) -> None:
        self.sessions = sessions
        self.router = router
        self.settings_for = settings_for
        self.attachments = attachments
        self.metrics = metrics
        self.replies = replies
        self.links = links
        self.max_batch = max_batch
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._writer_lock = threading.Lock()

    # --- the public entry ---------------------------------------------------------------

    def accept(
        self,
        adapter: Adapter,
        messages: Sequence[RawMessage],
        *,
        cursor: tuple[str, str] | None = None,
    ) -> list[StoredOutcome]:
        """Store every message in one transaction; raise PayloadInvalid before storing any.

        Returns once the messages are committed. `cursor` (key, value) is saved in the same
        transaction: a poller's position moves exactly when its messages are stored. Two
        requests carrying the same message at the same moment (in two processes) race on
        the unique key; the loser rolls back and answers with the winner's report.
        """
        job = _Job(adapter, messages, cursor)
        try:
            job.plans = [self._plan(adapter, m) for m in messages]
        except PayloadInvalid:
            self._count(adapter.name, "invalid")
            raise
        self._ensure_writer()
        self._jobs.put(job)
        job.done.wait()
        if job.error is not None:
            raise job.error
        assert job.outcomes is not None
        for outcome in job.outcomes:
            self._count(
                adapter.name,
                "duplicate"
                if not outcome.created
                else outcome.status
                if outcome.status in ("quarantined", "query", "followup")
                else "accepted",
            )
        return job.outcomes

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
                        external_id=external_id,
                        received_at=received_at or utcnow(),
                        state="rejected",
                        error=str(error),
                        error_field=error.field,
                        raw=raw,
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

    def release(self, session: Session, inbound_id: str, adapter: Adapter) -> str:
        """Turn a quarantined message into a report (an admin decided it is real)."""
        row = session.get(InboundMessage, inbound_id)
        if row is None or row.state != "quarantined" or row.draft is None:
            raise LookupError(f"no quarantined message {inbound_id}")
        draft = draft_from_record(row.draft, self.attachments)
        message = RawMessage(
            external_id=row.external_id or inbound_id,
            received_at=row.received_at,
            raw=row.raw,
            draft=draft,
        )
        plan = self._plan(adapter, message, ignore_hold=True)
        plan.action = "report"
        rows = _Rows()
        report_id = self._add_report(adapter, plan, inbound_id, rows)
        row.state, row.report_id = "released", report_id
        rows.event(report_id, "released", reason=row.error)
        rows.write(session)
        return report_id

    # --- phase 1: read and check, no database -------------------------------------------

    def _plan(self, adapter: Adapter, message: RawMessage, *, ignore_hold: bool = False) -> _Plan:
        draft = message.draft
        if message.problem is not None:
            raise message.problem
        if message.hold and not ignore_hold:
            plan = _Plan(message, "quarantine")
        elif draft.status_query:
            return _Plan(message, "query")
        else:
            action: Action = "followup" if (draft.in_reply_to or draft.thread_refs) else "report"
            plan = _Plan(message, action, normalize_draft(draft, self.settings_for(adapter)))
            plan.route = self._decide_route(adapter, plan.normalized)
        plan.attachments = [self._store_attachment(a) for a in draft.attachments]
        return plan

    def _store_attachment(self, data: AttachmentData) -> Attachment:
        """Keep the file by its hash; the central gets a signed link to it."""
        sha256 = self.attachments.put(data.content)
        url = self.links.url_for(sha256, data.filename, data.content_type) if self.links else None
        return Attachment(
            filename=data.filename,
            content_type=data.content_type,
            size=len(data.content),
            sha256=sha256,
            url=url,
        )

    # --- phase 2: the group-commit writer -------------------------------------------------

    def _ensure_writer(self) -> None:
        if self._writer is not None and self._writer.is_alive():
            return
        with self._writer_lock:
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(
                    target=self._write_forever, name="intake-writer", daemon=True
                )
                self._writer.start()

    def _write_forever(self) -> None:
        while True:
            batch = [self._jobs.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._jobs.get_nowait())
                except queue.Empty:
                    break
            try:
                self._write_batch(batch)
            finally:
                for job in batch:
                    job.done.set()

    def _write_batch(self, batch: list[_Job]) -> None:
        try:
            with self.sessions.begin() as session:
                self._store_jobs(session, batch)
            return
        except IntegrityError:
            pass  # another process stored one of these keys first: settle them one by one
        except Exception as exc:
            log.exception("storing %d inbound message batch(es) failed", len(batch))
            for job in batch:
                job.outcomes, job.error = None, exc
            return
        for job in batch:
            job.outcomes, job.error = None, None
            for attempt in range(3):
                try:
                    with self.sessions.begin() as session:
                        self._store_jobs(session, [job])
                    break
                except IntegrityError as exc:
                    if attempt == 2:
                        job.outcomes, job.error = None, exc
                except Exception as exc:  # noqa: BLE001
                    job.outcomes, job.error = None, exc
                    break

    def _store_jobs(self, session: Session, jobs: Sequence[_Job]) -> None:
        keys = {(job.adapter.name, m.external_id) for job in jobs for m in job.messages}
        existing = self._existing(session, keys)
        rows = _Rows()
        for job in jobs:
            assert job.plans is not None
            job.outcomes = [
                self._store_plan(session, job.adapter, plan, existing, rows) for plan in job.plans
            ]
            if job.cursor is not None:
                save_cursor(session, *job.cursor)
        rows.write(session)

    @staticmethod
    def _existing(
        session: Session, keys: set[tuple[str, str]]
    ) -> dict[tuple[str, str], StoredOutcome]:
        found: dict[tuple[str, str], StoredOutcome] = {}
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
        for channel, ext, inbound_id, state, report_id, rstate, cstatus in rows:
            if ext is not None and (channel, ext) in keys:
                found[(channel, ext)] = StoredOutcome(
                    report_id=report_id or inbound_id,
                    external_id=ext,
                    created=False,
                    status=_public_status(rstate, cstatus, state),
                )
        return found

    def _store_plan(
        self,
        session: Session,
        adapter: Adapter,
        plan: _Plan,
        existing: dict[tuple[str, str], StoredOutcome],
        rows: _Rows,
    ) -> StoredOutcome:
        message = plan.message
        key = (adapter.name, message.external_id)
        if key in existing:
            return existing[key]
        inbound_id = new_id()
        inbound: dict[str, Any] = {
            "id": inbound_id,
            "channel": adapter.name,
            "external_id": message.external_id,
            "received_at": message.received_at,
            "state": "accepted",
            "error": None,
            "error_field": None,
            "raw": message.raw,
            "report_id": None,
            "draft": None,
        }
        rows.inbound.append(inbound)  # written before the report rows that point at it
        if plan.action == "quarantine":
            inbound.update(
                state="quarantined",
                error=message.hold,
                draft=draft_to_record(message.draft, plan.attachments),
            )
            log.info(
                "channel %s: message %s held in quarantine (%s)",
                adapter.name,
                inbound_id,
                message.hold,
            )
            outcome = StoredOutcome(inbound_id, message.external_id, True, "quarantined")
        elif plan.action == "query":
            asked = self._answer_query(session, adapter, message.draft, inbound_id)
            inbound.update(state="query", report_id=asked)
            outcome = StoredOutcome(asked or inbound_id, message.external_id, True, "query")
        else:
            target = (
                self._followup_target(session, adapter, message.draft)
                if plan.action == "followup"
                else None
            )
            if target is not None:
                inbound.update(state="followup", report_id=target.id)
                self._add_followup(target, plan, inbound_id, rows)
                outcome = StoredOutcome(target.id, message.external_id, True, "followup")
            else:
                report_id = self._add_report(adapter, plan, inbound_id, rows)
                inbound["report_id"] = report_id
                outcome = StoredOutcome(report_id, message.external_id, True, "queued")
        existing[key] = dataclasses.replace(outcome, created=False)
        return outcome

    # --- what each kind of message writes -----------------------------------------------

    def _decide_route(
        self, adapter: Adapter, normalized: NormalizedMessage | None
    ) -> RouteDecision:
        assert normalized is not None
        return self.router.decide(
            RoutingFacts(
                text=f"{normalized.title}\n{normalized.body}",
                kind=normalized.kind,
                channel=adapter.name,
                category=normalized.category,
                region=normalized.location.region_code if normalized.location else None,
            )
        )

    def _add_report(self, adapter: Adapter, plan: _Plan, inbound_id: str, rows: _Rows) -> str:
        normalized = plan.normalized
        assert normalized is not None
        message = plan.message
        decision = plan.route or self._decide_route(adapter, normalized)
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
                "state": "queued",
                "created_at": now,
                "updated_at": now,
            }
        )
        rows.outbox(report_id, "submit")
        rows.event(report_id, "received", channel=adapter.name, kind=canonical.kind)
        rows.event(report_id, "routed", **decision.detail())
        for note in normalized.notes:
            rows.event(report_id, "normalizer_note", note=note)
        return report_id

    def _followup_target(
        self, session: Session, adapter: Adapter, draft: MessageDraft
    ) -> Report | None:
        """The earlier report of the same sender this message continues, if any."""
        candidates: list[Report] = []
        if draft.in_reply_to:
            ident = draft.in_reply_to.strip()
            candidates += session.scalars(
                select(Report).where(or_(Report.tracking_id == ident, Report.id == ident))
            )
        if draft.thread_refs:
            refs = list(dict.fromkeys(draft.thread_refs))
            candidates += session.scalars(
                select(Report)
                .join(ReplyItem, ReplyItem.report_id == Report.id)
                .where(ReplyItem.provider_id.in_(refs))
            )
            candidates += session.scalars(
                select(Report)
                .join(InboundMessage, InboundMessage.report_id == Report.id)
                .where(InboundMessage.channel == adapter.name, InboundMessage.external_id.in_(refs))
            )
        sender = adapter.recipient_key(draft.reply_to)
        for report in candidates:
            if (
                sender
                and report.channel == adapter.name
                and adapter.recipient_key(report.reply_to or {}) == sender
            ):
                return report
        if candidates:
            log.info(
                "channel %s: message names report(s) of another sender; new report", adapter.name
            )
        return None

    @staticmethod
    def _add_followup(target: Report, plan: _Plan, inbound_id: str, rows: _Rows) -> None:
        normalized = plan.normalized
        assert normalized is not None
        payload = {
            "id": inbound_id,
            "body": normalized.body,
            "received_at": plan.message.received_at.astimezone(dt.UTC)
            .isoformat()
            .replace("+00:00", "Z"),
            "attachments": [a.model_dump(mode="json") for a in plan.attachments],
        }
        rows.outbox(target.id, "followup", payload)
        rows.event(target.id, "followup", inbound_id=inbound_id, attachments=len(plan.attachments))

    def _answer_query(
        self, session: Session, adapter: Adapter, draft: MessageDraft, inbound_id: str
    ) -> str | None:
        """Queue the answer to "STATUS <tracking id>"; returns the report asked about."""
        ident = (draft.status_query or "").strip().upper()
        report = session.scalar(
            select(Report).where(or_(Report.tracking_id == ident, Report.id == ident))
        )
        if self.replies is None:
            return report.id if report else None
        sender = adapter.recipient_key(draft.reply_to)
        own = bool(
            report
            and sender
            and report.channel == adapter.name
            and adapter.recipient_key(report.reply_to or {}) == sender
        )
        self.replies.answer_query(
            session,
            adapter.name,
            dict(draft.reply_to),
            inbound_id,
            ident,
            report,
            include_response=own,
        )
        return report.id if report else None

    def _count(self, channel: str, result: str) -> None:
        if self.metrics:
            self.metrics.inbound.labels(channel, result).inc()


def load_cursor(session: Session, key: str) -> str | None:
    """A poller's saved position (None before its first message)."""
    row = session.get(SyncState, key)
    return row.value if row else None


def save_cursor(session: Session, key: str, value: str) -> None:
    """Save a poller's position in the caller's transaction."""
    row = session.get(SyncState, key)
    if row is None:
        session.add(SyncState(key=key, value=value))
    else:
        row.value = value


def _public_status(report_state: str | None, central_status: str | None, inbound_state: str) -> str:
    if report_state is None:
        return inbound_state
    if report_state == "submitted":
        return central_status or "submitted"
    return report_state
