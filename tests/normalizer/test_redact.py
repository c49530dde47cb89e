"""The logging safety net: personal data in free text comes out masked."""

from __future__ import annotations

import pytest

from normalizer.redact import redact_text

MASKED_CASES = [
    ("intl-phone", "from +62 812-3456-7890 ok", "+6281234567890", "+62812****7890"),
    ("national-phone", "nomor 081234567890.", "081234567890", "+62812****7890"),
    ("country-code-phone", "wa 6281234567890", "6281234567890", "+62812****7890"),
    ("whatsapp-address", "to=whatsapp:+6281234567890", "6281234567890", "whatsapp:+62812****7890"),
    ("landline", "telp (021) 555-1234", "555-1234", "+62215****1234"),
    ("foreign", "call +1 202 555 0143", "555 0143", "+1202****0143"),
    ("in-url", "https://wa.me/6281234567890", "6281234567890", "wa.me/+62812****7890"),
    ("email", "reply-to budi.santoso@contoh.go.id", "budi.santoso", "b***@c***.go.id"),
    ("email-with-digits", "081234567890@sms.example.id", "081234567890", "0***@s***.id"),
    ("nik", "NIK 3201234567890001 terlampir", "3201234567890001", "32************01"),
    ("nik-spaced", "NIK 3201 2345 6789 0001 ok", "2345 6789", "32************01"),
    ("nik-dotted", "nik: 3201.2345.6789.0001.", "2345.6789", "32************01"),
    ("nik-prefixed", "NIK3201234567890001", "3201234567890001", "32************01"),
    ("phone-percent", "GET /send?to=%2B6281234567890&x=1", "6281234567890", "62812"),
    ("email-percent", "body=from+budi.santoso%40contoh.go.id", "budi.santoso", "b***"),
    ("phone-percent-spaced", "text=hub+0812%2D3456%2D7890", "3456", "62812"),
]


@pytest.mark.parametrize(
    ("text", "secret", "masked"),
    [c[1:] for c in MASKED_CASES],
    ids=[c[0] for c in MASKED_CASES],
)
def test_personal_data_is_masked(text: str, secret: str, masked: str) -> None:
    result = redact_text(text)
    assert secret not in result
    assert masked in result


KEPT_CASES = [
    ("iso-date-time", "received 2024-05-01 12:30:00"),
    ("dmy-date", "tanggal 01-05-2024"),
    ("amount", "Rp 62.000.000 dan Rp1.500.000"),
    ("decimal", "took 0.123456789s"),
    ("short-code", "from 1708"),
    ("ulid", "report 01HZX5V0ABCDEF1234567890"),
    ("ip", "client 10.0.0.1 port 8000"),
    ("tweet-id", "tweet 1790000000000000001"),
]


@pytest.mark.parametrize("text", [c[1] for c in KEPT_CASES], ids=[c[0] for c in KEPT_CASES])
def test_ordinary_numbers_are_left_alone(text: str) -> None:
    assert redact_text(text) == text


def test_a_whole_log_line() -> None:
    line = (
        "inbound sms channel=sms-1708 from=+6281234567890 email=warga@mail.example.id "
        "nik=3174012345670001 body='lapor jalan rusak, hub 0857-1234-5678' at 2024-05-01T10:00:00Z"
    )
    result = redact_text(line)
    for secret in ("81234567890", "warga@", "3174012345670001", "0857-1234-5678", "12345678"):
        assert secret not in result
    assert "channel=sms-1708" in result
    assert "2024-05-01T10:00:00Z" in result
