"""Which kind a citizen message is: complaint, aspiration, information request or whistleblowing.

Keyword matching rules (shared with routing rules through `keyword_matches`):

- text and keywords are folded the same way: case-folded, accents removed ("é" -> "e"),
  look-alike letters of other scripts read as the Latin ones they imitate and invisible
  characters dropped (`normalizer.confusables`: "kоrupsi" with a Cyrillic "о" is "korupsi"),
  every run of characters that is not a letter or digit turned into one space, so "Mark-Up"
  matches the keyword "mark up" and "pungli!!" matches "pungli". Folding is for matching
  only: the stored and forwarded text keeps every character;
- "l", "1" and "i" fold to one letter, and "0" to "o": Unicode's confusables make "I", "l"
  and "1" one shape and "0" and "O" another, and case folding makes "I" an "i", so "PUNGLI"
  written with a Cyrillic "І", "pungӏi" with a palochka, "pungl1" and "k0rupsi" all match.
  Keywords fold the same way, so "RT 01" still matches "rt 01"; no Indonesian keyword turns
  into another word by these swaps;
- a keyword, which may be a phrase of several words, matches whole words only: it must start at
  a word boundary and end at one, so "korupsi" does not match inside "antikorupsi" and "suap"
  does not match "suapi";
- the one exception is the Indonesian enclitics -nya, -lah, -kah, -pun, -ku and -mu, which may
  follow a keyword ("korupsinya", "syaratnya" match "korupsi", "syarat"). Derived forms made
  with -an, -kan or -i are different words: list them explicitly (as "usul", "usulan" are).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

from normalizer.confusables import fold_table
from vocabulary.kinds import Kind

KINDS: Final[tuple[Kind, ...]] = tuple(Kind)
DEFAULT_KIND: Final[Kind] = Kind.PENGADUAN
_KEYWORD_KINDS: Final[tuple[Kind, ...]] = (
    Kind.WHISTLEBLOWING,
    Kind.ASPIRASI,
    Kind.PERMINTAAN_INFORMASI,
)

_ENCLITICS = r"(?:nya|iah|kah|pun|ku|mu)?"  # folded: -lah is "iah"
_NOT_WORD = re.compile(r"[\W_]+")
_ONE_SHAPE = str.maketrans("l10", "iio")  # UTS #39: I, l, 1 look alike; so do O and 0

# Word lists read better as paragraphs than one word a line.
# fmt: off
_WHISTLEBLOWING = [
    "korupsi", "pungli", "pungutan liar", "suap", "menyuap", "disuap", "penyuapan", "gratifikasi",
    "sogok", "menyogok", "disogok", "sogokan", "mark up", "markup", "penggelembungan",
    "penyalahgunaan wewenang", "penyalahgunaan jabatan", "nepotisme", "kolusi", "kkn",
    "uang pelicin", "uang rokok", "uang damai", "pemerasan", "penggelapan", "fiktif",
]
_ASPIRASI = [
    "saran", "menyarankan", "usul", "usulan", "mengusulkan", "aspirasi", "harapan kami",
    "kami berharap", "sebaiknya", "alangkah baiknya", "mohon dipertimbangkan",
]
_PERMINTAAN_INFORMASI = [
    "informasi", "bagaimana cara", "gimana cara", "syarat", "persyaratan", "prosedur",
    "kapan jadwal", "mohon info", "minta info", "info dong", "dimana", "di mana",
    "berapa biaya",
]
# fmt: on


class KindKeywords(BaseModel):
    """Keywords that mark each kind; a list given in config replaces that kind's defaults."""

    model_config = ConfigDict(extra="forbid")

    whistleblowing: list[str] = Field(default_factory=lambda: list(_WHISTLEBLOWING))
    aspirasi: list[str] = Field(default_factory=lambda: list(_ASPIRASI))
    permintaan_informasi: list[str] = Field(default_factory=lambda: list(_PERMINTAAN_INFORMASI))

    @field_validator("whistleblowing", "aspirasi", "permintaan_informasi")
    @classmethod
    def _no_blank_keywords(cls, value: list[str]) -> list[str]:
        # A keyword that folds to nothing ("!!", " ") would silently never match: say so.
        for keyword in value:
            if not fold(keyword):
                raise ValueError(f"keyword {keyword!r} has no letters or digits")
        return value


def fold(text: str) -> str:
    """Text as keyword matching sees it (see the module rules): one space between words.

    >>> fold("  Pungutan-LIAR di Kantor Désa!! ")
    'pungutan iiar di kantor desa'
    """
    if text.isascii():  # most messages: nothing to decompose or map
        folded = text.lower()
    else:  # look-alikes before case folding: to the eye, "Ν" is an N but "ν" a v
        table = fold_table()  # before NFKD too, which would make "˛" a space and a mark
        folded = unicodedata.normalize("NFKD", text.translate(table)).translate(table)
        folded = folded.casefold()
    return _NOT_WORD.sub(" ", folded.translate(_ONE_SHAPE)).strip()


@lru_cache(maxsize=256)
def _pattern(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    phrases = sorted({fold(k) for k in keywords} - {""}, key=len, reverse=True)
    if not phrases:
        return None
    alternatives = "|".join(re.escape(p) for p in phrases)
    return re.compile(rf"(?<!\w)(?:{alternatives}){_ENCLITICS}(?!\w)")


def keyword_matches(text: str, keywords: list[str] | tuple[str, ...]) -> bool:
    """Whether any keyword occurs in `text` as a whole word or phrase (see the module rules).

    An empty keyword list never matches.
    """
    pattern = _pattern(tuple(keywords))
    return pattern is not None and pattern.search(fold(text)) is not None


def folded_matches(folded_text: str, keywords: list[str] | tuple[str, ...]) -> bool:
    """`keyword_matches` for text already folded with `fold` (saves folding it again)."""
    pattern = _pattern(tuple(keywords))
    return pattern is not None and pattern.search(folded_text) is not None


def as_kind(value: str | None) -> Kind | None:
    """`value` as one of KINDS (ignoring case, spaces and dashes), or None when it is not one."""
    if value is None:
        return None
    candidate = "_".join(_NOT_WORD.sub(" ", value.casefold()).split())
    return Kind(candidate) if candidate in KINDS else None


def classify_kind(text: str, keywords: KindKeywords, explicit: str | None = None) -> Kind:
    """Return the message's kind: a valid `explicit` one, else by keywords, else pengaduan.

    Keywords are tried in order of consequence: whistleblowing (it forces confidentiality),
    then aspirasi, then permintaan_informasi.
    """
    chosen = as_kind(explicit)
    if chosen is not None:
        return chosen
    folded = fold(text)
    for kind in _KEYWORD_KINDS:
        pattern = _pattern(tuple(getattr(keywords, kind)))
        if pattern is not None and pattern.search(folded):
            return kind
    return DEFAULT_KIND
