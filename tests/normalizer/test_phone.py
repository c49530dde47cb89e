"""Phone numbers to E.164, SMS addresses, and masks: tables of labelled cases."""

from __future__ import annotations

import pytest

from normalizer.phone import mask_email, mask_nik, mask_phone, normalize_address, to_e164

FULL_WIDTH = {ord(d): ord(d) + 0xFEE0 for d in "0123456789"}  # "0" -> "\uff10"

E164_CASES = [
    ("national-mobile", "081234567890", "+6281234567890"),
    ("country-code-no-plus", "6281234567890", "+6281234567890"),
    ("plus-with-dashes", "+62 812-3456-7890", "+6281234567890"),
    ("dots", "0812.3456.7890", "+6281234567890"),
    ("parentheses-landline", "(021) 555-1234", "+62215551234"),
    ("landline-country-code-no-plus", "62215551234", "+62215551234"),
    ("whatsapp-prefix", "whatsapp:+6281234567890", "+6281234567890"),
    ("tel-prefix-upper", "TEL:+62-812-3456-7890", "+6281234567890"),
    ("double-zero-prefix", "0062 812 3456 7890", "+6281234567890"),
    ("full-width-digits", "081234567890".translate(FULL_WIDTH), "+6281234567890"),
    ("foreign", "+1 (202) 555-0143", "+12025550143"),
    ("short-code", "1708", None),
    ("too-short", "0812", None),
    ("letters", "0812-FLOWERS", None),
    ("garbage", "hubungi saya", None),
    ("empty", "", None),
    ("blank", "   ", None),
    ("none", None, None),
    ("plus-only", "+", None),
    ("zeros", "+620000000000", None),
    ("unknown-country", "+999 1234 5678", None),
]


@pytest.mark.parametrize(
    ("raw", "expected"), [c[1:] for c in E164_CASES], ids=[c[0] for c in E164_CASES]
)
def test_to_e164(raw: str | None, expected: str | None) -> None:
    assert to_e164(raw) == expected


def test_other_region() -> None:
    assert to_e164("012 345 6789", region="MY") == "+60123456789"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+62 812-3456-7890", "+6281234567890"),
        ("1708", "1708"),
        ("sms:1 7 0 8", "1708"),
        ("TELKOMSEL", "TELKOMSEL"),
        ("  ", ""),
    ],
    ids=[
        "phone",
        "short-code",
        "short-code-with-scheme-and-spaces",
        "alphanumeric-sender",
        "blank",
    ],
)
def test_normalize_address(raw: str, expected: str) -> None:
    assert normalize_address(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+6281234567890", "+62812****7890"),
        ("0812-3456-7890", "+62812****7890"),
        ("+12025550143", "+1202****0143"),
        ("1708", "****"),
        ("", "****"),
        ("12345678901234567890", "123****7890"),
    ],
    ids=["e164", "national", "foreign", "short-code", "empty", "long-non-number"],
)
def test_mask_phone(raw: str, expected: str) -> None:
    assert mask_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("budi@example.go.id", "b***@e***.go.id"),
        ("Siti.Aminah@gmail.com", "S***@g***.com"),
        ("x@mail.example.com", "x***@m***.com"),
        ("a@localhost", "a***@l***"),
        ("@example.com", "***@e***.com"),
        ("bukan-alamat", "***"),
    ],
    ids=["go-id", "gmail", "subdomain", "no-dot", "no-local", "no-at"],
)
def test_mask_email(raw: str, expected: str) -> None:
    assert mask_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3201234567890001", "32************01"),
        ("3201 2345 6789 0001", "32************01"),
        ("12345", "****"),
    ],
    ids=["nik", "nik-with-spaces", "not-a-nik"],
)
def test_mask_nik(raw: str, expected: str) -> None:
    assert mask_nik(raw) == expected
