"""Recognise mail no citizen wrote: auto-replies, bounces, list and bulk mail.

Such a message is not lost: it is held (`RawMessage.hold`, a `HoldReason`) and the
gateway keeps it in quarantine, visible and releasable. Answering it could start a mail loop
(an out-of-office answering our acknowledgement answering it...), so it is never answered.

Signals, after RFC 3834 (Auto-Submitted), RFC 3464 (delivery status notifications), RFC 2369
and RFC 2919 (List-* headers) and what Exchange and common autoresponders actually send.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import EmailMessage

from vocabulary.holds import HoldReason

# Local parts and display names only machines send from: MTAs (RFC 5321 section 4.5.1
# postmaster, Sendmail/Postfix/Exim MAILER-DAEMON), Exchange's own sender, webmail NDRs.
_SYSTEM_LOCAL = re.compile(
    r"^(mailer[-_.]?daemon|mail[-_.]?daemon|post[-_.]?master|mail[-_.]delivery[-_.]system"
    r"|mdaemon|microsoftexchange[0-9a-f]{32})$",
    re.IGNORECASE,
)
_SYSTEM_NAME = re.compile(
    r"^(mailer[- ]?daemon|post[- ]?master|mail delivery (sub)?system|mail delivery service"
    r"|mail administrator|mail system|internet mail delivery|mail delivery subsystem)\b",
    re.IGNORECASE,
)
# Subjects of delivery failure notices: Postfix, Sendmail, Exim, qmail, Exchange and
# Microsoft 365 in their languages, Gmail, Yahoo, Yandex, Mail.ru, Japanese carriers.
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(undeliverable|undelivered mail|delivery status notification|delivery status"
    r"|delivery notification|delivery failure|delivery report|mail delivery failed"
    r"|mail delivery failure|mail delivery status|returned mail|mail system error"
    r"|failure notice|failure delivery|failed delivery|permanent delivery failure"
    r"|non[- ]?delivery|nondeliverable|mail could not be delivered|message could not be"
    r" delivered|sorry, your message could not be delivered|message delivery (has )?failed"
    r"|there was an error sending your mail|mail failed, returning to sender|mail failure"
    r"|warning:? could not send|delayed mail|postmaster notify"
    r"|tidak dapat dikirim|tidak terkirim|pesan tidak terkirim|unzustellbar|nicht zustellbar"
    r"|non remis|avis de non[- ]remise|[ée]chec de (la )?remise|non recapitabile"
    r"|no se puede entregar|mensaje no entregado|n[ãa]o [ée] poss[íi]vel entregar"
    r"|mensagem n[ãa]o entregue|onbestelbaar|nie mo[żz]na dostarczy[ćc]|olevererbart"
    r"|ikke levert|kan ikke leveres|teslim edilemedi|недоставленное сообщение"
    r"|ваше сообщение не доставлено|не доставлено|未送達|配信不能|メールエラー通知"
    r"|メール送信エラー|メッセージを配信できません|无法投递|無法傳遞|系统退信|退信)",
    re.IGNORECASE,
)
# Held on the subject alone (as `auto_reply` when nothing else says a machine sent it); a
# phrase a citizen might start a complaint with ("Delivery status ...") needs a second sign.
_AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto(matic)?[- ]?reply|autoreply|auto response|out of (the )?office"
    r"|balasan otomatis|jawaban otomatis|balas otomatis|sedang tidak di kantor|"
    r"di luar kantor|abwesenheitsnotiz|r[ée]ponse automatique|undeliverable|"
    r"delivery status notification|mail delivery failed|returned mail|"
    r"tidak dapat dikirim|undelivered mail)\b",
    re.IGNORECASE,
)
# Parts that carry the message a notice is about (RFC 3462, RFC 3464, RFC 6533).
_ORIGINAL_PARTS = frozenset(
    {
        "message/rfc822",
        "text/rfc822-headers",
        "message/rfc822-headers",
        "message/global",
        "message/global-headers",
    }
)
_STATUS_PARTS = frozenset({"message/delivery-status", "message/global-delivery-status"})
_FEEDBACK_PARTS = frozenset({"message/feedback-report"})
_MACHINE_LOCAL = re.compile(r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|bounces?)([-+._].*)?$", re.I)
_MAX_PARTS = 200
_AUTOREPLY_FLAGS = ("x-autoreply", "x-autorespond", "x-autoresponder", "x-auto-reply")
# Exchange's rules agent; Amazon SNS notifications (SES delivery and complaint feedback).
_MACHINE_FLAGS = ("x-ms-exchange-generated-message-source", "x-amz-sns-message-id")
# RFC 2369 / RFC 2919, and fml's own (Japanese list server: its errors come from the list).
_LIST_HEADERS = ("list-id", "list-unsubscribe", "x-mlserver", "x-ml-name")


def is_machine_address(address: str) -> bool:
    """An address no person reads: MAILER-DAEMON, postmaster, no-reply, a bounce handler.

    Never answered: an acknowledgement there is at best lost and at worst the first turn of a
    mail loop (its bounce answering our answer...).
    """
    local = _local(address)
    return bool(_SYSTEM_LOCAL.match(local) or _MACHINE_LOCAL.match(local))


def _local(address: str) -> str:
    return address.strip().strip("<>").strip().rpartition("@")[0] or address.strip("<> ")


def _system_sender(from_text: str | None, sender: str | None, name: str | None) -> bool:
    """From a mail system: MAILER-DAEMON, postmaster, a null From (`<>`)..."""
    if from_text is None:
        return False  # no From at all: a broken script, still someone's message
    if from_text.strip() in ("<>", '""', ""):
        return True
    local = _local(sender) if sender else _local(from_text)
    return bool(_SYSTEM_LOCAL.match(local) or (name and _SYSTEM_NAME.match(name.strip(' "'))))


def _part_types(message: EmailMessage) -> set[str]:
    """Content types of the first parts of a message (a notice is never deep)."""
    types: set[str] = set()
    for number, part in enumerate(message.walk()):
        if number >= _MAX_PARTS:
            break
        types.add(part.get_content_type())
    return types


def _null_or_system_return_path(header: Callable[[str], str | None]) -> bool:
    """Return-Path `<>` (RFC 5321: notices are sent with a null reverse path) or a daemon's."""
    value = header("return-path")
    if value is None:
        return False
    local = _local(value)
    return not local or bool(_SYSTEM_LOCAL.match(local))


