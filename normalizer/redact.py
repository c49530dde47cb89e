"""Mask personal data in free text: the logging filter's safety net, so no PII reaches a log.

This is deliberately a blunt instrument of regular expressions, not a parser: it would rather
mask a number that was not a phone than let one through. It looks for, in this order,

- e-mail addresses ("budi@example.go.id" -> "b***@e***.go.id");
- NIKs, 16 digits standing alone ("3201234567890001" -> "32************01");
- phone numbers of 8 to 15 digits in international form ("+62 812-3456-7890", "0062…",
  "whatsapp:+1…"), Indonesian national form with a trunk "0" and an area or mobile prefix of
  at least three digits ("0812…", "(021) 555-1234"), or "62" followed by at least 8 digits.

Dates ("01-05-2024", "2024-05-01"), times, amounts ("Rp 62.000.000") and decimals are left
alone because none of them starts like a phone number with enough digits.
"""

from __future__ import annotations

import re

from normalizer.phone import mask_email, mask_nik, mask_phone

_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
_NIK = re.compile(r"(?<![\w+])[0-9]{16}(?![\w])")
_PHONE = re.compile(
    r"(?<![\w+*])"
    r"(?P<lead>\+|00|\(?0[0-9]{2,4}\)?|62)"
    r"(?:[ .\-()]{0,2}[0-9]){6,14}"
    r"(?![\w*])"
)
_MIN_DIGITS = {"+": 8, "00": 10, "0": 9, "62": 10}


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    lead = match.group("lead")
    form = "+" if lead == "+" else "00" if lead == "00" else "62" if lead == "62" else "0"
    digits = sum(ch.isdigit() for ch in text)
    if digits < _MIN_DIGITS[form] or digits > 15 + (2 if form == "00" else 0):
        return text
    return mask_phone(text)


def redact_text(text: str) -> str:
    """`text` with e-mail addresses, NIKs and phone numbers masked (see the module rules)."""
    text = _EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    text = _NIK.sub(lambda m: mask_nik(m.group(0)), text)
    return _PHONE.sub(_phone, text)


# Words that stand in for personal data in text a classifier learns from: the model must
# never see, nor keep in its vocabulary, even the unmasked digits of a masked number.
EMAIL_WORD = "xsurelx"
NIK_WORD = "xnikx"
PHONE_WORD = "xteleponx"


def _phone_word(match: re.Match[str]) -> str:
    return f" {PHONE_WORD} " if _phone(match) != match.group(0) else match.group(0)


def replace_personal_data(text: str) -> str:
    """`text` with whole e-mail addresses, NIKs and phone numbers replaced by placeholder words.

    Unlike `redact_text` nothing of the original value stays (no first or last digits): this
    is what the learned classifiers see, and their vocabulary is written into model files.
    """
    text = _EMAIL.sub(f" {EMAIL_WORD} ", text)
    text = _NIK.sub(f" {NIK_WORD} ", text)
    return _PHONE.sub(_phone_word, text)
