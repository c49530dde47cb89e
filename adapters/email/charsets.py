"""Text out of the bytes mail clients send: declared charsets, and guesses when they lie.

Pure and total: every function returns text for any input, with a note when it had to guess.
"""

from __future__ import annotations

import codecs
from email.errors import MessageError
from email.header import decode_header, make_header
from typing import Final

from charset_normalizer import from_bytes

WESTERN_SINGLE_BYTE: Final = frozenset(
    [
        "cp1250",
        "cp1252",
        "cp1254",
        "cp1257",
        "latin_1",
        "iso8859_2",
        "iso8859_9",
        "iso8859_15",
        "iso8859_13",
        "mac_roman",
        "mac_latin2",
        "cp850",
        "cp437",
    ]
)


def decode_bytes(data: bytes, declared: str | None) -> tuple[str, str | None]:
    """Text from bytes in a declared charset, guessing when it is wrong; and a note if guessed."""
    name = (declared or "us-ascii").strip().strip('"').lower()
    try:
        codecs.lookup(name)
        return data.decode(name), None
    except LookupError:
        reason = f"set karakter {name[:40]!r} tidak dikenal"
    except UnicodeDecodeError:
        reason = f"teks bukan {name[:40]} yang sah"
    if name in ("us-ascii", "ascii"):
        try:
            return data.decode("utf-8"), None  # 8-bit text labelled ASCII by a lazy client
        except UnicodeDecodeError:
            pass
    best = from_bytes(data).best()
    guessed: str | None = best.encoding if best is not None else None
    if guessed is None or guessed in WESTERN_SINGLE_BYTE:
        # Detectors split hairs between Latin code pages on short texts; what Indonesian
        # and Western mail clients actually send is Windows-1252 (a superset of Latin-1).
        try:
            return data.decode("cp1252"), f"{reason}; dibaca sebagai cp1252"
        except UnicodeDecodeError:
            pass
    if guessed:
        try:
            return data.decode(guessed), f"{reason}; dibaca sebagai {guessed}"
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("cp1252"), f"{reason}; dibaca sebagai cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), f"{reason}; dibaca sebagai latin-1"


def decode_words(value: str) -> str:
    """RFC 2047 encoded words decoded; the value as it is when they are broken."""
    try:
        return str(make_header(decode_header(value)))
    except (MessageError, LookupError, UnicodeError, ValueError):
        return value


def fix_surrogates(value: str) -> str:
    """Raw 8-bit header bytes (kept as surrogates by the parser) decoded as UTF-8 or a guess."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        data = value.encode("utf-8", "surrogateescape")
        return decode_bytes(data, "utf-8")[0]
