"""Small values kept in `sync_state` that every process must agree on (signing keys...)."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from store.models import SyncState


def shared_value(
    sessions: sessionmaker[Session], key: str, make: Callable[[], str] | None = None
) -> str:
    """The value under `key`, made by `make` on first use (a random 256-bit hex by default).

    Several processes starting together may all find it missing: one insert wins, the
    others lose the unique-key race and read the winner's value, so they all agree.
    """
    maker = make or (lambda: secrets.token_hex(32))
    for _ in range(3):
        try:
            with sessions.begin() as session:
                row = session.get(SyncState, key)
                if row is None:
                    row = SyncState(key=key, value=maker())
                    session.add(row)
                return row.value
        except IntegrityError:
            continue  # another process made it first: read theirs
    raise RuntimeError(f"could not read or make the shared value {key!r}")
