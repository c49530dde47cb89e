"""Plain text from HTML, cleaning, titles and clipping: tables of labelled cases."""

from __future__ import annotations

import pytest

from normalizer.text import (
    clean_line,
    clean_text,
    clip,
    derive_title,
    html_to_line,
    html_to_text,
    looks_like_html,
)

EMAIL_HTML = """<html><head><style>p { color: red }</style><script>alert(1)</script>
<title>ignored</title></head><body>
<div dir="ltr"><p>Yth. Bapak/Ibu,</p>
<p><b>Jalan rusak</b> di <i>Jl. Merdeka</i> No.&nbsp;5 &mdash; lihat
<a href="https://contoh.go.id/foto?a=1&amp;b=2">foto</a>.<br>
<img src="cid:image001.png" alt="gambar">Terima kasih.</p>
<ol><li>1. Lubang besar</li><li>Genangan</li></ol>
<p>- Budi</p></div></body></html>"""


def test_html_email_to_text() -> None:
    text = clean_text(html_to_text(EMAIL_HTML))
    assert "Jalan rusak di Jl. Merdeka No. 5 — lihat" in text
    assert "[foto](https://contoh.go.id/foto?a=1&b=2)" in text
    assert "**" not in text and "_Jl" not in text  # no emphasis marks
    assert "image001" not in text and "gambar" not in text  # images dropped
    assert "alert" not in text and "color" not in text and "ignored" not in text
    assert "\\" not in text  # no Markdown escapes such as "1\." or "\-"
    assert "- Budi" in text
    assert "\n\n\n" not in text


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>satu</p><p>dua</p>", "satu\n\ndua"),
        ("baris<br>baris", "baris\nbaris"),
        ("a &amp; b &lt;c&gt;", "a & b <c>"),
        ("<![foo[ x ]]><p>isi</p>", "isi"),
        ("<p>Outlook <![if !supportLists]>-<![endif]> list</p>", "Outlook - list"),
    ],
    ids=["paragraphs", "line-break", "entities", "unknown-marked-section", "outlook-conditional"],
)
def test_html_to_text_cases(html: str, expected: str) -> None:
    assert expected in clean_text(html_to_text(html))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<p>halo</p>", True),
        ("<!DOCTYPE html><title>x</title>", True),
        ("Halo<br/>dunia", True),
        ("<DIV>caps</DIV>", True),
        ("Budi <budi@contoh.go.id>", False),
        ("nilai a < b dan c > d", False),
        ("<3 terima kasih", False),
        ("tidak ada tag", False),
        ("<![foo[ x", False),
    ],
    ids=[
        "p",
        "doctype",
        "br",
        "upper-case",
        "email-in-angles",
        "comparison",
        "heart",
        "plain",
        "broken-marked-section",
    ],
)
def test_looks_like_html(text: str, expected: bool) -> None:
    assert looks_like_html(text) is expected


CLEAN_CASES = [
    ("nfc-compose", "e\u0301", "é"),
    ("nfc-after-removing-control", "e\x00\u0301", "é"),
    ("control-chars-removed", "a\x00b\x07c\x1bd\x7fe", "abcde"),
    ("tab-kept-as-space", "a\t\tb", "a b"),
    ("crlf", "a\r\nb\rc", "a\nb\nc"),
    ("unicode-line-breaks", "a\u2028b\x85c", "a\nb\nc"),
    ("spaces-collapsed", "a   \u00a0 b", "a b"),
    ("lines-stripped", "  a  \n  b  ", "a\nb"),
    ("blank-runs-collapsed", "a\n\n\n\n\nb\n \n\t\nc", "a\n\nb\n\nc"),
    ("one-blank-line-kept", "a\n\nb", "a\n\nb"),
    ("zero-width-and-bom", "\ufeffa\u200bb", "ab"),
    ("lone-surrogate-removed", "a\ud800b", "ab"),
    ("outer-blank-lines", "\n\n  a \n\n", "a"),
    ("only-whitespace", " \t\r\n ", ""),
]


