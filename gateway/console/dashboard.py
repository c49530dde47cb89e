"""The dashboard's numbers: queues, forward latency, replies, and 30 days of reports."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.console.reports import local_midnight
from gateway.localtime import to_local
from store.models import ForwardItem, InboundMessage, ReplyItem, Report, TimelineEvent
from store.states import ForwardState


@dataclass
class QueueFigures:
    """Outbox depth, age of the oldest waiting row, dead letters, replies by state."""

    pending: int = 0
    oldest_pending_seconds: float | None = None
    dead_forward: int = 0
    dead_replies: int = 0
    replies: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    rejected: int = 0
    latency_p50: float | None = None
    latency_p95: float | None = None
    latency_samples: int = 0


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


# The reply states the dashboard shows; `sent` (nearly every row) is never counted.
SHOWN_REPLY_STATES = ("pending", "manual", "limited", "dead")


def _counts_by_state(session: Session, state: Any, states: tuple[str, ...]) -> dict[str, int]:
    """Rows per state, for a few states only.

    Each is a range of the table's (state, ...) index, never a scan of the rows already
    done or sent.
    """
    rows = session.execute(select(state, func.count()).where(state.in_(states)).group_by(state))
    return {str(value): int(n) for value, n in rows}


def queue_figures(session: Session, now: dt.datetime, latency_window: int = 2000) -> QueueFigures:
    """What the forwarder and the reply sender have in hand."""
    figures = QueueFigures()
    states = _counts_by_state(session, ForwardItem.state, ("pending", "dead"))
    figures.pending = states.get("pending", 0)
    figures.dead_forward = states.get("dead", 0)
    oldest = session.scalar(
        select(func.min(ForwardItem.created_at)).where(ForwardItem.state == ForwardState.PENDING)
    )
    if oldest is not None:
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=dt.UTC)
        figures.oldest_pending_seconds = max(0.0, (now - oldest).total_seconds())
    figures.replies = _counts_by_state(session, ReplyItem.state, SHOWN_REPLY_STATES)
    figures.dead_replies = figures.replies.get("dead", 0)
    held = _counts_by_state(session, InboundMessage.state, ("quarantined", "rejected"))
    figures.quarantined = held.get("quarantined", 0)
    figures.rejected = held.get("rejected", 0)
    samples = [
        (at - created).total_seconds()
        for at, created in session.execute(
            select(TimelineEvent.at, Report.created_at)
            .join(Report, Report.id == TimelineEvent.report_id)
            .where(TimelineEvent.event == "forwarded")
            .order_by(TimelineEvent.id.desc())
            .limit(latency_window)
        )
    ]
    figures.latency_samples = len(samples)
    figures.latency_p50 = percentile(samples, 0.50)
    figures.latency_p95 = percentile(samples, 0.95)
    return figures


class ClosedDays:
    """Reports per channel of local days that are over, counted once per process.

    A report's `created_at` is its intake time and never changes, so a day that ended is
    never counted again: the 30-day chart then reads only today's rows (an index range)
    instead of a month of them. A day counts as over `SETTLE` after its midnight, so a
    report stamped just before midnight and committed just after is not missed.
    """

    SETTLE = dt.timedelta(minutes=10)

    def __init__(self) -> None:
        self._counts: dict[tuple[str, dt.date], dict[str, int]] = {}
        self._lock = threading.Lock()

    def missing(self, zone: str, days: list[dt.date]) -> list[dt.date]:
        """Which of `days` are not counted yet."""
        with self._lock:
            return [d for d in days if (zone, d) not in self._counts]

    def keep(self, zone: str, counts: dict[dt.date, dict[str, int]], oldest: dt.date) -> None:
        """Remember finished days; forget those older than `oldest`."""
        with self._lock:
            self._counts.update({(zone, d): c for d, c in counts.items()})
            for key in [k for k in self._counts if k[1] < oldest]:
                del self._counts[key]

    def of(self, zone: str, day: dt.date) -> dict[str, int]:
        """The counts of a finished day."""
        with self._lock:
            return self._counts.get((zone, day), {})


def _count_days(
    session: Session, zone: str, first: dt.date, end: dt.date, now: dt.datetime
) -> dict[dt.date, dict[str, int]]:
    """Reports per local day and channel from `first` up to (not including) `end`.

    One range of `ix_reports_channel_created` (covering: no row is read).
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        day = func.date(func.timezone(zone, Report.created_at))
    else:
        offset = to_local(now, zone).utcoffset() or dt.timedelta(0)
        day = func.date(Report.created_at, f"{int(offset.total_seconds()):+d} seconds")
    rows = session.execute(
        select(Report.channel, day.label("day"), func.count())
        .where(
            Report.created_at >= local_midnight(first, zone),
            Report.created_at < local_midnight(end, zone),
        )
        .group_by(Report.channel, day)
    )
    counts: dict[dt.date, dict[str, int]] = {}
    for channel, value, n in rows:
        key = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        counts.setdefault(key, {})[channel] = int(n)
    return counts


def reports_per_day(
    session: Session,
    zone: str,
    now: dt.datetime,
    days: int = 30,
    closed: ClosedDays | None = None,
) -> tuple[list[dt.date], dict[str, list[int]]]:
    """Reports per local day and channel for the last `days` days (oldest day first).

    With `closed`, days that are over are counted once and kept there.
    """
    closed = closed if closed is not None else ClosedDays()
    today = to_local(now, zone).date()
    dates = [today - dt.timedelta(days=days - 1 - i) for i in range(days)]
    over = [
        d
        for d in dates
        if local_midnight(d + dt.timedelta(days=1), zone) + ClosedDays.SETTLE <= now
    ]
    missing = closed.missing(zone, over)
    if missing:
        found = _count_days(session, zone, missing[0], missing[-1] + dt.timedelta(days=1), now)
        closed.keep(zone, {d: found.get(d, {}) for d in missing}, dates[0])
    live_from = dates[len(over)]
    live = _count_days(session, zone, live_from, today + dt.timedelta(days=1), now)
    series: dict[str, list[int]] = {}
    for i, day in enumerate(dates):
        for channel, n in (live.get(day, {}) if day >= live_from else closed.of(zone, day)).items():
            series.setdefault(channel, [0] * days)[i] += n
    return dates, dict(sorted(series.items()))
