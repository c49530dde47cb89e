"""The rows one intake transaction adds, written in one statement per table at its end.

No key is needed back, so the ORM's one-by-one inserts (to learn generated keys) and its
unit-of-work bookkeeping are skipped: the writer's cost per message halves. Rows with a
unique key are written in key order: two processes storing overlapping messages then take
their row locks in the same order and cannot deadlock (PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from store.models import ForwardItem, InboundMessage, Report, TimelineEvent, utcnow
from store.states import ForwardAction, ForwardState


def _unique_key(row: dict[str, Any]) -> tuple[str, str]:
    return (str(row["channel"]), str(row.get("external_id") or ""))


@dataclass
class BatchRows:
    """Rows collected while a batch is planned into the database."""

    inbound: list[dict[str, Any]] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)
    forward: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def outbox(
        self, report_id: str, action: ForwardAction, payload: dict[str, Any] | None = None
    ) -> None:
        """A forward outbox row, due now."""
        now = utcnow()
        self.forward.append(
            {
                "report_id": report_id,
                "action": action,
                "payload": payload,
                "state": ForwardState.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )

    def event(self, report_id: str, event: str, **detail: Any) -> None:
        """A timeline event (no personal data in `detail`)."""
        self.events.append(
            {"report_id": report_id, "event": event, "detail": detail, "at": utcnow()}
        )

    def write(self, session: Session) -> None:
        """Insert everything collected, parents first, unique keys in order."""
        session.flush()
        conn = session.connection()  # Core, not the ORM's bulk path: the column types apply
        self.inbound.sort(key=_unique_key)
        self.reports.sort(key=_unique_key)
        for model, values in (
            (InboundMessage, self.inbound),
            (Report, self.reports),
            (ForwardItem, self.forward),
            (TimelineEvent, self.events),
        ):
            if values:
                conn.execute(insert(cast(Table, model.__table__)), values)
        self.inbound, self.reports, self.forward, self.events = [], [], [], []