@pytest.mark.parametrize(
    ("raw", "expected"), [c[1:] for c in CLEAN_CASES], ids=[c[0] for c in CLEAN_CASES]
)
def test_clean_text(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


HTML_LINE_CASES = [
    ("bold", "<b>Jalan</b> rusak", "Jalan rusak"),
    ("heading-link", '<h2><a href="http://x.id">Budi</a></h2>', "Budi"),
    ("entities", "<p>Budi &amp; Ani</p>", "Budi & Ani"),
    ("list", "<ul><li>Jalan</li><li>rusak</li></ul>", "Jalan rusak"),
    ("script", "<script>alert(1)</script><i>Siti</i>", "Siti"),
]


@pytest.mark.parametrize(
    ("html", "expected"), [c[1:] for c in HTML_LINE_CASES], ids=[c[0] for c in HTML_LINE_CASES]
)
def test_html_to_line(html: str, expected: str) -> None:
    assert html_to_line(html) == expected


def test_clean_line_joins_lines() -> None:
    assert clean_line(" Jl. Merdeka\r\nNo. 5 \n\n RT 01 ") == "Jl. Merdeka No. 5 RT 01"


LONG_SENTENCE = "Lampu penerangan jalan umum " + "di sepanjang jalan desa " * 12 + "mati."

TITLE_CASES = [
    ("first-sentence", "Jalan rusak parah. Mohon segera diperbaiki.", "Jalan rusak parah"),
    (
        "abbreviations",
        "Jalan di Jl. Merdeka No. 5 rusak. Mohon dicek.",
        "Jalan di Jl. Merdeka No. 5 rusak",
    ),
    (
        "dll-bpk",
        "Sampah, plastik dll. dibuang Bpk. Ahmad ke sungai. Tolong.",
        "Sampah, plastik dll. dibuang Bpk. Ahmad ke sungai",
    ),
    ("initial", "Lampu di Jl. A. Yani mati. Sudah lama.", "Lampu di Jl. A. Yani mati"),
    (
        "dotted-abbreviation",
        "Surat a.n. Kepala Desa hilang. Mohon bantu.",
        "Surat a.n. Kepala Desa hilang",
    ),
    ("question-kept", "Kapan jalan diperbaiki? Sudah 2 bulan.", "Kapan jalan diperbaiki?"),
    ("exclamation-kept", "Tolong! Banjir di RT 3", "Tolong!"),
    ("newline-ends", "Air PDAM mati\nsejak kemarin sore", "Air PDAM mati"),
    (
        "url-not-split",
        "Situs contoh.go.id tidak bisa dibuka. Mohon dicek",
        "Situs contoh.go.id tidak bisa dibuka",
    ),
    ("decimal-not-split", "Tarif naik 2.5 kali lipat. Mahal", "Tarif naik 2.5 kali lipat"),
    ("list-number", "1. Jalan rusak. 2. Lampu mati", "1. Jalan rusak"),
    (
        "greeting-skipped",
        "Yth. Bapak/Ibu,\nDengan hormat,\nSampah menumpuk di pasar.",
        "Sampah menumpuk di pasar",
    ),
    ("greeting-only", "Selamat pagi!", "Selamat pagi!"),
    ("assalamualaikum", "Assalamualaikum wr. wb.\nLampu PJU mati", "Lampu PJU mati"),
    (
        "greeting-word-prefix-is-not-greeting",
        "Halodoc tidak bisa dibuka. Tolong",
        "Halodoc tidak bisa dibuka",
    ),
    (
        "long-greeting-is-content",
        "Selamat pagi pak, jalan di depan sekolah berlubang dalam sekali.",
        "Selamat pagi pak, jalan di depan sekolah berlubang dalam sekali",
    ),
    ("leading-blank-lines", "\n\n   \n  Jembatan putus  ", "Jembatan putus"),
    ("markdown-heading", "# Laporan banjir\nair setinggi lutut", "Laporan banjir"),
    ("punctuation-only", "...", "..."),
    (
        "address-abbreviations",
        "Lampu mati di RT. 03 RW. 05 Kel. Sukamaju Kec. Cibinong Kab. Bogor Prov. Jawa Barat."
        " Tolong.",
        "Lampu mati di RT. 03 RW. 05 Kel. Sukamaju Kec. Cibinong Kab. Bogor Prov. Jawa Barat",
    ),
    ("honorific", "Ibu. Siti ditarik biaya. Tolong.", "Ibu. Siti ditarik biaya"),
    ("mother-ends", "Saya tinggal dengan ibu. Rumah kami kebanjiran.", "Saya tinggal dengan ibu"),
    ("doctor", "Pelayanan dr. Budi buruk sekali. Saya kecewa.", "Pelayanan dr. Budi buruk sekali"),
    ("village", "Ds. Sukamaju banjir. Tolong.", "Ds. Sukamaju banjir"),
    (
        "after-slash",
        "Jalan di RW 05/Kel. Sukamaju rusak. Tolong.",
        "Jalan di RW 05/Kel. Sukamaju rusak",
    ),
    ("amount-ends", "Diminta bayar Rp 1.500. Ini pungli.", "Diminta bayar Rp 1.500"),
    ("domain-ends", "Situs desa.contoh.id. Tidak bisa dibuka.", "Situs desa.contoh.id"),
    (
        "degree",
        "Surat dari Budi, S.Pd. kepada camat hilang. Tolong.",
        "Surat dari Budi, S.Pd. kepada camat hilang",
    ),
]


@pytest.mark.parametrize(
    ("body", "expected"), [c[1:] for c in TITLE_CASES], ids=[c[0] for c in TITLE_CASES]
)
def test_derive_title(body: str, expected: str) -> None:
    assert derive_title(body) == expected


def test_long_first_sentence_is_clipped_at_a_word() -> None:
    title = derive_title(LONG_SENTENCE)
    assert len(title) <= 150
    assert title.endswith("…")
    assert LONG_SENTENCE.startswith(title[:-1])
    assert LONG_SENTENCE[len(title) - 1] == " "  # cut where a word ended


def test_title_of_one_huge_word_is_cut_mid_word() -> None:
    assert derive_title("x" * 500) == "x" * 149 + "…"


CLIP_CASES = [
    ("fits", "pendek", 10, "pendek"),
    ("exact", "1234567890", 10, "1234567890"),
    ("word-boundary", "satu dua tiga empat", 12, "satu dua…"),
    ("trailing-comma-dropped", "satu, dua tiga", 8, "satu…"),
    ("mid-word-when-no-space", "abcdefghij", 5, "abcd…"),
    ("one", "abcdef", 1, "…"),
]


@pytest.mark.parametrize(
    ("text", "max_len", "expected"), [c[1:] for c in CLIP_CASES], ids=[c[0] for c in CLIP_CASES]
)
def test_clip(text: str, max_len: int, expected: str) -> None:
    result = clip(text, max_len)
    assert result == expected
    assert len(result) <= max_len


def test_clip_rejects_zero() -> None:
    with pytest.raises(ValueError, match="max_len"):
        clip("abc", 0)
