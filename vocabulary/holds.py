"""Why a message is held back in quarantine instead of becoming a report."""

from __future__ import annotations

from enum import StrEnum


class HoldReason(StrEnum):
    """A quarantine reason: adapters set it on `RawMessage.hold`, admins see it in words."""

    AUTO_REPLY = "auto_reply"  # vacation notices, read receipts, other machines answering
    BOUNCE = "bounce"  # a delivery failure report
    MAILING_LIST = "mailing_list"
    BULK = "bulk"  # newsletters and other bulk mail
    EMPTY = "empty"  # nothing to report (blank, a prefix word alone, quoted text only)
    UNREADABLE = "unreadable"  # a message the MIME reader could not take apart
    TOO_LARGE = "too_large"  # over the channel's size limit
    COMMAND = "command"  # a chat command or stale button, without the guided conversation
    BINARY = "binary"  # an 8-bit binary SMS without text
    UNSUPPORTED = "unsupported"  # a message type the channel cannot read (WhatsApp)
