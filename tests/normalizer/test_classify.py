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
    # "l" and "i" are one letter to matching (see the module rules).
    assert fold("  Pungutan-LIAR di Kantor Désa!! ") == "pungutan iiar di kantor desa"


# Keyword evasion (issue 8.11), written with escapes so the look-alikes can be told apart.
EVASION_CASES = [
    ("cyrillic-o", "Ada k\u043erupsi dana desa", "whistleblowing"),
    ("cyrillic-capitals", "ADA \u041a\u041eRUPS\u0406 DANA DESA", "whistleblowing"),
    ("greek-capital-nu", "\u039dEPOTISME di dinas", "whistleblowing"),
    ("armenian", "Diminta p\u057dngli", "whistleblowing"),
    ("palochka-for-l", "Ada pung\u04cfi di kelurahan", "whistleblowing"),
    ("small-capitals", "\u1d18\u1d1c\u0274\u0262\u029f\u026a di kantor", "whistleblowing"),
    ("full-width", "\uff53\uff55\uff41\uff50 di kantor camat", "whistleblowing"),
    ("math-bold", "\U0001d42c\U0001d428\U0001d420\U0001d428\U0001d424 petugas", "whistleblowing"),
    (
        "math-bold-m",
        "\U0001d429\U0001d41e\U0001d426\U0001d41e\U0001d42b\U0001d41a\U0001d42c\U0001d41a\U0001d427",
        "whistleblowing",
    ),
    ("zero-width", "ada ko\u200brup\u200dsi", "whistleblowing"),
    ("soft-hyphen", "ada ko\u00adrupsi", "whistleblowing"),
    ("strike-through", "k\u0336o\u0336r\u0336u\u0336p\u0336s\u0336i\u0336", "whistleblowing"),
    ("stroke-letters", "\u01a5\u0289ngli di pasar", "whistleblowing"),
    ("cyrillic-pe-for-n", "\u043fepotisme", "whistleblowing"),
    (
        "russian-is-not-evasion",
        "\u041a\u043e\u0440\u0440\u0443\u043f\u0446\u0438\u044f",
        "pengaduan",
    ),
    ("soup-is-not-suap", "\u0421\u0443\u043f", "pengaduan"),
    ("javanese-kept", "\ua997\ua9a0\ua9a4\ua9c0 rusak", "pengaduan"),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in EVASION_CASES], ids=[c[0] for c in EVASION_CASES]
)
def test_look_alike_letters_do_not_evade_keywords(text: str, expected: str) -> None:
    assert classify_kind(text, DEFAULTS) == expected


def test_routing_keywords_fold_look_alikes_too() -> None:
    assert keyword_matches("J\u0430l\u0430n rus\u0430k di RT 3", ["jalan rusak"])
    assert keyword_matches("jalan rusak", ["J\u0430lan rusak"])  # a keyword typed oddly


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
