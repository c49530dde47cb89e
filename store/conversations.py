"""Guided conversations kept in the database: one row per (channel, chat), locked per turn."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Conversation


def find(session: Session, channel: str, chat: str) -> Conversation | None:
    """The chat's conversation, locked for this transaction (PostgreSQL: FOR UPDATE)."""
    query = select(Conversation).where(Conversation.channel == channel, Conversation.chat == chat)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalar(query)


def expired(session: Session, now: dt.datetime, limit: int = 100) -> list[Conversation]:
    """Conversations nobody answered in time, oldest first."""
    return list(
        session.scalars(
            select(Conversation)
            .where(Conversation.expires_at <= now)
            .order_by(Conversation.expires_at)
            .limit(limit)
        )
    )
