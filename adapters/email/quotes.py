"""Strip what the citizen did not write from an email body: quoted replies and signatures.

The raw message keeps everything; this only decides what becomes the report's text. Rules,
in order:

1. a reply header ("On ... wrote:", "Pada ... menulis:", possibly wrapped over two lines)
   followed by "> " lines is dropped with those lines (bottom or inline posting keeps the
   citizen's text below); followed by plain text it cuts everything from there (top posting);
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


def _is_reply_header(lines: list[str], index: int) -> int:
    """How many lines (1 or 2) the reply header at `index` spans; 0 when there is none."""
    line = lines[index]
    if _REPLY_HEADER.match(line):
        return 1
    if (
        _REPLY_HEADER_START.match(line)
        and index + 1 < len(lines)
        and _REPLY_HEADER.match(f"{line} {lines[index + 1]}")
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
