"""Durable queues (forward outbox and reply outbox): claim due rows under a lease, back off.

Both queues share one shape (state, attempts, next_attempt_at, lease_owner, lease_until,
last_error), so claiming and retry timing live here once. Functions take the caller's session
(the caller owns the transaction). On PostgreSQL a claim uses `FOR UPDATE SKIP LOCKED`, so
several workers never take the same row; on SQLite the `BEGIN IMMEDIATE` transaction that
every session starts already serialises claims.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from store.models import ForwardItem, ReplyItem, Report, utcnow
from store.states import ForwardAction, ForwardState, ReplyState, ReportState

Item = TypeVar("Item", ForwardItem, ReplyItem)


def backoff_delay(
    attempts: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before attempt `attempts + 1`: exponential with full jitter, capped.

    Full jitter (a uniform pick below the exponential bound) spreads a burst of failures so
    retries do not arrive at the central in lock-step. A `Retry-After` from the central is a
    floor, still under the cap.
    """
    bound = min(cap, base * (2 ** min(attempts, 32)))
    delay = (rng or random).uniform(0, bound)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, cap)


def claim_due(
    session: Session,
    model: type[Item],
    *,
    owner: str,
    limit: int,
    lease_seconds: float,
    now: dt.datetime | None = None,
) -> list[Item]:
    """Lease up to `limit` due pending rows to `owner` and return them."""
    now = now or utcnow()
    query = (
        select(model)
        .where(
            model.state == ForwardState.PENDING,
            model.next_attempt_at <= now,
            or_(model.lease_until.is_(None), model.lease_until < now),
        )
        .order_by(model.next_attempt_at, model.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    items = list(session.scalars(query))
    until = now + dt.timedelta(seconds=lease_seconds)
    for item in items:
        item.lease_owner = owner
        item.lease_until = until
    session.flush()
    return items


def still_leased(item: ForwardItem | ReplyItem, owner: str) -> bool:
    """Whether this worker still holds the row (a lease that ran out may have moved on)."""
    return item.state == ForwardState.PENDING and item.lease_owner == owner


def release(item: ForwardItem | ReplyItem) -> None:
    """Drop the lease so the row is due again at its `next_attempt_at`."""
    item.lease_owner = None
    item.lease_until = None


def schedule_retry(
    item: ForwardItem | ReplyItem, error: str, delay: float, now: dt.datetime | None = None
) -> None:
    """Count a failed attempt and make the row due again after `delay` seconds."""
    now = now or utcnow()
    item.attempts += 1
    item.last_error = error[:2000]
    item.next_attempt_at = now + dt.timedelta(seconds=delay)
    release(item)


def bury(item: ForwardItem | ReplyItem, error: str) -> None:
    """Move a row to the dead letters with its reason; `replay` brings it back."""
    if isinstance(item, ForwardItem):
        item.state = ForwardState.DEAD
    else:
        item.state = ReplyState.DEAD
    item.last_error = error[:2000]
    release(item)


def release_all_leases(session: Session) -> int:
    """Free every lease: only for a single-process SQLite start, where no one else holds one."""
    count = 0
    for model in (ForwardItem, ReplyItem):
        result = session.execute(
            update(model)
            .where(model.lease_owner.is_not(None))
            .values(lease_owner=None, lease_until=None)
        )
        count += result.rowcount or 0  # type: ignore[attr-defined]
    return count


def requeue(items: Sequence[ForwardItem], now: dt.datetime | None = None) -> None:
    """Make dead or waiting forward rows due now, with a fresh attempt count."""
    now = now or utcnow()
    for item in items:
        item.state = ForwardState.PENDING
        item.attempts = 0
        item.next_attempt_at = now
        release(item)


def requeue_report(session: Session, ident: str) -> str:
    """Replay one report (by gateway id or tracking id); returns its gateway id.

    Its dead (or waiting) forward rows become due now.

    A report whose submission is done and which has nothing pending is submitted again with
    the same idempotency key: the central answers with the same tracking id, so a replay can
    never create a duplicate.
    """
    report = session.get(Report, ident) or session.scalar(
        select(Report).where(Report.tracking_id == ident)
    )
    if report is None:
        raise LookupError(f"no report with id or tracking id {ident}")
    report_id = report.id
    items = list(
        session.scalars(
            select(ForwardItem).where(
                ForwardItem.report_id == report_id, ForwardItem.state != ForwardState.DONE
            )
        )
    )
    if not items and report.tracking_id is None:
        item = ForwardItem(report_id=report_id, action=ForwardAction.SUBMIT)
        session.add(item)
        items = [item]
    requeue(items)
    if report.state == ReportState.DEAD:
        report.state = ReportState.QUEUED
    return report_id


def requeue_dead(session: Session) -> list[str]:
    """Replay every dead forward row; returns the report ids."""
    items = list(session.scalars(select(ForwardItem).where(ForwardItem.state == ForwardState.DEAD)))
    requeue(items)
    ids = sorted({item.report_id for item in items})
    for report_id in ids:
        report = session.get(Report, report_id)
        if report is not None and report.state == ReportState.DEAD:
            report.state = ReportState.QUEUED
    return ids
