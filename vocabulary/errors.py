"""The small typed error taxonomy shared by channel adapters (STYLE.md: errors)."""

from __future__ import annotations


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""


class AdapterUnavailable(GatewayError):
    """A configured adapter cannot run: its optional library is missing or it cannot start."""


class ChannelRefused(AdapterUnavailable):
    """The provider refuses this channel until an admin acts (an API tier, a permission).

    Polls leave the provider alone until `retry_at` (epoch seconds) instead of asking again
    at every interval; the message says what to change.
    """

    def __init__(self, message: str, *, retry_at: float | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class InvalidSignature(GatewayError):
    """A webhook's signature or shared secret did not verify (HTTP 403, nothing stored)."""


class PayloadInvalid(GatewayError):
    """The inbound payload is malformed or lacks a required field (HTTP 400, raw kept)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Ignored(GatewayError):
    """A well-formed event that carries no citizen message (answered 2xx so the provider stops)."""


class SendError(GatewayError):
    """Sending a reply to a citizen failed; `retryable` says whether to try again later."""

    def __init__(self, message: str, *, retryable: bool, code: str | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code


def is_retryable_status(status: int) -> bool:
    """Transport rule shared by the forwarder and reply senders: 429 and 5xx are worth retrying."""
    return status == 429 or status >= 500
