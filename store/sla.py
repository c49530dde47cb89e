"""What SLA clocks are computed from: each report's statuses, loaded in one pass.

`iter_timelines` streams `ReportTimeline`s (one per report, statuses in the order the sync
recorded them, each at the central's own time) from a single query over reports joined
with their `status` and `forwarded` timeline events, ordered by report: no query per report,
and memory bounded by one batch, however many reports there are. The clocks themselves are
pure functions over these (forwarder.sla.clocks).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, or_, select, type_coerce
from sqlalchemy.orm import Session

from store.models import Report, SyncState, TimelineEvent
from store.states import ReportState
from vocabulary.central import CentralStatus

CLOCK_EVENTS = ("status", "forwarded")
FINAL_STATUSES = (CentralStatus.CLOSED, CentralStatus.ARCHIVED)
WATCH_KEY = "sla.watch"


# Plain slotted dataclasses, not frozen: a frozen one's __init__ sets every field through
# object.__setattr__, 0.35 s of the ~430,000 made for 100,000 reports. Nothing mutates them.
@dataclass(slots=True)
class StatusEvent:
    """One status the central reported: which, when (the central's time), for which agency."""

    at: dt.datetime
    status: str
    agency: str | None


@dataclass(slots=True)
class ReportTimeline:
    """A report as the clocks see it."""

    report_id: str
    tracking_id: str | None
    channel: str
    agency: str  # where the report is now
    created_at: dt.datetime  # when the gateway received it
    forwarded_at: dt.datetime | None  # when the central accepted it (the fallback start)
    statuses: tuple[StatusEvent, ...]


def _aware(moment: str | dt.datetime) -> dt.datetime:
    """A raw time column's value as an aware datetime.

    SQLite's UTC text (`2026-11-30 19:30:05.123456`) is parsed with its zone in one C call;
    the driver's aware datetime (PostgreSQL) is kept as it is.
    """
    if isinstance(moment, str):
        return dt.datetime.fromisoformat(moment + "+00:00")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def iter_timelines(
    session: Session,
    *,
    agency: str | None = None,
    channel: str | None = None,
    received_from: dt.datetime | None = None,
    received_until: dt.datetime | None = None,
    open_only: bool = False,
    batch: int = 5000,
) -> Iterator[ReportTimeline]:
    """Every report (optionally of one agency or channel, received in [from, until)).

    `open_only`: only reports at the central that are not closed or archived (the ones
    with a clock still running). One statement, streamed `batch` rows at a time; the
    caller owns the session.
    """
    status = TimelineEvent.detail["status"].as_string()
    event_agency = TimelineEvent.detail["agency"].as_string()
    # The driver's values as they come (aware datetimes on PostgreSQL, UTC text on SQLite),
    # made aware datetimes below: UTCDateTime's per-value conversion, or even SQLite's
    # text-to-datetime processor plus a replace(), is a third of the time over 100,000
    # reports.
    created = type_coerce(Report.created_at, String)
    event_at = type_coerce(TimelineEvent.at, String)
    stmt = (
        select(
            Report.id,
            Report.tracking_id,
            Report.channel,
            Report.agency,
            created,
            TimelineEvent.event,
            event_at,
            status,
            event_agency,
        )
        .outerjoin(
            TimelineEvent,
            and_(TimelineEvent.report_id == Report.id, TimelineEvent.event.in_(CLOCK_EVENTS)),
        )
        .order_by(Report.id, TimelineEvent.id)
    )
    conditions = [
        Report.agency == agency if agency is not None else None,
        Report.channel == channel if channel is not None else None,
        Report.created_at >= received_from if received_from is not None else None,
        Report.created_at < received_until if received_until is not None else None,
        and_(
            Report.state == ReportState.SUBMITTED,
            or_(Report.central_status.is_(None), Report.central_status.not_in(FINAL_STATUSES)),
        )
        if open_only
        else None,
    ]
    stmt = stmt.where(*(c for c in conditions if c is not None))
    # Core rows, streamed `batch` at a time (a server-side cursor on PostgreSQL): no ORM
    # identity work per row.
    result = session.connection().execute(stmt.execution_options(yield_per=batch))
    rows = (row for chunk in result.partitions() for row in chunk)
    current: tuple[str, str | None, str, str, dt.datetime] | None = None
    forwarded: dt.datetime | None = None
    statuses: list[StatusEvent] = []
    for rid, tracking_id, chan, agency_now, made, event, at, status_value, ev_agency in rows:
        if current is None or rid != current[0]:
            if current is not None:
                yield ReportTimeline(*current, forwarded, tuple(statuses))
            current = (rid, tracking_id, chan, agency_now, _aware(made))
            forwarded, statuses = None, []
        if event == "forwarded":
            forwarded = forwarded or _aware(at)
        elif event == "status" and status_value:
            statuses.append(StatusEvent(_aware(at), status_value, ev_agency))
    if current is not None:
        yield ReportTimeline(*current, forwarded, tuple(statuses))


def save_watch(session: Session, snapshot: dict[str, Any]) -> None:
    """Keep the watch's latest counts (read by every process's /metrics)."""
    value = json.dumps(snapshot, sort_keys=True)
    row = session.get(SyncState, WATCH_KEY)
    if row is None:
        session.add(SyncState(key=WATCH_KEY, value=value))
    else:
        row.value = value


def load_watch(session: Session) -> dict[str, Any] | None:
    """The watch's latest counts, or None before its first run."""
    row = session.get(SyncState, WATCH_KEY)
    if row is None:
        return None
    found: dict[str, Any] = json.loads(row.value)
    return found


def claim_day(session: Session, key: str, day: str) -> str | None:
    """Mark `key` as done for `day` unless it already is; the previous value, or `day`.

    Returns `day` when another process got there first (nothing to do), else the value it
    replaces (None for the first time), so a failed send can put it back. The caller
    commits; on PostgreSQL the row lock makes two workers agree.
    """
    row = session.get(SyncState, key, with_for_update=True)
    if row is None:
        session.add(SyncState(key=key, value=day))
        session.flush()
        return None
    if row.value == day:
        return day
    previous = row.value
    row.value = day
    return previous


def release_day(session: Session, key: str, previous: str | None) -> None:
    """Undo `claim_day` after the work failed: the next run tries again."""
    row = session.get(SyncState, key)
    if row is None:
        return
    if previous is None:
        session.delete(row)
    else:
        row.value = previous
