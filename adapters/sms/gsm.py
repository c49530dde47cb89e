"""SMS text arithmetic: the GSM-7 alphabet, segment sizes, splitting, and concatenation UDH.

Pure functions (3GPP TS 23.038 for the alphabet, TS 23.040 §9.2.3.24 for the information
elements). A text made only of GSM-7 characters travels 160 septets in one SMS and 153 per
part of a long one (a 6-octet UDH takes 7 septets); any other character makes the whole
message UCS-2: 70 UTF-16 units in one SMS, 67 per part.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Final, Literal

Encoding = Literal["gsm7", "ucs2"]

# The basic set and the extension table (each extension character costs two septets).
GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION: Final = frozenset("^{}\\[~]|€\f")

SINGLE_GSM7, PART_GSM7 = 160, 153
SINGLE_UCS2, PART_UCS2 = 70, 67

# Look-alikes that phones and word processors put into text, with their GSM-7 stand-ins.
_LOOKALIKES: Final = {  # curly quotes, dashes, ellipsis, odd spaces...
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "`": "'",
    "\u00b4": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2012": "-",
    "\u2015": "-",
    "\u2010": "-",
    "\u2011": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u2022": "*",
    "\u00b7": ".",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\u200b": "",
    "\ufeff": "",
    "\t": " ",
    "\u00d7": "x",
    "\u00f7": "/",
}


def is_gsm7(text: str) -> bool:
    """Whether every character of `text` is in the GSM-7 basic set or its extension."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def to_gsm7(text: str) -> str:
    """`text` with typographic look-alikes and accents replaced by GSM-7 characters.

    Characters with no GSM-7 equivalent (emoji, non-Latin scripts) are kept: the caller
    decides between sending UCS-2 and losing them (see `prefer_gsm7`).
    """
    out: list[str] = []
    for ch in text:
        if ch in GSM7_BASIC or ch in GSM7_EXTENSION:
            out.append(ch)
        elif ch in _LOOKALIKES:
            out.append(_LOOKALIKES[ch])
        else:
            base = "".join(
                c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
            )
            out.append(base if base and is_gsm7(base) else ch)
    return "".join(out)


def prefer_gsm7(text: str) -> str:
    """GSM-7 look-alikes when that makes the whole text GSM-7; else the text as it is."""
    converted = to_gsm7(text)
    return converted if is_gsm7(converted) else text


def encoding_of(text: str) -> Encoding:
    """The SMS data coding a text needs."""
    return "gsm7" if is_gsm7(text) else "ucs2"


def _units(ch: str, encoding: Encoding) -> int:
    if encoding == "gsm7":
        return 2 if ch in GSM7_EXTENSION else 1
    return 2 if ord(ch) > 0xFFFF else 1  # a character outside the BMP is a surrogate pair


def length_in_units(text: str, encoding: Encoding | None = None) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS-2) the text takes."""
    enc = encoding or encoding_of(text)
    return sum(_units(ch, enc) for ch in text)


def split_parts(text: str) -> list[str]:
    """The text cut into SMS parts; a character (or its escape, or surrogate pair) never straddles.

    Cuts prefer the last space in a part so words stay whole when that costs little.
    """
    enc = encoding_of(text)
    single, per_part = (SINGLE_GSM7, PART_GSM7) if enc == "gsm7" else (SINGLE_UCS2, PART_UCS2)
    if length_in_units(text, enc) <= single:
        return [text] if text else []
    parts: list[str] = []
    current: list[str] = []
    used = 0
    for ch in text:
        size = _units(ch, enc)
        if used + size > per_part:
            cut = "".join(current)
            space = cut.rfind(" ")
            if space >= per_part * 3 // 4:
                parts.append(cut[: space + 1])
                current = list(cut[space + 1 :])
                used = length_in_units("".join(current), enc)
            else:
                parts.append(cut)
                current, used = [], 0
        current.append(ch)
        used += size
    if current:
        parts.append("".join(current))
    return parts


def fit_parts(text: str, max_parts: int) -> str:
    """`text` shortened with an ellipsis so that it fits in `max_parts` SMS parts."""
    if len(split_parts(text)) <= max_parts:
        return text
    enc = encoding_of(text)
    ellipsis = "..." if enc == "gsm7" else "…"
    per_part = PART_GSM7 if enc == "gsm7" else PART_UCS2
    if max_parts == 1:
        per_part = SINGLE_GSM7 if enc == "gsm7" else SINGLE_UCS2
    # Start from the capacity and trim until the split agrees (word cuts can waste a few units).
    budget = per_part * max_parts - length_in_units(ellipsis, enc)
    kept: list[str] = []
    used = 0
    for ch in text:
        size = _units(ch, enc)
        if used + size > budget:
            break
        kept.append(ch)
        used += size
    candidate = "".join(kept).rstrip()
    while candidate and len(split_parts(candidate + ellipsis)) > max_parts:
        candidate = candidate[:-1].rstrip()
    return candidate + ellipsis


@dataclass(frozen=True)
class Concat:
    """The concatenation information element of one part: reference, total and sequence."""

    ref: int
    total: int
    seq: int
    ref_bits: int = 8


def parse_udh(udh_hex: str | None) -> Concat | None:
    """The concatenation element of a hex UDH ("050003A70201"), or None when there is none.

    Elements 0x00 (8-bit reference) and 0x08 (16-bit reference) are read; other elements are
    skipped; a malformed header (odd length, bad hex, lengths past the end) gives None.
    """
    if not udh_hex:
        return None
    try:
        data = bytes.fromhex(udh_hex.strip())
    except ValueError:
        return None
    if len(data) < 2 or data[0] != len(data) - 1:
        return None
    pos = 1
    while pos + 2 <= len(data):
        iei, length = data[pos], data[pos + 1]
        value = data[pos + 2 : pos + 2 + length]
        if len(value) != length:
            return None
        if iei == 0x00 and length == 3:
            ref, total, seq = value
            return Concat(ref, total, seq, 8) if 1 <= seq <= total else None
        if iei == 0x08 and length == 4:
            total, seq = value[2], value[3]
            ref = int.from_bytes(value[:2], "big")
            return Concat(ref, total, seq, 16) if 1 <= seq <= total else None
        pos += 2 + length
    return None


def build_udh(ref: int, total: int, seq: int, ref_bits: int = 8) -> str:
    """The hex UDH of one part: `050003RRTTNN` (8-bit ref) or `060804RRRRTTNN` (16-bit)."""
    if not (1 <= seq <= total <= 255):
        raise ValueError("need 1 <= seq <= total <= 255")
    if ref_bits == 8:
        return f"050003{ref & 0xFF:02X}{total:02X}{seq:02X}"
    return f"060804{ref & 0xFFFF:04X}{total:02X}{seq:02X}"
