"""Property tests: the normalizer reads outside input, so no text may make it misbehave."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from normalizer.classify import KindKeywords, classify_kind, keyword_matches
from normalizer.email_address import EmailRejected, parse_email
from normalizer.phone import mask_email, mask_phone, normalize_address, to_e164
from normalizer.pipeline import NormalizerSettings, normalize_draft
from normalizer.redact import redact_text
from normalizer.text import (
    ABBREVIATIONS,
    HONORIFICS,
    clean_text,
    clip,
    derive_title,
    html_to_text,
)
from vocabulary.drafts import MessageDraft
from vocabulary.errors import PayloadInvalid

E164_RE = r"^\+[1-9][0-9]{6,14}$"
HTML_BITS = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<br>",
        "<b>",
        "</b>",
        "<a href='http://x.id'>",
        "</a>",
        "<![",
        "<!--",
        "-->",
        "&amp;",
        "&#",
        "<img src=x>",
        "<table><tr><td>",
        "]]>",
        "<",
        ">",
        "&nbsp;",
        "\r\n",
    ]
)
HTMLISH = st.lists(st.one_of(st.text(max_size=20), HTML_BITS), max_size=30).map("".join)
TEXT = st.one_of(st.text(), HTMLISH)
RELAXED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@RELAXED
@given(TEXT)
def test_clean_text_is_total_nfc_and_idempotent(text: str) -> None:
    cleaned = clean_text(text)
    assert unicodedata.is_normalized("NFC", cleaned)
    assert cleaned == cleaned.strip()
    assert "\r" not in cleaned and "\n\n\n" not in cleaned
    assert clean_text(cleaned) == cleaned


@RELAXED
@given(TEXT)
def test_html_to_text_leaves_no_markup_behind(text: str) -> None:
    result = html_to_text(text)
    # Conversion never adds markup, and text without tags or entities comes out as it went
    # in. (Broken input, an unclosed comment or a stray "&#", may keep a tag as literal text.)
    tag = re.compile(r"<\s*(p|br|b|a|img|table|tr|td)\b[^>]*>", re.I)
    assert len(tag.findall(result)) <= len(tag.findall(text))
    if text.isprintable() and not any(c in text for c in "<>&*_\\`[]#"):
        assert clean_text(result) == clean_text(text)


@RELAXED
@given(TEXT, st.integers(min_value=1, max_value=200))
def test_derive_title_fits(text: str, max_len: int) -> None:
    title = derive_title(text, max_len)
    assert len(title) <= max_len
    assert bool(title) == bool(clean_text(text))
    assert unicodedata.is_normalized("NFC", title)
    assert clip(text, max_len) == text or len(clip(text, max_len)) <= max_len


PHONEISH = st.text(alphabet="0123456789+-. ()whatsapp:tel", max_size=25)


@RELAXED
@given(st.one_of(st.text(max_size=40), PHONEISH))
def test_phone_functions_are_total(raw: str) -> None:
    e164 = to_e164(raw)
    if e164 is not None:
        assert re.match(E164_RE, e164)
        assert to_e164(e164) == e164
    address = normalize_address(raw)
    assert normalize_address(address) == address  # normalizing is idempotent
    masked = mask_phone(raw)
    digits = re.sub(r"\D", "", raw)
    if len(digits) >= 8:  # a number long enough to be someone's is never shown whole
        assert digits not in re.sub(r"\D", "", masked)
    if "@" in raw and "." in raw.rpartition("@")[2]:
        local = raw.strip().rpartition("@")[0]
        assert len(local) < 2 or local not in mask_email(raw)


@RELAXED
@given(st.text(), st.lists(st.text(min_size=1, max_size=10), max_size=5))
def test_matching_and_redaction_are_total(text: str, keywords: list[str]) -> None:
    # A keyword always matches a text that is that keyword; the text itself, read as a list
    # of one keyword, matches itself whenever it has letters or digits.
    for keyword in keywords:
        if any(c.isalnum() for c in keyword):
            assert keyword_matches(f"laporan: {keyword} ini", [keyword])
    assert keyword_matches(text, []) is False
    assert classify_kind(text, KindKeywords()) in {
        "pengaduan",
        "aspirasi",
        "permintaan_informasi",
        "whistleblowing",
    }
    redacted = redact_text(text)
    assert redact_text(redacted) == redacted  # masking what is masked changes nothing
    for found in re.findall(r"(?<!\d)\d{16}(?!\d)", text):
        assert found not in redacted  # a NIK standing alone never survives


@RELAXED
@given(
    body=TEXT,
    title=st.one_of(st.none(), st.text(max_size=300)),
    phone=st.one_of(st.none(), PHONEISH, st.text(max_size=20)),
    email=st.one_of(st.none(), st.text(max_size=30), st.emails()),
    nik=st.one_of(st.none(), st.text(max_size=20), st.from_regex(r"\A[0-9]{16}\Z")),
    name=st.one_of(st.none(), st.text(max_size=30)),
    kind=st.one_of(st.none(), st.text(max_size=20), st.sampled_from(["aspirasi", "wbs"])),
    content_type=st.sampled_from(["text/plain", "text/html", "TEXT/HTML; charset=utf-8"]),
    lat=st.one_of(st.none(), st.floats()),
)
def test_normalize_draft_is_total(
    body: str,
    title: str | None,
    phone: str | None,
    email: str | None,
    nik: str | None,
    name: str | None,
    kind: str | None,
    content_type: str,
    lat: float | None,
) -> None:
    message_draft = MessageDraft(
        external_id="x",
        received_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        body=body,
        body_content_type=content_type,
        title=title,
        phone=phone,
        email=email,
        identity_number=nik,
        name=name,
        kind=kind,
        lat=lat,
    )
    try:
        message = normalize_draft(message_draft, NormalizerSettings())
    except PayloadInvalid:
        return
    assert 1 <= len(message.title) <= 150
    assert 1 <= len(message.body) <= 20000
    assert unicodedata.is_normalized("NFC", message.title)
    assert unicodedata.is_normalized("NFC", message.body)
    if message.kind == "whistleblowing":
        assert message.privacy.confidential


# Words of a sentence that are not themselves abbreviations or initials.
PLAIN_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=9).filter(
    lambda w: w not in ABBREVIATIONS and w not in HONORIFICS
)
ABBREVIATION = st.sampled_from(
    ["Jl.", "No.", "Kec.", "Kab.", "RT.", "RW.", "dr.", "Bpk.", "Ibu.", "Prov.", "Kel.", "Ds.",
     "JL.", "KAB.", "Gg.", "a.n.", "S.H.", "dll."]
)  # fmt: skip
AFTER = st.one_of(
    PLAIN_WORD.map(str.capitalize), st.sampled_from(["1.500", "Rp1.500.000", "03", "5A", "2.5"])
)


@RELAXED
@given(
    st.lists(PLAIN_WORD, min_size=1, max_size=5),
    ABBREVIATION,
    AFTER,
    st.lists(PLAIN_WORD, max_size=5),
    st.lists(PLAIN_WORD, min_size=1, max_size=5),
)
def test_a_title_is_not_cut_at_an_abbreviation(
    before: list[str], abbreviation: str, after: str, rest: list[str], next_sentence: list[str]
) -> None:
    sentence = " ".join(["Laporan", *before, abbreviation, after, *rest])
    body = f"{sentence}. {' '.join(next_sentence).capitalize()}."
    assert derive_title(body) == sentence


@RELAXED
@given(
    st.one_of(
        st.text(max_size=60),
        st.builds(
            lambda a, b, c: f"{a}@{b}.{c}",
            st.text(max_size=12),
            st.text(max_size=12),
            st.text(max_size=6),
        ),
    )
)
def test_an_email_is_never_made_up(value: str) -> None:
    try:
        address = parse_email(value)
    except EmailRejected as exc:
        # The reason goes on the timeline: it never quotes what was typed.
        assert len(value.strip()) < 12 or value.strip() not in str(exc)
        return
    # Whatever is kept is one address with no space or line break, its local part as typed.
    assert not any(ch.isspace() for ch in address)
    local, _, domain = address.rpartition("@")
    assert local and domain and "@" not in local
    assert local in value
