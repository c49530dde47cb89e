"""GSM-7, splitting and UDH helpers: labelled cases and property tests."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.sms.gsm import (
    Concat,
    build_udh,
    encoding_of,
    fit_parts,
    is_gsm7,
    length_in_units,
    parse_udh,
    prefer_gsm7,
    split_parts,
    to_gsm7,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("\u201cJalan\u201d \u2013 rusak\u2026", '"Jalan" - rusak...'),
        ("Caf\u00e9 \u00e0 la cr\u00e8me", "Café à la crème"),  # é and à are GSM-7 already
        ("\u00c1gua \u00ea \u0161", "Agua e s"),  # accents dropped
        ("Rp 5.000\u00a0\u2022 ok", "Rp 5.000 * ok"),
        ("emoji \U0001f6a7 stays", "emoji \U0001f6a7 stays"),
    ],
    ids=[
        "curly quotes",
        "gsm accents kept",
        "accents stripped",
        "spaces and bullets",
        "emoji kept",
    ],
)
def test_to_gsm7(text: str, expected: str) -> None:
    assert to_gsm7(text) == expected


def test_prefer_gsm7_keeps_text_that_cannot_be_gsm7() -> None:
    assert prefer_gsm7("\u2018ok\u2019") == "'ok'"
    assert prefer_gsm7("\u2018ok\u2019 \U0001f600") == "\u2018ok\u2019 \U0001f600"


@pytest.mark.parametrize(
    "text, encoding, units, parts",
    [
        ("a" * 160, "gsm7", 160, 1),
        ("a" * 161, "gsm7", 161, 2),
        ("{" * 80, "gsm7", 160, 1),
        ("a" * 153 * 3, "gsm7", 459, 3),
        ("é" * 70 + "ꦗ", "ucs2", 71, 2),
        ("\U0001f600" * 35, "ucs2", 70, 1),
        ("ꦗ" * 1000, "ucs2", 1000, 15),
    ],
    ids=[
        "160 gsm",
        "161 gsm",
        "escapes count double",
        "three full parts",
        "ucs2 overflow",
        "emoji are two units",
        "1000 ucs2 characters",
    ],
)
def test_lengths_and_parts(text: str, encoding: str, units: int, parts: int) -> None:
    assert encoding_of(text) == encoding
    assert length_in_units(text) == units
    assert len(split_parts(text)) == parts


@given(st.text(max_size=1200))
def test_split_parts_rejoin_and_fit(text: str) -> None:
    parts = split_parts(text)
    assert "".join(parts) == text
    enc = encoding_of(text)
    limit = (160 if enc == "gsm7" else 70) if len(parts) == 1 else (153 if enc == "gsm7" else 67)
    assert all(length_in_units(p, enc) <= limit for p in parts)


@given(st.text(min_size=1, max_size=1500), st.integers(min_value=1, max_value=5))
def test_fit_parts_respects_the_limit(text: str, max_parts: int) -> None:
    fitted = fit_parts(text, max_parts)
    assert len(split_parts(fitted)) <= max_parts
    if len(split_parts(text)) <= max_parts:
        assert fitted == text


@pytest.mark.parametrize(
    "udh, concat",
    [
        ("050003A70301", Concat(0xA7, 3, 1, 8)),
        ("050003a70303", Concat(0xA7, 3, 3, 8)),
        ("060804BEEF0202", Concat(0xBEEF, 2, 2, 16)),
        ("0B0504158200000003010201", Concat(1, 2, 1, 8)),  # port addressing first, then concat
        ("", None),
        ("0500", None),
        ("050003A70304", None),
        ("zz", None),
        ("050003A703", None),
    ],
    ids=[
        "8-bit first",
        "8-bit last lower-case",
        "16-bit",
        "after another element",
        "empty",
        "short",
        "seq past total",
        "not hex",
        "truncated",
    ],
)
def test_parse_udh(udh: str, concat: Concat | None) -> None:
    assert parse_udh(udh) == concat


@given(st.integers(0, 0xFFFF), st.integers(1, 255), st.data(), st.sampled_from([8, 16]))
def test_udh_round_trip(ref: int, total: int, data: st.DataObject, bits: int) -> None:
    seq = data.draw(st.integers(1, total))
    parsed = parse_udh(build_udh(ref, total, seq, bits))
    assert parsed == Concat(ref & (0xFF if bits == 8 else 0xFFFF), total, seq, bits)


@given(st.text(alphabet="0123456789abcdefABCDEFxyz ", max_size=40))
def test_parse_udh_never_raises(udh: str) -> None:
    result = parse_udh(udh)
    assert result is None or 1 <= result.seq <= result.total


def test_is_gsm7() -> None:
    assert is_gsm7("Nomor lacak: LPR1234567 {ok} €")
    assert not is_gsm7("Nomor lacak\u2019")
