"""What a provider says became of a reply we sent (delivery receipts)."""

from __future__ import annotations

from enum import StrEnum


class DeliveryStatus(StrEnum):
    """A provider's delivery status, in the order a reply passes them; `failed` is final."""

    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"

    @classmethod
    def parse(cls, value: object) -> DeliveryStatus | None:
        """The member a provider's value names, or None for a status we do not track."""
        try:
            return cls(str(value))
        except ValueError:
            return None


# How far a status is: a receipt never moves a reply back (a late `delivered` after `read`).
DELIVERY_RANK = {
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
    DeliveryStatus.FAILED: 4,
}
