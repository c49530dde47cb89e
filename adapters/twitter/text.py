"""Texts as X counts and writes them: weighted length, cutting to 280, leading @mentions.

X counts most Latin, Cyrillic and punctuation characters as 1 and everything else (CJK,
emoji) as 2; a link counts 23 whatever its length (twitter-text's v3 configuration). Post
texts arrive HTML-escaped (`&amp;`, `&lt;`, `&gt;`).
"""

from __future__ import annotations

import html
import re
import unicodedata

MAX_POST = 280
URL_WEIGHT = 23
# twitter-text v3: these code point ranges weigh 1, all others 2.
_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_URL = re.compile(r"https?://\S+")
_LEADING_MENTIONS = re.compile(r"^(?:\s*[@\uff20][A-Za-z0-9_]{1,15}\b)+\s*")
_TRAILING_LINKS = re.compile(r"(?:\s*https://t\.co/[A-Za-z0-9]+)+\s*$")


def _char_weight(char: str) -> int:
    point = ord(char)
    return 1 if any(lo <= point <= hi for lo, hi in _LIGHT) else 2


def weighted_length(text: str) -> int:
    """The length X checks against 280: NFC, links as 23, heavy characters as 2."""
    text = unicodedata.normalize("NFC", text)
    length, pos = 0, 0
    for match in _URL.finditer(text):
        length += sum(_char_weight(c) for c in text[pos : match.start()]) + URL_WEIGHT
        pos = match.end()
    return length + sum(_char_weight(c) for c in text[pos:])


def fit_post(text: str, limit: int = MAX_POST) -> str:
    """`text` cut at a word with "…" so that X accepts it (an admin's template ran long)."""
    text = unicodedata.normalize("NFC", text.strip())
    if weighted_length(text) <= limit:
        return text
    words = text.split(" ")
    while words and weighted_length(" ".join(words) + "…") > limit:
        words.pop()
    if words:
        return " ".join(words) + "…"
    cut = text
    while cut and weighted_length(cut + "…") > limit:
        cut = cut[:-1]
    return cut + "…"


def post_body(text: str, media_links: set[str]) -> str:
    """A post's words: unescaped, without the leading @mentions and trailing media links.

    Mentions inside the sentence stay (they may name the office complained about); the
    `https://t.co/...` links X appends for attached photos are dropped when they are the
    photos' own links (`media_links`), other links stay.
    """
    text = html.unescape(text)
    text = _LEADING_MENTIONS.sub("", text, count=1)
    trailing = _TRAILING_LINKS.search(text)
    if trailing:
        links = set(trailing.group(0).split())
        if links <= media_links:
            text = text[: trailing.start()]
    return text.strip()
