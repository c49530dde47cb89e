"""Strip what the citizen did not write from an email body: quoted replies and signatures.

The raw message keeps everything; this only decides what becomes the report's text. Rules,
in order:

1. a reply header ("On ... wrote:", "Pada ... menulis:", "Am ... schrieb ...:", Android's
   "<date> пользователь ... написал:": a line naming an address and a time that ends in a
   colon shortly after "wrote" in one of many languages, or right after the address when
   quoted lines follow; possibly wrapped over two lines) followed by "> " lines is dropped
   with those lines (bottom or inline posting keeps the citizen's text below); followed by
   plain text it cuts everything from there (top posting);
2. "-----Original Message-----", "-----Pesan Asli-----" and an Outlook header block
   ("From:" with "Sent:"/"Date:"/"Dikirim:" and "To:"/"Subject:" close below it, optionally
   after a line of underscores) cut everything from there, unless the message is a forward,
   whose forwarded part is the complaint;
3. lines quoted with ">" are dropped;
4. a signature delimiter ("-- ") cuts everything below it;
5. trailing client footers ("Sent from my iPhone", "Dikirim dari Yahoo Mail ...",
   "Get Outlook for Android") are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_REPLY_HEADER = re.compile(
    r"^\s*(on\s.{0,300}\swrote|pada\s.{0,300}\smenulis|le\s.{0,300}\sa\s[ée]crit)\s*:\s*$",
    re.IGNORECASE,
)
_REPLY_HEADER_START = re.compile(r"^\s*(on|pada|le)\s", re.IGNORECASE)
# Reply headers of other clients and languages ("Am ... schrieb Budi <budi@...>:", Android's
# "<date> пользователь "Budi" <budi@...> написал:", "El ... escribió:", Gmail's Russian and
# Japanese "<date> Budi <budi@...>:"): a line naming an address and a time that ends in a
# colon shortly after a "wrote" verb, or right after the address when quoted lines follow.
# English "wrote" and Indonesian "menulis" are left to `_REPLY_HEADER` ("On/Pada ..."): a
# citizen's "Saya sudah menulis ke ... pukul 10.15:" is their own text.
_WROTE = re.compile(
    r"(schrieb|a\s+[ée]crit|написал[аи]?|escribi[óo]|escreveu|ha\s+scritto|schreef"
    r"|napisa[łl]a?|skrev|kirjoitti|yazd[\u0131i]|napsal[a]?|írta|写道|のメッセージ)"
    r".{0,80}$",
    re.IGNORECASE,
)
_HEADER_ADDRESS = re.compile(r"[^\s<>()\"]+@[^\s<>()\"]+\.[^\s<>()\"]+")
_HEADER_TIME = re.compile(r"\d{1,2}[:.]\d{2}|\d{4}")
_ENDS_AT_ADDRESS = re.compile(r"(>|\))\s*[:\uff1a]\s*$")
_MAX_HEADER_CHARS = 400
_COLONS = (":", "\uff1a")  # and the full-width colon of Chinese and Japanese clients
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(original message|pesan asli|pesan awal|forwarded message|pesan yang"
    r" diteruskan|pesan terusan)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_FORWARD_MARK = re.compile(r"forwarded message|diteruskan|terusan", re.IGNORECASE)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_HEADER_FROM = re.compile(r"^\s*\*?(from|dari)\s*:\*?\s*\S", re.IGNORECASE)
_HEADER_SENT = re.compile(r"^\s*\*?(sent|date|dikirim|tanggal|terkirim)\s*:\*?\s*\S", re.IGNORECASE)
_HEADER_TO = re.compile(r"^\s*\*?(to|kepada|subject|perihal|subjek)\s*:\*?", re.IGNORECASE)
_SIGNATURE = re.compile(r"^--\s?$")
_FOOTER = re.compile(
    r"^\s*(sent from (my )?\S.{0,60}|dikirim dari \S.{0,60}|kirim dari \S.{0,60}|"
    r"get outlook for \S.{0,40}|sent via \S.{0,60}|diketik dari \S.{0,60})$",
    re.IGNORECASE,
)
_HEADER_BLOCK_LINES = 6


@dataclass
class StrippedBody:
    """The citizen's own text and what was removed (for the report's timeline)."""

    text: str
    notes: list[str] = field(default_factory=list)


def _is_any_language_header(text: str, quote_follows: bool) -> bool:
    """A reply header in another client's or language's words (see `_WROTE`)."""
    text = text.strip()
    if len(text) > _MAX_HEADER_CHARS or not text.endswith(_COLONS):
        return False
    if not (_HEADER_ADDRESS.search(text) and _HEADER_TIME.search(text)):
        return False
    return bool(_WROTE.search(text) or (quote_follows and _ENDS_AT_ADDRESS.search(text)))


def _quote_follows(lines: list[str], index: int) -> bool:
    return _next_text_line(lines, index).lstrip().startswith(">")


def _is_reply_header(lines: list[str], index: int) -> int:
    """How many lines (1 or 2) the reply header at `index` spans; 0 when there is none."""
    line = lines[index]
    if _REPLY_HEADER.match(line) or _is_any_language_header(line, _quote_follows(lines, index + 1)):
        return 1
    if index + 1 >= len(lines) or not line.strip():
        return 0
    joined = f"{line} {lines[index + 1]}"
    if _REPLY_HEADER_START.match(line) and _REPLY_HEADER.match(joined):
        return 2
    if not line.rstrip().endswith(_COLONS) and _is_any_language_header(
        joined, _quote_follows(lines, index + 2)
    ):
        return 2
    return 0


def _is_outlook_block(lines: list[str], index: int) -> bool:
    """An Outlook-style header block ("From:" then "Sent:" and "To:"/"Subject:") at `index`."""
    if not _HEADER_FROM.match(lines[index]):
        return False
    window = lines[index + 1 : index + 1 + _HEADER_BLOCK_LINES]
    return any(_HEADER_SENT.match(x) for x in window) and any(_HEADER_TO.match(x) for x in window)


def _next_text_line(lines: list[str], index: int) -> str:
    for line in lines[index:]:
        if line.strip():
            return line
    return ""


def strip_quotes(text: str, *, forwarded: bool = False) -> StrippedBody:
    """The citizen's own words from a plain-text body (see the module rules)."""
    lines = text.split("\n")
    notes: list[str] = []
    kept: list[str] = []
    quoted = False
    index = 0
    while index < len(lines):
        line = lines[index]
        span = _is_reply_header(lines, index)
        if span:
            quoted = True
            if _next_text_line(lines, index + span).lstrip().startswith(">"):
                index += span
                continue
            break
        if _ORIGINAL_MESSAGE.match(line):
            if forwarded and _FORWARD_MARK.search(line):
                kept.append(line)
                index += 1
                continue
            if not forwarded:
                quoted = True
                break
        if not forwarded and (
            _is_outlook_block(lines, index)
            or (
                _UNDERSCORES.match(line)
                and index + 1 < len(lines)
                and _is_outlook_block(lines, index + 1)
            )
        ):
            quoted = True
            break
        if line.lstrip().startswith(">"):
            quoted = True
            index += 1
            continue
        if _SIGNATURE.match(line):
            notes.append("signature removed")
            break
        kept.append(line)
        index += 1
    if quoted:
        notes.insert(0, "quoted earlier messages removed")
    while kept and (not kept[-1].strip() or _FOOTER.match(kept[-1])):
        if kept[-1].strip():
            notes.append("mail client footer removed")
        kept.pop()
    return StrippedBody("\n".join(kept).strip("\n"), notes)
