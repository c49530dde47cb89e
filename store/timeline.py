"""The per-report timeline: every step a report takes, in order, for admins and the citizen."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import TimelineEvent, utcnow


def record_event(session: Session, report_id: str, event: str, **detail: Any) -> TimelineEvent:
    """Append one event (no personal data in `detail`: it is shown on the status page)."""
    row = TimelineEvent(report_id=report_id, event=event, detail=detail, at=utcnow())
    session.add(row)
    return row


def events_of(session: Session, report_id: str) -> list[TimelineEvent]:
    """A report's events, oldest first."""
    return list(
        session.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.report_id == report_id)
            .order_by(TimelineEvent.id)
        )
    )
