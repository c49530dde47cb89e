"""Repair actions of the console: replay, edit, release, reprocess, replies sent by hand.

Each one writes the report's timeline (when there is a report) and the audit log, in the
caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from forwarder.model_pass import AGENCY_BY_ADMIN, GIVEN_KIND
from forwarder.outbox import requeue_report
from gateway.console.audit import audit
from normalizer.report import Report as CanonicalReport
from store.models import ForwardItem, InboundMessage, ReplyItem, Report, utcnow
from store.states import CorrectionSource, ForwardState, ReplyState
from store.timeline import record_event
from store.training import record_correction
from vocabulary.kinds import KIND_NAMES

EDITABLE = ("title", "body", "kind", "category", "location_text", "agency")


class ActionRefused(ValueError):
    """The action cannot be done; the message (Indonesian) says why."""


def replay(session: Session, ident: str, actor: str) -> str:
    """Requeue a report by id or tracking id; same idempotency key, never a duplicate."""
    try:
        report_id = requeue_report(session, ident.strip())
    except LookupError:
        raise ActionRefused(f"tidak ada laporan dengan id atau nomor lacak {ident}") from None
    record_event(session, report_id, "replayed", by=actor)
    audit(session, actor, "replay", report_id, ident=ident.strip())
    return report_id


def _edit_field(
    payload: dict[str, Any], key: str, value: str, report: Report, actor: str, agencies: set[str]
) -> bool:
    """Set one editable field in the payload; returns whether it changed."""
    if key == "location_text":
        location = dict(payload.get("location") or {})
        if (location.get("text") or "") == value:
            return False
        location["text"] = value or None
        payload["location"] = location
        return True
    if key == "agency":
        if value not in agencies:
            raise ActionRefused(f"instansi {value!r} tidak dikenal")
        if value == report.agency:
            return False
        routing = dict(payload["routing"])
        routing.update(agency=value, reason=f"diubah oleh admin {actor}")
        payload["routing"] = routing
        return True
    if key == "kind" and value not in KIND_NAMES:
        raise ActionRefused("jenis laporan tidak dikenal")
    if (payload.get(key) or "") == value:
        return False
    payload[key] = value or None
    return True


def edit_report(
    session: Session, report: Report, changes: dict[str, str], actor: str, agencies: set[str]
) -> list[str]:
    """Change the normalized fields of a report not yet accepted by the central.

    Only before the central accepted it: a report with a tracking id is bound to its body
    there (a resend with another body is refused), so it can no longer change here.
    Returns the names of the fields that changed.
    """
    if report.tracking_id is not None:
        raise ActionRefused("laporan ini sudah diterima LAPOR! dan tidak dapat diubah lagi")
    payload = dict(report.payload)
    changed = [
        key
        for key in EDITABLE
        if key in changes
        and _edit_field(payload, key, changes[key].strip(), report, actor, agencies)
    ]
    if not changed:
        audit(session, actor, "edit", report.id, fields=[])  # submitted, nothing differed
        return []
    try:
        checked = CanonicalReport.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ActionRefused(f"isian {where} tidak sah: {first['msg']}") from None
    report.payload = checked.to_wire()
    if "agency" in changed:  # a training row for the routing model (issue 13)
        record_correction(session, report, checked.routing.agency, CorrectionSource.ADMIN)
    report.kind = checked.kind
    report.agency = checked.routing.agency
    if report.awaiting_models is not None and {"kind", "agency"} & set(changed):
        # The models read it later: what the admin set stands (forwarder.model_pass).
        mark = dict(report.awaiting_models)
        if "kind" in changed:
            mark[GIVEN_KIND] = str(checked.kind)
        if "agency" in changed:
            mark[AGENCY_BY_ADMIN] = True
        report.awaiting_models = mark
    report.updated_at = utcnow()
    record_event(session, report.id, "edited", by=actor, fields=changed)
    audit(session, actor, "edit", report.id, fields=changed)
    return changed


def mark_sent_by_hand(session: Session, reply_id: str, actor: str) -> ReplyItem:
    """A reply an admin delivered by post or phone: it will not be sent again."""
    item = session.get(ReplyItem, reply_id)
    if item is None or item.state not in ("manual", "limited", "dead"):
        raise ActionRefused("balasan ini tidak menunggu pengiriman manual")
    item.state = ReplyState.SENT
    item.sent_at = utcnow()
    item.provider_id = f"manual:{actor}"
    item.lease_owner = item.lease_until = None
    if item.report_id:
        record_event(session, item.report_id, "reply_sent_by_hand", reply=item.event, by=actor)
    audit(session, actor, "reply_sent_by_hand", item.report_id or item.id, reply=item.id)
    return item


def release_limited(session: Session, reply_id: str, actor: str) -> ReplyItem:
    """Let a reply held by the per-recipient limit (or dead) go out after all."""
    item = session.get(ReplyItem, reply_id)
    if item is None or item.state not in ("limited", "dead"):
        raise ActionRefused("balasan ini tidak sedang ditahan")
    item.state = ReplyState.PENDING
    item.attempts = 0
    item.next_attempt_at = utcnow()
    item.lease_owner = item.lease_until = None
    audit(session, actor, "reply_release", item.report_id or item.id, reply=item.id)
    return item


@dataclass
class RepairLists:
    """Everything waiting for an admin's hand."""

    dead_forwards: list[tuple[ForwardItem, Report]]
    quarantined: list[InboundMessage]
    rejected: list[InboundMessage]
    manual_replies: list[ReplyItem]
    held_replies: list[ReplyItem]


def repair_lists(session: Session, limit: int = 100) -> RepairLists:
    """Newest first, `limit` of each."""
    dead = [
        (item, report)
        for item, report in session.execute(
            select(ForwardItem, Report)
            .join(Report, Report.id == ForwardItem.report_id)
            .where(ForwardItem.state == ForwardState.DEAD)
            .order_by(ForwardItem.id.desc())
            .limit(limit)
        )
    ]

    def inbound(state: str) -> list[InboundMessage]:
        return list(
            session.scalars(
                select(InboundMessage)
                .where(InboundMessage.state == state)
                .order_by(InboundMessage.stored_at.desc())
                .limit(limit)
            )
        )

    def replies(*states: str) -> list[ReplyItem]:
        return list(
            session.scalars(
                select(ReplyItem)
                .where(ReplyItem.state.in_(states))
                .order_by(ReplyItem.created_at.desc())
                .limit(limit)
            )
        )

    return RepairLists(
        dead,
        inbound("quarantined"),
        inbound("rejected"),
        replies("manual"),
        replies("limited", "dead"),
    )


def summary_of(row: InboundMessage) -> dict[str, Any]:
    """What the repair page shows of a held message (no body, no sender)."""
    return {"id": row.id, "channel": row.channel, "reason": row.error, "field": row.error_field}
