"""A citizen's email address, checked before it goes on a report: syntax only, no DNS.

The gateway answers citizens at this address, so an address that is not one must never be
"repaired" into a different one (`budi@contoh.id`, a line break and `Bcc: x@y.z` is not
`budi@contoh.idbcc`).
What a person types around an address is accepted (`mailto:`, `Budi <budi@contoh.id>`,
surrounding spaces); anything else is refused with a reason that quotes no part of it, so the
reason can go on the report's timeline and into logs.

The address itself is checked by `email-validator` (the maintained implementation of RFC 5321
and 6531 limits, internationalised domains, special-use domains) without deliverability
checks: see `bench/email_addresses.py` for how it compares with the hand-written check it
replaced.
"""

from __future__ import annotations

import re
from typing import Final

from email_validator import EmailNotValidError, validate_email

from normalizer.redact import redact_text

_MAILTO: Final = "mailto:"
# "Budi Santoso <budi@contoh.id>": a display name, then the address in angle brackets.
_NAME_ADDR = re.compile(r"[^<>]*<([^<>]*)>")
_DETAIL = re.compile(r"\s*\([^)]*\)")  # "(…)" parts of the library's messages may quote it


class EmailRejected(ValueError):
    """Why a value is not an email address; the message never quotes the value.

    The message is English (for logs); `refusal` says it in Bahasa Indonesia for what people
    read: the note on the report's timeline, or the reason a strict channel refuses it.
    """

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.refusal = "bukan alamat email yang sah" + (f": {detail}" if detail else "")


def parse_email(value: str) -> str:
    """The address in `value`, with its domain normalised; EmailRejected when there is none.

    >>> parse_email(" Budi <Budi@Contoh.ID> ")
    'Budi@contoh.id'
    """
    text = value.strip()
    if "\r" in text or "\n" in text:
        raise EmailRejected("it contains a line break", "memuat ganti baris")
    if text[: len(_MAILTO)].lower() == _MAILTO:
        text = text[len(_MAILTO) :]
    named = _NAME_ADDR.fullmatch(text)
    if named:
        text = named.group(1)
    if any(ch.isspace() for ch in text):
        raise EmailRejected("it contains spaces", "memuat spasi")
    try:
        return str(validate_email(text, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        reason = _reason(str(exc))
        raise EmailRejected(reason, _detail(reason)) from None


# The library's reasons (English) said in Bahasa Indonesia, by a phrase each holds; the first
# match wins. An unknown one gives no detail: "bukan alamat email yang sah" alone.
_DETAILS: Final = (
    ("should have a period", "bagian setelah @ harus memuat titik"),
    ("something before the @-sign", "tidak ada apa pun sebelum tanda @"),
    ("something after the @-sign", "tidak ada apa pun setelah tanda @"),
    ("must have an @-sign", "tidak memuat tanda @"),
    ("two periods in a row", "memuat dua titik berurutan"),
    ("invalid characters", "memuat karakter yang tidak sah"),
    ("with a period", "tidak boleh diawali atau diakhiri titik"),
    ("hyphen", "tanda hubung di tempat yang tidak boleh"),
    ("too long", "terlalu panjang"),
    ("special-use or reserved", "nama domainnya khusus atau dicadangkan"),
)


def _detail(reason: str) -> str | None:
    """What the library's reason means, in Bahasa Indonesia (None when it is not known)."""
    return next((said for phrase, said in _DETAILS if phrase in reason), None)


def _reason(message: str) -> str:
    """The library's message without details that could quote the address."""
    reason = redact_text(_DETAIL.sub("", message)).strip()
    return reason[:1].lower() + reason[1:].rstrip(".")
