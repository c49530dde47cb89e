"""Recognise mail no citizen wrote: auto-replies, bounces, list and bulk mail.

Such a message is not lost: it is held (`RawMessage.hold` = one of the reasons below) and the
gateway keeps it in quarantine, visible and releasable. Answering it could start a mail loop
(an out-of-office answering our acknowledgement answering it...), so it is never answered.

Signals, after RFC 3834 (Auto-Submitted), RFC 3464 (delivery status notifications), RFC 2369
and RFC 2919 (List-* headers) and what Exchange and common autoresponders actually send.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import EmailMessage
from typing import Final

HOLD_AUTO_REPLY: Final = "auto_reply"
HOLD_BOUNCE: Final = "bounce"
HOLD_MAILING_LIST: Final = "mailing_list"
HOLD_BULK: Final = "bulk"
HOLD_EMPTY: Final = "empty"
HOLD_UNREADABLE: Final = "unreadable"

_BOUNCE_SENDERS = re.compile(
    r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.IGNORECASE
)
_AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto(matic)?[- ]?reply|autoreply|auto response|out of (the )?office"
    r"|balasan otomatis|jawaban otomatis|balas otomatis|sedang tidak di kantor|"
    r"di luar kantor|abwesenheitsnotiz|r[ée]ponse automatique|undeliverable|"
    r"delivery status notification|mail delivery failed|returned mail|"
    r"tidak dapat dikirim|undelivered mail)\b",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(undeliverable|delivery status notification|mail delivery failed|returned mail|"
    r"tidak dapat dikirim|undelivered mail|failure notice|delivery failure)\b",
    re.IGNORECASE,
)
_AUTOREPLY_FLAGS = ("x-autoreply", "x-autorespond", "x-autoresponder", "x-auto-reply")


def hold_reason(
    message: EmailMessage, header: Callable[[str], str | None], sender: str | None, subject: str
) -> str | None:
    """Why this message must be held rather than reported, or None for a citizen's mail.

    `header` reads one decoded header (None when absent) without ever raising; `sender` is
    the From address, `subject` the decoded subject.
    """
    content_type = message.get_content_type()
    report_type = str(message.get_param("report-type", "") or "").lower()
    if content_type == "multipart/report" and report_type == "delivery-status":
        return HOLD_BOUNCE
    if sender and _BOUNCE_SENDERS.match(sender):
        return HOLD_BOUNCE
    if header("x-failed-recipients") is not None:
        return HOLD_BOUNCE
    if _BOUNCE_SUBJECT.match(subject) and (header("return-path") or "").strip() in ("<>", ""):
        return HOLD_BOUNCE
    if content_type == "multipart/report":
        return HOLD_AUTO_REPLY  # read receipts (disposition-notification) and the like
    auto_submitted = (header("auto-submitted") or "").strip().lower()
    if auto_submitted and auto_submitted.split(";")[0].strip() != "no":
        return HOLD_AUTO_REPLY
    if any(header(name) is not None for name in _AUTOREPLY_FLAGS):
        return HOLD_AUTO_REPLY
    if header("x-ms-exchange-generated-message-source") is not None:
        return HOLD_AUTO_REPLY
    if _AUTO_SUBJECT.match(subject):
        return HOLD_AUTO_REPLY
    precedence = (header("precedence") or "").strip().lower()
    if precedence == "list":
        return HOLD_MAILING_LIST
    if precedence in ("bulk", "junk"):
        return HOLD_BULK
    if header("list-id") is not None or header("list-unsubscribe") is not None:
        return HOLD_MAILING_LIST
    return None
