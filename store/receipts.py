"""Delivery statuses of replies we sent, recorded on their reply rows (never reports).

Providers report a `DeliveryStatus`, possibly out of order and more
than once; a status only ever moves forward (a late `delivered` does not undo `read`), and
`failed` is final. A report's timeline notes when its citizen received and read a reply.

One failure is not final: WhatsApp's 131047 ("re-engagement message") says a free-form reply
came after the 24-hour window had closed. Such a reply is made due again, once, marked
`window_closed`, so the sender sends it as the approved template.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.base import DeliveryReceipt
from store.models import ReplyItem, TimelineEvent, utcnow
from store.states import ReplyState
from vocabulary.deliveries import DELIVERY_RANK, DeliveryStatus

log = logging.getLogger(__name__)

# A timeline notes these on the report; `sent` is what the reply row already says.
NOTED = frozenset({DeliveryStatus.DELIVERED, DeliveryStatus.READ, DeliveryStatus.FAILED})


def record_receipts(session: Session, channel: str, receipts: Sequence[DeliveryReceipt]) -> int:
    """Apply statuses to the channel's reply rows; returns how many rows moved."""
    ids = list({r.provider_id for r in receipts})
    if not ids:
        return 0
    rows = {
        item.provider_id: item
        for item in session.scalars(
            select(ReplyItem).where(ReplyItem.channel == channel, ReplyItem.provider_id.in_(ids))
        )
    }
    moved = 0
    for receipt in sorted(receipts, key=lambda r: (r.at, _rank(r.status))):
        item = rows.get(receipt.provider_id)
        if item is None or _rank(receipt.status) <= _rank(item.delivery_status):
            continue
        item.delivery_status, item.delivery_at = receipt.status, receipt.at
        item.delivery_error = receipt.error
        moved += 1
        again = (
            receipt.status == DeliveryStatus.FAILED and receipt.window_closed and _send_again(item)
        )
        if item.report_id and receipt.status in NOTED:
            detail: dict[str, str] = {"reply_id": item.id, "event": item.event}
            if receipt.error:
                detail["error"] = receipt.error
            if again:
                detail["retry"] = "outside the window"
            session.add(
                TimelineEvent(
                    report_id=item.report_id,
                    event=f"reply_{receipt.status}",
                    detail=detail,
                    at=receipt.at,
                )
            )
    return moved


def _rank(status: DeliveryStatus | None) -> int:
    return DELIVERY_RANK[status] if status else 0


def _send_again(item: ReplyItem) -> bool:
    """Make a reply refused for a closed window due again, once, marked for the template."""
    if item.window_closed or item.state != ReplyState.SENT:
        return False
    item.window_closed = True
    item.state = ReplyState.PENDING
    item.next_attempt_at = utcnow()
    item.lease_owner = item.lease_until = None
    item.last_error = f"{item.delivery_error or 'failed'}; sent again outside the window"
    log.info(
        "reply %s on %s: the window was closed; sent again as the template", item.id, item.channel
    )
    return True
