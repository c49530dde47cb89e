"""Plain text from what citizens send: HTML to text, whitespace and Unicode cleaning, titles.

Everything here is pure and total: any `str` goes in, a `str` comes out, nothing raises.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Final

import html2text

ELLIPSIS: Final = "…"

# Tags that only HTML uses; `<budi@contoh.id>` or `a < b` are not HTML.
# Word lists read better as paragraphs than one word a line.
# fmt: off
_HTML_TAGS: Final = frozenset(
    ["a", "abbr", "b", "blockquote", "body", "br", "center", "div", "em", "font", "h1", "h2",
     "h3", "h4", "h5", "h6", "head", "hr", "html", "i", "img", "li", "meta", "ol", "p", "pre",
     "small", "span", "strong", "style", "table", "tbody", "td", "th", "title", "tr", "u", "ul",
     "article", "caption", "dd", "dl", "dt", "embed", "iframe", "nav", "noscript", "script",
     "section", "strike", "sub", "sup", "svg", "tfoot", "thead"]
)
# C0/C1 controls (tab and newline are handled before), lone surrogates, zero-width space, BOM.
_INVISIBLE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff\u200b\u2060\ufeff]")
_SPACES = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[.!?]+")
_WORD = re.compile(r"\w+")
_LAST_WORD = re.compile(r"[\w.]+$")
_LOOK_BACK: Final = 40
_LINE_MARK = re.compile(r"^[ \t]*(?:#{1,6}|[-*+])[ \t]+", re.MULTILINE)
_NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]+)*")
_DOTTED = re.compile(r"(?:[^\W\d_]{1,3}\.)+[^\W\d_]{1,4}")  # "a.n", "S.H", "S.Pd", "M.Kom"
# Words written with a full stop that does not end a sentence (Indonesian letters, addresses
# and SMS), compared in lower case.
ABBREVIATIONS: Final = frozenset(
    ["a.n", "an", "blk", "bln", "bp", "bpk", "br", "cv", "dg", "dkk", "dll", "dr", "dra", "drg",
     "drs", "dsb", "dsn", "dst", "ds", "gg", "h", "hj", "hp", "ir", "jend", "jl", "jln", "kab",
     "kav", "kec", "kel", "ket", "kh", "komp", "kp", "kpd", "lt", "mr", "mrs", "ms", "no", "nn",
     "ny", "perum", "prof", "prov", "pt", "rp", "rt", "rw", "s.d", "sd", "sdr", "sdri", "st",
     "tbk", "telp", "tgl", "thn", "tlp", "tn", "ttd", "u.p", "up", "wb", "wr", "yth"]
)
# Forms of address that are also ordinary words ("ibu" is a mother): an abbreviation only
# when capitalised ("Ibu. Siti"), so "... anak dan ibu. Kami ..." still ends a sentence.
HONORIFICS: Final = frozenset(["bapak", "bu", "ibu", "pak"])
_TITLE_LEAD: Final = "#>*-•· "
# Openings of a short sentence that only greets, as whole words.
_GREETINGS: Final = (
    "yth ", "kepada yth ", "dengan hormat ", "selamat pagi ", "selamat siang ", "selamat sore ",
    "selamat malam ", "halo ", "hallo ", "hai ", "permisi ", "salam ",
)
# fmt: on
_GREETING_WORDS: Final = 6


class _TagSniffer(HTMLParser):
    """Notices the first known HTML tag or doctype, then stops caring."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found = self.found or tag in _HTML_TAGS

    def handle_endtag(self, tag: str) -> None:
        self.found = self.found or tag in _HTML_TAGS

    def handle_decl(self, decl: str) -> None:
        self.found = self.found or decl.lower().startswith("doctype html")


class _PlainText(html2text.HTML2Text):
    """html2text tuned for people, not Markdown: no emphasis marks, images, wrapping or escapes."""

    def __init__(self) -> None:
        super().__init__(bodywidth=0)
        self.ignore_emphasis = True
        self.ignore_images = True
        self.unicode_snob = True  # keep "é" and "—" instead of ASCII look-alikes
        self.ul_item_mark = "-"
        self.inline_links = True  # "[foto](https://…)": the link stays next to its words

    def handle_data(self, data: str, entity_char: bool = False) -> None:
        # entity_char=True is html2text's switch for "do not backslash-escape Markdown";
        # the result is read by people, so "1. Jalan" must not become "1\. Jalan".
        super().handle_data(data, entity_char=True)


def looks_like_html(text: str) -> bool:
    """Tell whether `text` contains real HTML markup (a known tag or an HTML doctype)."""
    if "<" not in text:
        return False
    sniffer = _TagSniffer()
    try:
        sniffer.feed(text)
        sniffer.close()
    except AssertionError:
        # html.parser asserts on unknown marked sections such as "<![foo[": still maybe HTML.
        pass
    return sniffer.found


def html_to_text(html: str) -> str:
    """Convert an HTML body to readable plain text (links kept as text plus URL, no images)."""
    try:
        return _PlainText().handle(html)
    except AssertionError:
        # html.parser gives up on unknown marked sections ("<![foo["); show them as text.
        return _PlainText().handle(html.replace("<![", "&lt;!["))


