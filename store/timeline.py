"""The per-report timeline: every step a report takes, in order, for admins and the citizen."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import TimelineEvent, utcnow
from vocabulary.central import CentralStatus


def record_event(session: Session, report_id: str, event: str, **detail: Any) -> TimelineEvent:
    """Append one event (no personal data in `detail`: it is shown on the status page)."""
    row = TimelineEvent(report_id=report_id, event=event, detail=detail, at=utcnow())
    session.add(row)
    return row


def central_key(status: str, at: dt.datetime) -> str:
    """What identifies one entry of the central's history: its status and its own time."""
    return f"{status}@{at.astimezone(dt.UTC).isoformat()}"


def record_central_status(
    session: Session,
    report_id: str,
    *,
    status: CentralStatus,
    at: dt.datetime,
    agency: str | None,
    note: str | None,
) -> TimelineEvent:
    """A status the central reports, at the central's own time (what SLA clocks measure).

    `central` in the detail is `central_key(status, at)`: reading the same history entry
    again is recognised by it.
    """
    row = TimelineEvent(
        report_id=report_id,
        event="status",
        detail={
            "status": status,
            "agency": agency,
            "note": note,
            "central": central_key(status, at),
        },
        at=at,
    )
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
