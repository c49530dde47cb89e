"""The dashboard's numbers: queues, forward latency, replies, and 30 days of reports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.console.reports import local_midnight
from gateway.localtime import to_local
from store.models import ForwardItem, InboundMessage, ReplyItem, Report, TimelineEvent


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


def queue_figures(session: Session, now: dt.datetime, latency_window: int = 2000) -> QueueFigures:
    """What the forwarder and the reply sender have in hand."""
    figures = QueueFigures()
    states = {
        str(state): int(n)
        for state, n in session.execute(
            select(ForwardItem.state, func.count()).group_by(ForwardItem.state)
        )
    }
    figures.pending = int(states.get("pending", 0))
    figures.dead_forward = int(states.get("dead", 0))
    oldest = session.scalar(
        select(func.min(ForwardItem.created_at)).where(ForwardItem.state == "pending")
    )
    if oldest is not None:
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=dt.UTC)
        figures.oldest_pending_seconds = max(0.0, (now - oldest).total_seconds())
    figures.replies = {
        str(state): int(n)
        for state, n in session.execute(
            select(ReplyItem.state, func.count()).group_by(ReplyItem.state)
        )
    }
    figures.dead_replies = figures.replies.get("dead", 0)
    held = {
        str(state): int(n)
        for state, n in session.execute(
            select(InboundMessage.state, func.count())
            .where(InboundMessage.state.in_(("quarantined", "rejected")))
            .group_by(InboundMessage.state)
        )
    }
    figures.quarantined = int(held.get("quarantined", 0))
    figures.rejected = int(held.get("rejected", 0))
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


def reports_per_day(
    session: Session, zone: str, now: dt.datetime, days: int = 30
) -> tuple[list[dt.date], dict[str, list[int]]]:
    """Reports per local day and channel for the last `days` days (oldest day first)."""
    today = to_local(now, zone).date()
    first = today - dt.timedelta(days=days - 1)
    since = local_midnight(first, zone)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        day = func.date(func.timezone(zone, Report.created_at))
    else:
        offset = to_local(now, zone).utcoffset() or dt.timedelta(0)
        day = func.date(Report.created_at, f"{int(offset.total_seconds()):+d} seconds")
    rows = session.execute(
        select(Report.channel, day.label("day"), func.count())
        .where(Report.created_at >= since)
        .group_by(Report.channel, day)
    )
    dates = [first + dt.timedelta(days=i) for i in range(days)]
    index = {d.isoformat(): i for i, d in enumerate(dates)}
    series: dict[str, list[int]] = {}
    for channel, value, count in rows:
        key = value.isoformat() if isinstance(value, dt.date) else str(value)
        if key in index:
            series.setdefault(channel, [0] * days)[index[key]] += int(count)
    return dates, dict(sorted(series.items()))
