"""Queries on the inbound log that admins use (held and rejected messages)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import InboundMessage
from store.states import InboundState


def held_messages(session: Session, state: InboundState, limit: int = 50) -> list[InboundMessage]:
    """Newest first: the inbound rows in `state` (quarantined or rejected)."""
    return list(
        session.scalars(
            select(InboundMessage)
            .where(InboundMessage.state == state)
            .order_by(InboundMessage.stored_at.desc())
            .limit(limit)
        )
    )
