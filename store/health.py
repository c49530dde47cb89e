"""Per-channel poll health kept in the database, so any process (`web`, `worker`) can show it.

The poller writes only when a channel's state changes (failing <-> ok), not every poll: a
healthy channel costs no writes.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy.orm import Session

from store.models import SyncState, utcnow


def health_key(channel: str) -> str:
    """Where a channel's poll health lives in `sync_state`."""
    return f"health:{channel}"


def record_poll_state(session: Session, channel: str, error: str | None) -> None:
    """Save that polling `channel` now fails with `error`, or works again (None)."""
    value = json.dumps(
        {"state": "failing" if error else "ok", "error": error, "since": utcnow().isoformat()}
    )
    row = session.get(SyncState, health_key(channel))
    if row is None:
        session.add(SyncState(key=health_key(channel), value=value))
    else:
        row.value = value


def poll_state(session: Session, channel: str) -> dict[str, Any] | None:
    """`{"state": "failing"|"ok", "error", "since"}` or None when never polled."""
    row = session.get(SyncState, health_key(channel))
    if row is None:
        return None
    data: dict[str, Any] = json.loads(row.value)
    data["since"] = dt.datetime.fromisoformat(data["since"])
    return data
