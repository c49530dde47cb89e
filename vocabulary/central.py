"""The statuses a report passes at the central (contracts/central-api.yaml `ReportStatus`)."""

from __future__ import annotations

from enum import StrEnum


class CentralStatus(StrEnum):
    """Where a report stands at the central, in the order it passes them.

    The contract fixes the set. A central that sends another value (a newer version of it)
    is read at the boundary with `parse`, which gives None instead of failing.
    """

    RECEIVED = "received"  # arrived, not verified yet
    VERIFIED = "verified"
    DISPOSITIONED = "dispositioned"  # handed to the agency that must act
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"  # the agency says it acted
    CLOSED = "closed"
    RETURNED = "returned"  # out of the agency's authority: goes one level up
    ARCHIVED = "archived"  # put away without completion

    @classmethod
    def parse(cls, value: object) -> CentralStatus | None:
        """The member a central's value names, or None for one outside the contract."""
        try:
            return cls(str(value))
        except ValueError:
            return None
