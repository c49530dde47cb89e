"""Messages that continue an earlier report: follow-ups and status questions.

A message counts as the same sender's only when the adapter's sender key (a phone number,
an email's From address, never its Reply-To) of the message equals the report's: naming
someone else's tracking id never attaches anything to their report, and never tells anyone
their agency's answer.

A message may continue one stored in the same transaction: a poller's batch (an X backlog)
can hold a post and the citizen's reply to it. Those rows are not written yet (`BatchRows`
writes them at the end), so the lookup reads the batch's own inbound rows as well.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from adapters.base import Adapter
from forwarder.replies import ReplyQueue
from gateway.intake.plan import Plan
from gateway.intake.rows import BatchRows
from store.models import InboundMessage, ReplyItem, Report
from store.states import ForwardAction
from vocabulary.drafts import MessageDraft

log = logging.getLogger(__name__)


def same_sender(adapter: Adapter[Any], draft: MessageDraft, report: Report) -> bool:
    """Whether the draft comes from the citizen who made the report, on its channel."""
    sender = adapter.sender_key(draft.reply_to)
    return bool(
        sender
        and report.channel == adapter.name
        and adapter.sender_key(report.reply_to or {}) == sender
    )


def followup_target(
    session: Session, adapter: Adapter[Any], draft: MessageDraft, batch: BatchRows | None = None
) -> Report | None:
    """The earlier report of the same sender this message continues, if any.

    `batch` holds the rows of the transaction so far, earlier messages of the same batch.
    """
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
            .where(
                InboundMessage.channel == adapter.name,
                InboundMessage.external_id.in_(refs),
            )
        )
        if batch is not None:
            candidates += in_batch(session, batch, adapter.name, refs)
    for report in candidates:
        if same_sender(adapter, draft, report):
            return report
    if candidates:
        log.info("channel %s: message names report(s) of another sender; new report", adapter.name)
    return None


def in_batch(session: Session, batch: BatchRows, channel: str, refs: list[str]) -> list[Report]:
    """Reports that messages of this batch (keyed by `refs`) made or continued.

    A report made in the batch is not in the database yet: it is given as an unsaved
    `Report` holding what the sender check and the follow-up need (id, channel, reply_to).
    """
    wanted = set(refs)
    report_ids = [
        str(row["report_id"])
        for row in batch.inbound
        if row["channel"] == channel and row["external_id"] in wanted and row["report_id"]
    ]
    if not report_ids:
        return []
    made = {str(r["id"]): r for r in batch.reports if str(r["id"]) in report_ids}
    found: list[Report] = []
    for report_id in dict.fromkeys(report_ids):
        row = made.get(report_id)
        if row is not None:
            found.append(Report(id=row["id"], channel=row["channel"], reply_to=row["reply_to"]))
        elif (stored := session.get(Report, report_id)) is not None:
            found.append(stored)
    return found


def add_followup(target: Report, plan: Plan, inbound_id: str, rows: BatchRows) -> None:
    """Queue the follow-up for the central and note it on the report's timeline."""
    normalized = plan.normalized
    assert normalized is not None
    received = plan.message.received_at.astimezone(dt.UTC)
    payload = {
        "id": inbound_id,
        "body": normalized.body,
        "received_at": received.isoformat().replace("+00:00", "Z"),
        "attachments": [a.model_dump(mode="json") for a in plan.attachments],
    }
    rows.outbox(target.id, ForwardAction.FOLLOWUP, payload)
    rows.event(target.id, "followup", inbound_id=inbound_id, attachments=len(plan.attachments))


def answer_query(
    session: Session,
    replies: ReplyQueue | None,
    adapter: Adapter[Any],
    draft: MessageDraft,
    inbound_id: str,
) -> str | None:
    """Queue the answer to "STATUS <tracking id>"; returns the report asked about."""
    ident = (draft.status_query or "").strip().upper()
    report = session.scalar(
        select(Report).where(or_(Report.tracking_id == ident, Report.id == ident))
    )
    if replies is not None:
        own = report is not None and same_sender(adapter, draft, report)
        replies.answer_query(
            session,
            adapter.name,
            dict(draft.reply_to),
            inbound_id,
            ident,
            report,
            include_response=own,
        )
    return report.id if report else None
