"""Kind classification and keyword matching: tables of labelled cases."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from normalizer.classify import KindKeywords, as_kind, classify_kind, fold, keyword_matches

DEFAULTS = KindKeywords()

CLASSIFY_CASES = [
    # (id, text, explicit, expected)
    ("plain-complaint", "Jalan di depan pasar berlubang besar", None, "pengaduan"),
    ("pungli", "Ada pungli di kantor kelurahan saat urus KTP", None, "whistleblowing"),
    ("pungutan-liar-phrase", "Petugas minta PUNGUTAN   LIAR 50 ribu", None, "whistleblowing"),
    ("suap-with-enclitic", "Suapnya diberikan di parkiran", None, "whistleblowing"),
    ("mark-up-hyphen", "Anggaran proyek di-mark-up dua kali lipat", None, "whistleblowing"),
    ("markup-one-word", "Ada markup harga pengadaan", None, "whistleblowing"),
    ("uang-pelicin", "Harus bayar uang pelicin supaya cepat", None, "whistleblowing"),
    ("saran", "Saran saya, tambahkan lampu jalan", None, "aspirasi"),
    ("usulan", "Usulan warga: bangun taman bermain", None, "aspirasi"),
    ("sebaiknya", "Sebaiknya jam layanan diperpanjang", None, "aspirasi"),
    ("bagaimana-cara", "Bagaimana cara mengurus akta kelahiran?", None, "permintaan_informasi"),
    ("syaratnya", "Apa saja syaratnya buat SIM?", None, "permintaan_informasi"),
    ("informasinya", "Mohon informasinya soal bansos", None, "permintaan_informasi"),
    ("di-mana", "Di mana kantor Disdukcapil?", None, "permintaan_informasi"),
    ("accented", "Mohon ínformasi jadwal vaksin", None, "permintaan_informasi"),
    ("whistleblowing-beats-aspirasi", "Saran saya: usut korupsi dana desa", None, "whistleblowing"),
    ("aspirasi-beats-info", "Usul: informasi jadwal dipasang di papan", None, "aspirasi"),
    ("explicit-wins", "Ada korupsi dana desa", "aspirasi", "aspirasi"),
    ("explicit-any-case", "Jalan rusak", "Permintaan Informasi", "permintaan_informasi"),
    ("explicit-invalid-ignored", "Ada korupsi", "complaint", "whistleblowing"),
    ("explicit-empty-ignored", "Jalan rusak", "", "pengaduan"),
    ("no-match-inside-word", "Gerakan antikorupsi di sekolah bagus", None, "pengaduan"),
    ("no-match-suapi", "Ibu menyuapi anaknya di puskesmas", None, "pengaduan"),
    ("no-match-sarana", "Sarana ibadah rusak", None, "pengaduan"),
    ("empty-text", "", None, "pengaduan"),
]


@pytest.mark.parametrize(
    ("text", "explicit", "expected"),
    [case[1:] for case in CLASSIFY_CASES],
    ids=[case[0] for case in CLASSIFY_CASES],
)
def test_classify_kind(text: str, explicit: str | None, expected: str) -> None:
    assert classify_kind(text, DEFAULTS, explicit=explicit) == expected


CUSTOM = KindKeywords(whistleblowing=["uang kopi"], aspirasi=["mohon ditambah"])

CUSTOM_CASES = [
    ("custom-whistleblowing", "Diminta uang kopi oleh petugas", "whistleblowing"),
    ("custom-aspirasi", "Mohon ditambah loket", "aspirasi"),
    ("default-replaced", "Ada korupsi di sini", "pengaduan"),
    ("untouched-default-kept", "Bagaimana cara daftar?", "permintaan_informasi"),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in CUSTOM_CASES], ids=[c[0] for c in CUSTOM_CASES]
)
def test_custom_keywords_replace_defaults(text: str, expected: str) -> None:
    assert classify_kind(text, CUSTOM) == expected


MATCH_CASES = [
    ("whole-word", "jalan rusak parah", ["rusak"], True),
    ("phrase", "lampu   jalan mati", ["lampu jalan"], True),
    ("phrase-across-punctuation", "lampu-jalan mati", ["lampu jalan"], True),
    ("case-insensitive", "BANJIR di RT 5", ["banjir"], True),
    ("keyword-accent-folded", "cafe liar", ["café"], True),
    ("accent-both-sides", "Café liar", ["cafe"], True),
    ("enclitic-nya", "banjirnya tinggi", ["banjir"], True),
    ("not-inside-word", "antibanjir", ["banjir"], False),
    ("not-prefix-of-other-word", "jalanan", ["jalan"], False),
    ("empty-list", "apa saja", [], False),
    ("several", "sampah menumpuk", ["banjir", "sampah"], True),
]


@pytest.mark.parametrize(
    ("text", "keywords", "expected"),
    [c[1:] for c in MATCH_CASES],
    ids=[c[0] for c in MATCH_CASES],
)
def test_keyword_matches(text: str, keywords: list[str], expected: bool) -> None:
    assert keyword_matches(text, keywords) is expected


def test_fold() -> None:
    assert fold("  Pungutan-LIAR di Kantor Désa!! ") == "pungutan liar di kantor desa"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("aspirasi", "aspirasi"),
        (" WHISTLEBLOWING ", "whistleblowing"),
        ("permintaan-informasi", "permintaan_informasi"),
        ("wbs", None),
        (None, None),
    ],
    ids=["exact", "case-and-space", "dash", "unknown", "none"],
)
def test_as_kind(value: str | None, expected: str | None) -> None:
    assert as_kind(value) == expected


def test_config_rejects_blank_keyword_and_unknown_key() -> None:
    with pytest.raises(ValidationError):
        KindKeywords(aspirasi=["saran", "  "])
    with pytest.raises(ValidationError):
        KindKeywords.model_validate({"pengaduan": ["rusak"]})


def test_defaults_are_independent_copies() -> None:
    one, two = KindKeywords(), KindKeywords()
    one.aspirasi.append("x")
    assert "x" not in two.aspirasi
