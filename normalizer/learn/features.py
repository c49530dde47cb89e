"""What a learned classifier sees of a message: no personal data, word and character n-grams.

One function per feature family, used alike by training (scikit-learn's vectorizer calls them)
and by prediction (the model file's vocabulary maps them to columns), so the two can never
drift apart:

- the text is cut to its first `MAX_CHARS` characters (title and opening carry the topic; a
  bounded length bounds prediction time);
- e-mail addresses, NIKs and phone numbers become placeholder words before anything else
  (`normalizer.redact.replace_personal_data`), then every run of digits becomes "0": house
  numbers, amounts or plate numbers never reach a model's vocabulary;
- the text is folded by `fold_text` here: case-folded, accents removed, every run of
  non-letters and non-digits one space. It is deliberately this module's own and not the
  keyword matcher's (`normalizer.classify.fold`, which also maps look-alike letters and may
  grow): a model file's vocabulary is only valid for the folding it was trained with, so
  changing it means a new `FEATURES_VERSION`, which refuses older model files;
- word features: single words and pairs of neighbouring words;
- character features: 2- to 5-grams inside each word padded with a space on both sides
  (scikit-learn's `char_wb`), which carry typos ("jalan", "jaln", "jalannya") and regional
  spellings to shared pieces.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from array import array
from functools import lru_cache
from typing import Final

from normalizer.redact import replace_personal_data

FEATURES_VERSION: Final = 1  # recorded in model files; bump on any change to what follows
MAX_CHARS: Final = 1500
WORD_CACHE: Final = 50_000  # words whose character columns a vocabulary keeps
CHAR_SIZES: Final = (2, 3, 4, 5)
_DIGITS = re.compile(r"[0-9]+")
_NOT_WORD = re.compile(r"[\W_]+")
# The same as `_NOT_WORD` for ASCII text, without a regular expression.
_ASCII_NOT_WORD: Final = str.maketrans({c: " " for c in map(chr, range(128)) if not c.isalnum()})


def fold_text(text: str) -> str:
    """Case-folded, accents removed, words separated by one space ("Désa-KU!" -> "desa ku")."""
    bare = text.casefold()
    if bare.isascii():  # most messages: a table maps every non-letter, non-digit to a space
        return " ".join(bare.translate(_ASCII_NOT_WORD).split())
    decomposed = unicodedata.normalize("NFKD", bare)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_WORD.sub(" ", bare).strip()


def prepare(text: str) -> str:
    """The folded, personal-data-free text both feature families read."""
    clean = replace_personal_data(text[:MAX_CHARS])
    return _DIGITS.sub("0", fold_text(clean))


def word_features(prepared: str) -> list[str]:
    """Words (two characters or more) and pairs of neighbouring words of prepared text."""
    words = [w for w in prepared.split() if len(w) > 1]
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


def char_features(prepared: str) -> list[str]:
    """Character 2- to 5-grams of each space-padded word of prepared text."""
    grams: list[str] = []
    for word in prepared.split():
        grams.extend(_word_grams(word))
    return grams


@lru_cache(maxsize=65536)
def _word_grams(word: str) -> tuple[str, ...]:
    """One word's character n-grams: cached, as complaints reuse a small vocabulary."""
    padded = f" {word} "
    size = len(padded)
    return tuple(padded[i : i + n] for n in CHAR_SIZES if n <= size for i in range(size - n + 1))


FAMILIES: Final = {"word": word_features, "char": char_features}


@lru_cache(maxsize=1024)
def prepared(text: str) -> str:
    """`prepare`, cached: the kind model and a routing model read the same message in turn."""
    return prepare(text)


class Vocabulary:
    """One feature family's tokens as model columns `offset .. offset + len(tokens) - 1`."""

    def __init__(self, family: str, tokens: list[str], offset: int = 0) -> None:
        self.family = family
        self.offset = offset
        self.index = {token: offset + i for i, token in enumerate(tokens)}  # token -> column
        self._words: dict[str, array[int]] = {}

    def add_columns(self, prepared: str, out: array[int]) -> None:
        """Append to `out` the model column of every known token of the text, once per use.

        Character n-grams are read word by word through a per-word cache: looking up each
        of a word's n-grams in a vocabulary of 100,000 tokens costs a cache miss apiece in a
        busy server, and complaints reuse few words, so each word's known columns are
        looked up once and kept (at most `WORD_CACHE` words).
        """
        if self.family == "char":
            cache = self._words
            for word in prepared.split():
                columns = cache.get(word)
                out.extend(columns if columns is not None else self._word_columns(word))
            return
        get = self.index.get
        for token in FAMILIES[self.family](prepared):
            column = get(token)
            if column is not None:
                out.append(column)

    def _word_columns(self, word: str) -> array[int]:
        get = self.index.get
        columns = array("q", [c for c in map(get, char_features(word)) if c is not None])
        if len(self._words) >= WORD_CACHE:
            self._words.clear()
        self._words[word] = columns
        return columns
