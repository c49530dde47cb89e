"""The states a stored row can be in: one StrEnum per state column.

Stored as plain strings (no database enum type), so adding a member needs no migration;
`StrEnumType` hands the members back when rows are read.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import String, TypeDecorator
from sqlalchemy.engine import Dialect

E = TypeVar("E", bound=StrEnum)


class InboundState(StrEnum):
    """What became of a message in the inbound log."""

    ACCEPTED = "accepted"  # made a report
    FOLLOWUP = "followup"  # continued an earlier report of the same sender
    QUERY = "query"  # a status question, answered on the same channel
    CONVERSATION = "conversation"  # a step of a guided chat conversation, no report yet
    QUARANTINED = "quarantined"  # held back (auto-reply, bounce, empty), releasable
    RELEASED = "released"  # held back, then released into a report by an admin
    REJECTED = "rejected"  # could not be read; kept with its error for replay
    REPROCESSED = "reprocessed"  # rejected, then read again after a fix (see its report)


class ReportState(StrEnum):
    """Where a report stands between the gateway and the central."""

    QUEUED = "queued"  # waiting in the forward outbox
    SUBMITTED = "submitted"  # the central gave it a tracking id
    DEAD = "dead"  # its submission is a dead letter, for an admin


class ForwardState(StrEnum):
    """A row of the forward outbox."""

    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"


class ForwardAction(StrEnum):
    """What a forward outbox row tells the central."""

    SUBMIT = "submit"
    REROUTE = "reroute"
    FOLLOWUP = "followup"


class ReplyState(StrEnum):
    """A row of the reply outbox."""

    PENDING = "pending"  # due for sending
    SENT = "sent"
    DEAD = "dead"  # gave up after retries, or refused for good
    MANUAL = "manual"  # the channel cannot answer electronically: an admin sends it by hand
    LIMITED = "limited"  # held: the recipient reached the per-recipient reply limit


class CorrectionSource(StrEnum):
    """Who moved a report to another agency (a training row of the routing model)."""

    REROUTE = "reroute"  # the central returned it; the gateway sent it one level up
    CENTRAL = "central"  # the central moved it to another configured agency
    ADMIN = "admin"  # an admin corrected the agency in the console


class Role(StrEnum):
    """What a console account may do."""

    ADMIN = "admin"  # everything
    OPERATOR = "operator"  # enter letters and calls; read reports, never a protected reporter


class StrEnumType(TypeDecorator[E], Generic[E]):
    """A StrEnum kept as a short string column."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int = 16) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        """A member (or its value) in, its value stored; anything else is a bug."""
        if value is None:
            return None
        return self.enum(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        """The member back."""
        return None if value is None else self.enum(value)
