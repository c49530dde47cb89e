"""Phone numbers in E.164, SMS addresses, and masks for phone numbers, e-mail addresses and NIKs.

Parsing uses libphonenumber's metadata (the `phonenumbers` package); nothing here raises on bad
input: a value that is not a possible phone number gives None.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, ValidationResult

E164_PATTERN: Final = re.compile(r"^\+[1-9][0-9]{6,14}$")
MASK: Final = "****"

_SCHEMES: Final = ("whatsapp:", "tel:", "sms:", "wa:")
_SEPARATORS = re.compile(r"[\s\-.()/]+")
_PHONE_LIKE = re.compile(r"^\+?[0-9]+$")
# Second-level labels under a country code top-level domain that belong to the suffix:
# "go.id", "co.id", "ac.id", "co.uk".
# fmt: off
_SECOND_LEVEL: Final = frozenset(
    ["ac", "biz", "co", "com", "desa", "edu", "go", "gov", "id", "mil", "my", "net", "or", "org",
     "ponpes", "sch", "web"]
)
# fmt: on


def _strip_scheme(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw).strip()  # full-width digits become ASCII
    lowered = text.lower()
    for scheme in _SCHEMES:
        if lowered.startswith(scheme):
            return text[len(scheme) :].strip()
    return text


def _digits_only(raw: str) -> str:
    """Drop scheme and separators, and turn a leading "00" (international prefix) into "+"."""
    compact = _SEPARATORS.sub("", _strip_scheme(raw))
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    return compact


def _parse(candidate: str, region: str) -> PhoneNumber | None:
    try:
        number = phonenumbers.parse(candidate, region)
    except NumberParseException:
        return None
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != ValidationResult.IS_POSSIBLE or not number.national_number:
        return None
    return number


def to_e164(raw: str | None, region: str = "ID") -> str | None:
    """Return the number in E.164 ("+6281234567890"), or None when it is not a possible one.

    Accepts national ("0812…"), international with or without "+" or "00" ("62812…",
    "+62 812-…"), and "whatsapp:", "tel:", "sms:" prefixes, with spaces, dashes, dots,
    slashes and parentheses. Letters make it no number; so do short codes such as 1708.
    """
    if raw is None:
        return None
    compact = _digits_only(raw)
    if not _PHONE_LIKE.match(compact):
        return None
    number: PhoneNumber | None = None
    if not compact.startswith(("+", "0")):
        # People in the region write national numbers with the trunk "0"; digits that start
        # with the country code instead are an international number without its "+".
        country_code = str(phonenumbers.country_code_for_region(region))
        if country_code != "0" and compact.startswith(country_code):
            number = _parse("+" + compact, region)
            if number is not None and not phonenumbers.is_valid_number(number):
                number = None
    number = number or _parse(compact, region)
    if number is None:
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164 if E164_PATTERN.match(e164) else None


def normalize_address(raw: str, region: str = "ID") -> str:
    """Return an SMS address in E.164 when it is a phone number, else its cleaned code ("1708")."""
    e164 = to_e164(raw, region)
    if e164 is not None:
        return e164
    # NFC after the separators go: removing a space left by NFKC (an acute accent becomes
    # space + combining mark) must not leave a form that normalizes again differently.
    compact = unicodedata.normalize("NFC", _SEPARATORS.sub("", _strip_scheme(raw)))
    return compact or raw.strip()


def mask_phone(value: str) -> str:
    """Hide the middle of a phone number: "+6281234567890" -> "+62812****7890".

    E.164 keeps "+", the country code, three digits and the last four; another long digit
    string keeps its first three and last four; anything shorter is fully masked.
    """
    e164 = to_e164(value) if not E164_PATTERN.match(value) else value
    if e164 is not None:
        try:
            country = str(phonenumbers.parse(e164).country_code)
        except NumberParseException:
            country = e164[1:3]
        head = len(country) + 4  # "+", the country code, three more digits
        if len(e164) >= head + 4 + 2:
            return e164[:head] + MASK + e164[-4:]
        return MASK
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) >= 10:
        return digits[:3] + MASK + digits[-4:]
    return MASK


def _mask_word(word: str) -> str:
    return (word[:1] + "***") if word else "***"


def mask_email(address: str) -> str:
    """Hide the names in an e-mail address: "budi@example.go.id" -> "b***@e***.go.id"."""
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return "***"
    labels = domain.split(".")
    keep = 2 if len(labels) >= 3 and labels[-2].lower() in _SECOND_LEVEL else 1
    if len(labels) <= keep:
        return f"{_mask_word(local)}@{_mask_word(domain)}"
    suffix = ".".join(labels[-keep:])
    return f"{_mask_word(local)}@{_mask_word(labels[0])}.{suffix}"


def mask_nik(nik: str) -> str:
    """Hide a NIK (16 digits) but for its province code and last two digits."""
    digits = "".join(ch for ch in nik if ch.isdigit())
    if len(digits) != 16:
        return MASK
    return digits[:2] + "*" * 12 + digits[-2:]
