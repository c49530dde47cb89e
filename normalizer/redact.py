"""Mask personal data in free text: the logging filter's safety net, so no PII reaches a log.

This is deliberately a blunt instrument of regular expressions, not a parser: it would rather
mask a number that was not a phone than let one through. It looks for, in this order,

- e-mail addresses ("budi@example.go.id" -> "b***@e***.go.id");
- NIKs, 16 digits standing alone, also written in groups with spaces or dots, or glued to a
  "NIK" prefix ("3201 2345 6789 0001", "NIK3201234567890001" -> "32************01");
- phone numbers of 8 to 15 digits in international form ("+62 812-3456-7890", "0062…",
  "whatsapp:+1…"), Indonesian national form with a trunk "0" and an area or mobile prefix of
  at least three digits ("0812…", "(021) 555-1234"), or "62" followed by at least 8 digits.

Dates ("01-05-2024", "2024-05-01"), times, amounts ("Rp 62.000.000") and decimals are left
alone because none of them starts like a phone number with enough digits.

Text that is percent-encoded (a URL's query, a form body: "%2B6281…", "budi%40contoh.id") is
decoded, checked, and masked as a whole when it held anything.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote_plus

from normalizer.phone import mask_email, mask_nik, mask_phone

_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
_NIK = re.compile(r"(?<![\w+])[0-9]{16}(?![\w])")
# 16 digits in groups ("3201 2345 6789 0001", "3201.2345.6789.0001") or after "NIK".
_NIK_LOOSE = re.compile(r"(?:(?<=NIK)|(?<=nik)|(?<![\w+.]))[0-9](?:[ .]?[0-9]){15}(?![\w]|\.[0-9])")
# A run that holds at least one %XX escape: a URL query or a form value.
_PERCENT_RUN = re.compile(r"[^\s\"'<>]*%[0-9A-Fa-f]{2}[^\s\"'<>]*")
_PHONE = re.compile(
    r"(?<![\w+*])"
    r"(?P<lead>\+|00|\(?0[0-9]{2,4}\)?|62)"
    r"(?:[ .\-()]{0,2}[0-9]){6,14}"
    r"(?![\w*])"
)
_ASCII_DIGIT = re.compile(r"[0-9]")  # what the NIK and phone patterns need
_MIN_DIGITS = {"+": 8, "00": 10, "0": 9, "62": 10}


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    lead = match.group("lead")
    form = "+" if lead == "+" else "00" if lead == "00" else "62" if lead == "62" else "0"
    digits = sum(ch.isdigit() for ch in text)
    if digits < _MIN_DIGITS[form] or digits > 15 + (2 if form == "00" else 0):
        return text
    return mask_phone(text)


def _plain(text: str) -> str:
    text = _EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    text = _NIK.sub(lambda m: mask_nik(m.group(0)), text)
    text = _NIK_LOOSE.sub(lambda m: mask_nik(m.group(0)), text)
    return _PHONE.sub(_phone, text)


def _percent_run(match: re.Match[str]) -> str:
    run = match.group(0)
    decoded = unquote_plus(run)
    masked = _plain(decoded)
    # Nothing personal inside: keep the run as it was (still masked by _plain outside).
    return run if masked == decoded else quote(masked, safe="/=&?:+*@.,;-_")


def redact_text(text: str) -> str:
    """`text` with e-mail addresses, NIKs and phone numbers masked (see the module rules)."""
    if "%" in text:
        text = _PERCENT_RUN.sub(_percent_run, text)
    return _plain(text)


# Words that stand in for personal data in text a classifier learns from: the model must
# never see, nor keep in its vocabulary, even the unmasked digits of a masked number.
EMAIL_WORD = "xsurelx"
NIK_WORD = "xnikx"
PHONE_WORD = "xteleponx"


def _phone_word(match: re.Match[str]) -> str:
    return f" {PHONE_WORD} " if _phone(match) != match.group(0) else match.group(0)


def _decoded_if_personal(match: re.Match[str]) -> str:
    decoded = unquote_plus(match.group(0))
    return decoded if _plain(decoded) != decoded else match.group(0)


def replace_personal_data(text: str) -> str:
    """`text` with whole e-mail addresses, NIKs and phone numbers replaced by placeholder words.

    Unlike `redact_text` nothing of the original value stays (no first or last digits): this
    is what the learned classifiers see, and their vocabulary is written into model files.
    """
    if "%" in text:  # percent-encoded personal data is decoded first, as redact_text does
        text = _PERCENT_RUN.sub(_decoded_if_personal, text)
    # Each pattern needs an "@" or an ASCII digit to match: most complaints have neither,
    # and skipping the scans that cannot match halves the cost (it runs on every message).
    if "@" in text:
        text = _EMAIL.sub(f" {EMAIL_WORD} ", text)
    if _ASCII_DIGIT.search(text) is None:
        return text
    text = _NIK.sub(f" {NIK_WORD} ", text)
    text = _NIK_LOOSE.sub(f" {NIK_WORD} ", text)
    return _PHONE.sub(_phone_word, text)
