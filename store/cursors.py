"""Poll cursors: where each polled channel's reading stands, saved with its messages."""

from __future__ import annotations

from sqlalchemy.orm import Session

from store.models import SyncState


def cursor_key(channel: str) -> str:
    """Where a channel's cursor lives in `sync_state`."""
    return f"poll:{channel}"


def load_cursor(session: Session, key: str) -> str | None:
    """A poller's saved position (None before its first message)."""
    row = session.get(SyncState, key)
    return row.value if row else None


def save_cursor(session: Session, key: str, value: str) -> None:
    """Save a poller's position in the caller's transaction."""
    row = session.get(SyncState, key)
    if row is None:
        session.add(SyncState(key=key, value=value))
    else:
        row.value = value
