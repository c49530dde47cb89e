"""The SMS grammar as a table of labelled texts, plus property tests on arbitrary input."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.sms.grammar import Grammar, Template


@dataclass
class G:
    label: str
    text: str
    body: str
    fields: dict[str, str] = field(default_factory=dict)
    status_query: str | None = None
    in_reply_to: str | None = None
    keyword: str | None = None
    empty: bool = False


GRAMMAR = Grammar(
    templates=(Template.parse("ADUAN#nama#alamat#isi"), Template.parse("WBS*lokasi*isi"))
)

CASES = [
    G("free text, no keyword", "Jalan rusak di depan pasar", "Jalan rusak di depan pasar"),
    G(
        "prefix stripped",
        "LAPOR jalan rusak di depan pasar",
        "jalan rusak di depan pasar",
        keyword="LAPOR",
    ),
    G("prefix with colon, lower case", "lapor: lampu mati", "lampu mati", keyword="LAPOR"),
    G("prefix alone is empty, kept as text", "LAPOR", "LAPOR", keyword="LAPOR", empty=True),
    G("prefix and punctuation is empty", " lapor: ... ", "lapor: ...", keyword="LAPOR", empty=True),
    G("blank is empty", " \n ", "", empty=True),
    G("punctuation only is empty", "?!", "?!", empty=True),
    G("an emoji alone is empty", "👍", "👍", empty=True),
    G("template with nothing in it is empty", "ADUAN###", "ADUAN###", keyword="ADUAN", empty=True),
    G("a digit is content", "LAPOR 3", "3", keyword="LAPOR"),
    G(
        "a word that starts like a prefix is not one",
        "LAPORAN saya belum dijawab",
        "LAPORAN saya belum dijawab",
    ),
    G(
        "template fills fields",
        "ADUAN#Budi#Jl. Merdeka 1#Jalan berlubang",
        "Jalan berlubang",
        {"name": "Budi", "address": "Jl. Merdeka 1"},
        keyword="ADUAN",
    ),
    G(
        "template keeps separators inside the last part",
        "aduan#Sari#RT 2#jalan #rusak# parah",
        "jalan #rusak# parah",
        {"name": "Sari", "address": "RT 2"},
        keyword="ADUAN",
    ),
    G(
        "template with parts missing keeps the whole text",
        "ADUAN#Budi",
        "ADUAN#Budi",
        {"name": "Budi"},
        keyword="ADUAN",
    ),
    G("template with empty parts", "ADUAN###Sampah menumpuk", "Sampah menumpuk", keyword="ADUAN"),
    G(
        "second template, other separator",
        "WBS*Kantor desa*pungli KTP",
        "pungli KTP",
        {"location_text": "Kantor desa"},
        keyword="WBS",
    ),
    G(
        "ADUAN without template separator is a prefix",
        "ADUAN sampah menumpuk",
        "sampah menumpuk",
        keyword="ADUAN",
    ),
    G("status query", "STATUS LPR1234567", "STATUS LPR1234567", status_query="LPR1234567"),
    G(
        "cek query, lower case, colon",
        "cek: lpr7654321",
        "cek: lpr7654321",
        status_query="LPR7654321",
    ),
    G(
        "cek status two words",
        "CEK STATUS LPR0000001.",
        "CEK STATUS LPR0000001.",
        status_query="LPR0000001",
    ),
    G(
        "status with more text is a complaint",
        "STATUS LPR1234567 kenapa belum ada kabar?",
        "STATUS LPR1234567 kenapa belum ada kabar?",
    ),
    G(
        "follow-up starts with the tracking id",
        "LPR1234567 jalannya makin parah",
        "jalannya makin parah",
        in_reply_to="LPR1234567",
    ),
    G(
        "follow-up after a prefix",
        "LAPOR LPR1234567: sudah 2 minggu",
        "sudah 2 minggu",
        in_reply_to="LPR1234567",
        keyword="LAPOR",
    ),
    G(
        "tracking id alone asks for the status",
        " lpr1234567 ",
        "lpr1234567",
        status_query="LPR1234567",
    ),
    G("a longer id is not a tracking id", "LPR12345678 test", "LPR12345678 test"),
    G(
        "tracking id inside the text is not a follow-up",
        "jalan rusak LPR1234567",
        "jalan rusak LPR1234567",
    ),
    G("non-Latin text kept", "ꦗꦭꦤ꧀ ꦫꦸꦱꦏ꧀ 🚧", "ꦗꦭꦤ꧀ ꦫꦸꦱꦏ꧀ 🚧"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_grammar(case: G) -> None:
    parsed = GRAMMAR.parse(case.text)
    assert (
        parsed.body,
        parsed.fields,
        parsed.status_query,
        parsed.in_reply_to,
        parsed.keyword,
        parsed.empty,
    ) == (case.body, case.fields, case.status_query, case.in_reply_to, case.keyword, case.empty)


def test_configured_tracking_pattern_and_keywords() -> None:
    grammar = Grammar(prefixes=("ADU",), status_keywords=("LACAK",), tracking_pattern=r"KAB-\d{4}")
    assert grammar.parse("LACAK kab-0042").status_query == "KAB-0042"
    assert grammar.parse("ADU KAB-0042 masih bocor").in_reply_to == "KAB-0042"
    assert grammar.parse("STATUS LPR1234567").status_query is None


@pytest.mark.parametrize(
    "spec, error",
    [
        ("ADUAN", "separator"),
        ("#nama#isi", "KEYWORD"),
        ("ADUAN#umur#isi", "unknown field"),
        ("ADUAN#nama#name", "twice"),
    ],
)
def test_bad_templates_are_refused(spec: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        Template.parse(spec)


@given(st.text(max_size=400))
def test_any_text_is_a_complaint_or_a_question(text: str) -> None:
    parsed = GRAMMAR.parse(text)
    if parsed.status_query is None:
        # No wrong door: the complaint text is never lost to the grammar.
        assert parsed.body.strip() in text
        if text.strip():
            assert parsed.body.strip()
    else:
        assert parsed.status_query.startswith("LPR") and len(parsed.status_query) == 10
    # Empty means nothing to report: no letter or digit beyond a prefix or template keyword.
    if parsed.empty:
        assert parsed.status_query is None and parsed.in_reply_to is None
        words = [w for w in text.split() if any(ch.isalnum() for ch in w)]
        assert len(words) <= 1