def _is_bounce(
    message: EmailMessage,
    header: Callable[[str], str | None],
    sender: str | None,
    name: str | None,
    subject: str,
) -> bool:
    """A delivery failure notice: by its structure, its sender, or subject and a machine's sign."""
    types = _part_types(message)
    if types & _STATUS_PARTS or header("x-failed-recipients") is not None:
        return True
    if _system_sender(header("from"), sender, name):
        return True
    if header("x-amz-sns-message-id") is not None and "Bounce" in subject + _first_text(message):
        return True  # Amazon SES feedback through SNS: JSON with "notificationType":"Bounce"
    machine = (
        _null_or_system_return_path(header)
        or bool(sender and _MACHINE_LOCAL.match(_local(sender)))
        or _auto_submitted(header)
        or bool(types & _ORIGINAL_PARTS)
    )
    if _BOUNCE_SUBJECT.match(subject) and machine:
        return True
    # No telling subject ("Mail"), but a no-reply sender returning an original message.
    return bool(sender and _MACHINE_LOCAL.match(_local(sender)) and types & _ORIGINAL_PARTS)


def _first_text(message: EmailMessage) -> str:
    """The start of the first text part, for notices whose only sign is in their text."""
    for number, part in enumerate(message.walk()):
        if number >= _MAX_PARTS:
            break
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload[:2000].decode("utf-8", "replace")
    return ""


def _auto_submitted(header: Callable[[str], str | None]) -> bool:
    value = (header("auto-submitted") or "").strip().lower()
    return bool(value) and value.split(";")[0].strip() != "no"


def _is_feedback_report(message: EmailMessage) -> bool:
    """An abuse or DMARC feedback report (RFC 5965 ARF, Hotmail's JMRP)."""
    for number, part in enumerate(message.walk()):
        if number >= _MAX_PARTS:
            break
        if part.get_content_type() in _FEEDBACK_PARTS:
            return True
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload(0) if part.is_multipart() else None
            if isinstance(inner, EmailMessage) and inner.get("X-HmXmrOriginalRecipient"):
                return True
    return False


def hold_reason(
    message: EmailMessage,
    header: Callable[[str], str | None],
    sender: str | None,
    subject: str,
    sender_name: str | None = None,
) -> HoldReason | None:
    """Why this message must be held rather than reported, or None for a citizen's mail.

    `header` reads one decoded header (None when absent) without ever raising; `sender` is
    the From address, `sender_name` its display name, `subject` the decoded subject.
    """
    if _is_bounce(message, header, sender, sender_name, subject):
        return HoldReason.BOUNCE
    if message.get_content_type() == "multipart/report" or _is_feedback_report(message):
        return HoldReason.AUTO_REPLY  # read receipts (disposition-notification), abuse reports
    if _auto_submitted(header):
        return HoldReason.AUTO_REPLY
    if any(header(name) is not None for name in _AUTOREPLY_FLAGS):
        return HoldReason.AUTO_REPLY
    if any(header(name) is not None for name in _MACHINE_FLAGS):
        return HoldReason.AUTO_REPLY
    if _AUTO_SUBJECT.match(subject):
        return HoldReason.AUTO_REPLY
    return _list_reason(header)


def _list_reason(header: Callable[[str], str | None]) -> HoldReason | None:
    precedence = (header("precedence") or "").strip().lower()
    if precedence == "list":
        return HoldReason.MAILING_LIST
    if precedence in ("bulk", "junk"):
        return HoldReason.BULK
    if any(header(name) is not None for name in _LIST_HEADERS):
        return HoldReason.MAILING_LIST
    return None
