"""A report's whole story for the detail page, with personal data shown only to who may see it.

An `admin` sees everything. An `operator` sees the reporter of an ordinary report, but never
that of a confidential or anonymous one, and never the raw message's personal data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.console.audit import recent
from normalizer.redact import redact_text
from store.models import AuditEntry, ForwardItem, InboundMessage, ReplyItem, Report, TimelineEvent
from store.states import Role
from store.timeline import events_of

REPORTER_FIELDS = ("name", "phone", "email", "handle", "address", "identity_number")


def is_protected(payload: dict[str, Any]) -> bool:
    """Whether the reporter's identity is withheld (confidential or anonymous)."""
    privacy = payload.get("privacy") or {}
    return bool(privacy.get("confidential") or privacy.get("anonymous"))


def may_see_personal_data(role: str, payload: dict[str, Any], *, awaiting_models: bool) -> bool:
    """The access rule of the console for the reporter's identity.

    A report the models have yet to read is protected too: they may still find it a
    whistleblowing report (forwarder.model_pass), and by then an operator would have seen
    who sent it.
    """
    if role == Role.ADMIN:
        return True
    return role == Role.OPERATOR and not is_protected(payload) and not awaiting_models


def mask_known(text: str, payload: dict[str, Any]) -> str:
    """`text` with the reporter's own values and anything that looks personal masked."""
    reporter = payload.get("reporter") or {}
    for key in REPORTER_FIELDS:
        value = reporter.get(key)
        if isinstance(value, str) and len(value) >= 3:
            text = text.replace(value, "[disembunyikan]")
            text = text.replace(json.dumps(value)[1:-1], "[disembunyikan]")
    return redact_text(text)


@dataclass
class ReportDetail:
    """What the detail page shows."""

    report: Report
    payload: dict[str, Any]
    reporter: dict[str, Any] | None  # None: hidden from this user
    raw: str | None  # pretty JSON; None: hidden from this user
    inbound: InboundMessage | None
    events: list[TimelineEvent]
    forwards: list[ForwardItem]
    replies: list[ReplyItem]
    audit: list[AuditEntry]
    editable: bool


def report_detail(session: Session, ident: str, role: str) -> ReportDetail | None:
    """The report by id or tracking id, as `role` may see it."""
    report = session.get(Report, ident) or session.scalar(
        select(Report).where(Report.tracking_id == ident)
    )
    if report is None:
        return None
    payload = dict(report.payload)
    personal = may_see_personal_data(
        role, payload, awaiting_models=report.awaiting_models is not None
    )
    inbound = session.get(InboundMessage, report.inbound_id) if report.inbound_id else None
    raw: str | None = None
    if inbound is not None:
        text = json.dumps(inbound.raw, ensure_ascii=False, indent=2, sort_keys=True)
        if role == Role.ADMIN:
            raw = text
        elif personal:
            raw = mask_known(text, payload)
    forwards = list(
        session.scalars(
            select(ForwardItem).where(ForwardItem.report_id == report.id).order_by(ForwardItem.id)
        )
    )
    replies = list(
        session.scalars(
            select(ReplyItem).where(ReplyItem.report_id == report.id).order_by(ReplyItem.id)
        )
    )
    return ReportDetail(
        report=report,
        payload=payload,
        reporter=dict(payload.get("reporter") or {}) if personal else None,
        raw=raw,
        inbound=inbound,
        events=events_of(session, report.id),
        forwards=forwards,
        replies=replies,
        audit=recent(session, 50, target=report.id) if role == Role.ADMIN else [],
        editable=report.tracking_id is None,
    )