def html_to_line(html: str) -> str:
    """One line of plain text from HTML in a one-line field (a title, a name).

    Like the body, but links keep only their words and heading or list marks are dropped:
    `<h1><a href="…">Budi</a></h1>` is "Budi".
    """
    converter = _PlainText()
    converter.ignore_links = True
    try:
        text = converter.handle(html)
    except AssertionError:
        text = _PlainText().handle(html.replace("<![", "&lt;!["))
    return clean_line(_LINE_MARK.sub("", text))


def clean_line(text: str) -> str:
    """Clean `text` to one line: every line break and whitespace run becomes one space."""
    return _SPACES.sub(" ", clean_text(text)).strip()


def clean_text(text: str) -> str:
    """Normalise whitespace and Unicode so the text is ready to store and show.

    Line breaks of any style become newlines; control characters other than tab and newline,
    lone surrogates and zero-width marks are removed; each line has its runs of spaces and
    tabs (and other Unicode spaces) collapsed to one space and is stripped; runs of blank
    lines become one blank line; the whole is stripped and in Unicode NFC.
    """
    lines: list[str] = []
    for raw_line in text.splitlines():
        line = _SPACES.sub(" ", _INVISIBLE.sub("", raw_line.replace("\t", " "))).strip()
        if line or (lines and lines[-1]):
            lines.append(line)
    # NFC last: removing an invisible character can bring a letter and its accent together.
    return unicodedata.normalize("NFC", "\n".join(lines).strip())


def clip(text: str, max_len: int) -> str:
    """Cut `text` to at most `max_len` characters, at a word boundary when one is near, with "…".

    Text that already fits is returned unchanged.
    """
    if max_len < 1:
        raise ValueError("max_len must be at least 1")
    if len(text) <= max_len:
        return text
    cut = text[: max_len - 1]
    if not text[max_len - 1].isspace():
        boundary = max(cut.rfind(" "), cut.rfind("\n"))
        if boundary > len(cut) // 2:  # a word longer than half the room is cut mid-word
            cut = cut[:boundary]
    return cut.rstrip(" \n,;:-\u2013") + ELLIPSIS


def _ends_sentence(line: str, start: int, end: int) -> bool:
    """Whether the punctuation at line[start:end] ends a sentence rather than an abbreviation."""
    if end < len(line) and not line[end].isspace():
        return False  # "contoh.go.id", "3.5", "Rp1.000", "RT.03"
    if line[start:end] != ".":
        return True  # "!", "?", "..." end a sentence
    # A bounded look back: no abbreviation is long, and a line of many full stops stays linear.
    found = _LAST_WORD.search(line, max(0, start - _LOOK_BACK), start)
    word = found.group(0) if found else ""
    if not word.strip("."):
        return True
    if _NUMBER.fullmatch(word):  # "Rp 1.500. Mohon" ends; "1. Jalan rusak" is a list item
        return not (word.isdigit() and found is not None and found.start() == 0)
    lower = word.lower()
    if lower in ABBREVIATIONS or _DOTTED.fullmatch(word):  # "Jl.", "S.H.", "a.n."
        return False
    if lower in HONORIFICS:
        return not word[0].isupper()
    return not (len(word) == 1 and word.isalpha())  # an initial: "A. Yani"


def _sentences(line: str) -> Iterator[str]:
    """Yield the line's sentences (without a final "."), skipping bare punctuation."""
    start = 0
    for match in _SENTENCE_END.finditer(line):
        if _ends_sentence(line, match.start(), match.end()):
            sentence = line[start : match.end()].rstrip(".").strip()
            start = match.end()
            if sentence.strip(".!? "):
                yield sentence
    rest = line[start:].strip()
    if rest.strip(".!? "):
        yield rest


def _is_greeting(sentence: str) -> bool:
    words = _WORD.findall(sentence.lower())
    if not words or len(words) > _GREETING_WORDS:
        return False
    return words[0].startswith("assalam") or (" ".join(words) + " ").startswith(_GREETINGS)


def derive_title(body: str, max_len: int = 150) -> str:
    """Derive a title of at most `max_len` characters from the body's first sentence.

    Sentences end at a line break or at ".", "!", "?" followed by a space, ignoring
    abbreviations such as "Jl.", "No.", "dll." and initials. The first sentence that is not
    a short greeting ("Yth. Bapak/Ibu", "Selamat pagi!") is the title, without its final
    ".", clipped at a word boundary with "…" when long. The result is empty only when the
    body has no visible text.
    """
    first_line = ""
    first_sentence = ""
    for line in filter(None, clean_text(body).split("\n")):
        first_line = first_line or line
        for sentence in _sentences(line):
            first_sentence = first_sentence or sentence
            # "Yth. Bapak/Ibu," or "Selamat pagi!" says nothing about the report: go on.
            if not _is_greeting(sentence):
                return _title(sentence, max_len)
    return _title(first_sentence or first_line, max_len)


def _title(sentence: str, max_len: int) -> str:
    return clip(sentence.lstrip(_TITLE_LEAD) or sentence, max_len)
