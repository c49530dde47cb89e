"""What a citizen's SMS says: free text, a keyword template, a status question or a follow-up.

No keyword is ever required (no wrong door): any text is a complaint. On top of that, in order:

1. `STATUS LPR1234567` / `CEK LPR1234567` (keywords configurable) is a status question;
2. a channel template such as `ADUAN#nama#alamat#isi` fills report fields from the parts;
3. a leading prefix word (`LAPOR`, `ADUAN`, ...) is stripped;
4. a text that then starts with a tracking id continues that report (a follow-up); a tracking
   id alone is a status question;
5. a text with no letter or digit, or nothing but a prefix word (`LAPOR`, `lapor:`), is empty:
   the adapter holds it in quarantine (`empty`) instead of making a report of the keyword.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Final

DEFAULT_PREFIXES: Final = ("LAPOR", "ADUAN", "PENGADUAN", "KELUHAN", "ASPIRASI", "SP4N")
DEFAULT_STATUS_KEYWORDS: Final = ("STATUS", "CEK", "CEK STATUS", "CEKSTATUS")
DEFAULT_TRACKING_PATTERN: Final = r"LPR\d{7}"

# Template part names, in Indonesian or as the draft's own field names.
TEMPLATE_FIELDS: Final = {
    "nama": "name",
    "name": "name",
    "alamat": "address",
    "address": "address",
    "isi": "body",
    "pesan": "body",
    "body": "body",
    "laporan": "body",
    "judul": "title",
    "title": "title",
    "lokasi": "location_text",
    "location": "location_text",
    "location_text": "location_text",
    "nik": "identity_number",
    "identity_number": "identity_number",
    "email": "email",
    "kategori": "category",
    "category": "category",
}
TEMPLATE_SEPARATORS: Final = "#*|;/"


@dataclass(frozen=True)
class Template:
    """A keyword and the report fields its separated parts fill (`ADUAN#nama#alamat#isi`)."""

    keyword: str
    separator: str
    fields: tuple[str, ...]

    @classmethod
    def parse(cls, spec: str) -> Template:
        """Read a template spec; raise ValueError naming what is wrong."""
        spec = spec.strip()
        sep = next((ch for ch in spec if ch in TEMPLATE_SEPARATORS), None)
        if sep is None:
            raise ValueError(f"template {spec!r} needs a separator, one of {TEMPLATE_SEPARATORS}")
        keyword, *names = [part.strip() for part in spec.split(sep)]
        if not keyword or not names:
            raise ValueError(f"template {spec!r} must be KEYWORD{sep}field{sep}field...")
        unknown = [n for n in names if n.lower() not in TEMPLATE_FIELDS]
        if unknown:
            raise ValueError(
                f"template {spec!r}: unknown field(s) {', '.join(unknown)}; use "
                + ", ".join(sorted(TEMPLATE_FIELDS))
            )
        fields = tuple(TEMPLATE_FIELDS[n.lower()] for n in names)
        if len(set(fields)) != len(fields):
            raise ValueError(f"template {spec!r} names a field twice")
        return cls(keyword.upper(), sep, fields)


@dataclass(frozen=True)
class Grammar:
    """One channel's SMS rules (from its YAML entry)."""

    prefixes: Sequence[str] = DEFAULT_PREFIXES
    status_keywords: Sequence[str] = DEFAULT_STATUS_KEYWORDS
    tracking_pattern: str = DEFAULT_TRACKING_PATTERN
    templates: Sequence[Template] = ()

    @cached_property
    def _tracking(self) -> re.Pattern[str]:
        return re.compile(self.tracking_pattern, re.IGNORECASE)

    @cached_property
    def _status(self) -> re.Pattern[str]:
        words = sorted(
            (
                re.escape(k.strip()).replace(r"\ ", r"\s+")
                for k in self.status_keywords
                if k.strip()
            ),
            key=len,
            reverse=True,
        )
        return re.compile(
            rf"^(?:{'|'.join(words)})\b[\s:#.,-]*(?P<id>{self.tracking_pattern})"
            r"[\s.!?]*$",
            re.IGNORECASE,
        )

    @cached_property
    def _prefix(self) -> re.Pattern[str]:
        words = sorted(
            (re.escape(p.strip()) for p in self.prefixes if p.strip()), key=len, reverse=True
        )
        return re.compile(rf"^(?:{'|'.join(words)})(?:[\s:#.,-]+|$)", re.IGNORECASE)

    def parse(self, text: str) -> ParsedSms:
        """Read one (reassembled) SMS text."""
        stripped = text.strip()
        status = self._status.match(stripped) if self.status_keywords else None
        if status:
            return ParsedSms(body=stripped, status_query=status.group("id").upper())
        for template in self.templates:
            parsed = self._template(template, stripped)
            if parsed is not None:
                return parsed
        rest, keyword = stripped, None
        prefix = self._prefix.match(stripped) if self.prefixes else None
        if prefix:
            keyword = prefix.group(0).strip(" :#.,-").upper()
            rest = stripped[prefix.end() :].strip()
            if not _has_content(rest):
                return ParsedSms(body=stripped, keyword=keyword, empty=True)
        elif not _has_content(stripped):
            return ParsedSms(body=stripped, empty=True)
        tracking = self._tracking.match(rest)
        if tracking:
            after = rest[tracking.end() :]
            if not after or not after[0].isalnum():
                tracking_id = tracking.group(0).upper()
                remainder = after.strip(" \t\r\n:#.,-")
                if not remainder:
                    return ParsedSms(body=stripped, status_query=tracking_id, keyword=keyword)
                return ParsedSms(body=remainder, in_reply_to=tracking_id, keyword=keyword)
        return ParsedSms(body=rest, keyword=keyword)

    def is_empty(self, text: str) -> bool:
        """Whether the SMS says nothing: blank, punctuation only, or only a prefix word."""
        return self.parse(text).empty

    def _template(self, template: Template, text: str) -> ParsedSms | None:
        head = template.keyword + template.separator
        if not text.upper().startswith(head):
            return None
        pieces = text[len(head) :].split(template.separator, len(template.fields) - 1)
        values = {
            name: piece.strip()
            for name, piece in zip(template.fields, pieces, strict=False)
            if piece.strip()
        }
        body = values.pop("body", None)
        # Without an `isi` part the whole message is the complaint: nothing is lost.
        empty = not values and not body and not _has_content(text[len(head) :])
        return ParsedSms(body=body or text, fields=values, keyword=template.keyword, empty=empty)


@dataclass(frozen=True)
class ParsedSms:
    """What the grammar found: the complaint text and the fields it filled."""

    body: str
    fields: dict[str, str] = field(default_factory=dict)
    status_query: str | None = None
    in_reply_to: str | None = None
    keyword: str | None = None
    empty: bool = False  # nothing to report: hold it (the body keeps what was sent)


def _has_content(text: str) -> bool:
    """Whether `text` has a letter or digit (an emoji or "?" alone is not a complaint)."""
    return any(ch.isalnum() for ch in text)
