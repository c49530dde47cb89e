"""Delivery statuses of replies we sent, recorded on their reply rows (never reports).

Providers report `sent`, `delivered`, `read` or `failed`, possibly out of order and more
than once; a status only ever moves forward (a late `delivered` does not undo `read`), and
`failed` is final. A report's timeline notes when its citizen received and read a reply.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.base import DeliveryReceipt
from store.models import ReplyItem, TimelineEvent

RANK = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}


def record_receipts(session: Session, channel: str, receipts: Sequence[DeliveryReceipt]) -> int:
    """Apply statuses to the channel's reply rows; returns how many rows moved."""
    ids = list({r.provider_id for r in receipts if r.status in RANK})
    if not ids:
        return 0
    rows = {
        item.provider_id: item
        for item in session.scalars(
            select(ReplyItem).where(ReplyItem.channel == channel, ReplyItem.provider_id.in_(ids))
        )
    }
    moved = 0
    for receipt in sorted(receipts, key=lambda r: (r.at, RANK.get(r.status, 0))):
        item = rows.get(receipt.provider_id)
        if item is None or receipt.status not in RANK:
            continue
        if RANK[receipt.status] <= RANK.get(item.delivery_status or "", 0):
            continue
        item.delivery_status, item.delivery_at = receipt.status, receipt.at
        item.delivery_error = receipt.error
        moved += 1
        if item.report_id and receipt.status in ("delivered", "read", "failed"):
            detail: dict[str, str] = {"reply_id": item.id, "event": item.event}
            if receipt.error:
                detail["error"] = receipt.error
            session.add(
                TimelineEvent(
                    report_id=item.report_id,
                    event=f"reply_{receipt.status}",
                    detail=detail,
                    at=receipt.at,
                )
            )
    return moved
