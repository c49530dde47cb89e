"""From an adapter's MessageDraft to the canonical Report: clean, check, classify, assemble.

`normalize_draft` is pure and total: it raises only `PayloadInvalid` (a message with no text,
or letter details that do not fit), and otherwise drops what it cannot use with a note. On a
strict channel (`NormalizerSettings.strict`) a value the sender gave that cannot be used is a
`PayloadInvalid` naming the field instead: the sender is told, nothing is dropped.

Notes land on the report's timeline, which admins read and logs may echo: a note names the
field and why it was dropped, never its value (the value is kept with the raw message).
Routing sits between the two steps: the caller routes the `NormalizedMessage`, then calls
`build_report` with the result.

An anonymous report keeps its reporter fields: the gateway still needs them to answer the
citizen, and the central withholds them from the handling agency (privacy.anonymous).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from normalizer.classify import KindKeywords, as_kind
from normalizer.email_address import EmailRejected, parse_email
from normalizer.learn.kinds import LearnedKinds, decide_kind
from normalizer.phone import to_e164
from normalizer.report import (
    Attachment,
    ChannelRef,
    LetterInfo,
    Location,
    Privacy,
    Report,
    Reporter,
    Routing,
)
from normalizer.text import (
    clean_line,
    clean_text,
    clip,
    derive_title,
    html_to_line,
    html_to_text,
    looks_like_html,
)
from vocabulary.drafts import MessageDraft
from vocabulary.errors import PayloadInvalid
from vocabulary.kinds import Kind

MAX_TITLE = 150
MAX_BODY = 20000
_NIK = re.compile(r"[0-9]{16}")
_NIK_SEPARATORS = re.compile(r"[\s.\-]+")


@dataclass(frozen=True)
class NormalizerSettings:
    """How one channel's messages are normalised (from the config's normalizer section)."""

    region: str = "ID"
    kinds: KindKeywords = field(default_factory=KindKeywords)
    default_kind: str | None = None  # the channel's configured kind; beats keywords
    strict: bool = False  # refuse what would be dropped with a note (webform `strict: true`)
    learned_kinds: LearnedKinds | None = None  # the kind model backing up the keywords


@dataclass
class NormalizedMessage:
    """A message's cleaned fields, ready for routing and then `build_report`."""

    title: str
    body: str
    kind: Kind
    category: str | None
    reporter: Reporter
    privacy: Privacy
    location: Location | None
    incident_date: dt.date | None
    letter: LetterInfo | None
    in_reply_to: str | None
    notes: list[str] = field(default_factory=list)  # what was dropped or changed, and why
    # The kind the sender or the channel gave (a later kind decision keeps it, see
    # normalizer.learn.kinds); None when keywords or a model decide.
    given_kind: Kind | None = None


def _line(value: str | None) -> str | None:
    """Clean a value to one line; None when nothing is left."""
    return (clean_line(value) or None) if value is not None else None


def _text_line(value: str | None) -> str | None:
    """A one-line text field (title, name, address...): HTML reduced to text like the body."""
    if value is not None and looks_like_html(value):
        value = html_to_line(value)
    return _line(value)


def _body(draft: MessageDraft, notes: list[str]) -> str:
    text = draft.body or ""
    if draft.body_content_type.lower().startswith("text/html") or looks_like_html(text):
        text = html_to_text(text)
    body = clean_text(text)
    if not body:
        raise PayloadInvalid("pesan kosong", field="body")
    if len(body) > MAX_BODY:
        notes.append(f"isi dipotong dari {len(body)} menjadi {MAX_BODY} karakter")
        body = clip(body, MAX_BODY)
    return body


def _drop(field: str, reason: str, settings: NormalizerSettings, notes: list[str]) -> None:
    """A value the sender gave cannot be used: a note, or PayloadInvalid on a strict channel.

    `reason` is Bahasa Indonesia: the note is read on the report's timeline and the refusal
    by the sender and the admin (issue 11 item 8).
    """
    if settings.strict:
        raise PayloadInvalid(f"isian `{field}` tidak dapat dipakai: {reason}", field=field)
    notes.append(f"isian `{field}` dibuang: {reason}")


def _email(raw: str | None, settings: NormalizerSettings, notes: list[str]) -> str | None:
    if raw is None or not raw.strip():
        return None
    try:
        return parse_email(raw)
    except EmailRejected as exc:
        _drop("email", exc.refusal, settings, notes)
        return None


def _nik(raw: str | None, settings: NormalizerSettings, notes: list[str]) -> str | None:
    value = _line(raw)
    if value is None:
        return None
    digits = _NIK_SEPARATORS.sub("", value)
    if not _NIK.fullmatch(digits):
        _drop("identity_number", "NIK harus 16 angka", settings, notes)
        return None
    return digits


def _reporter(draft: MessageDraft, settings: NormalizerSettings, notes: list[str]) -> Reporter:
    phone = to_e164(draft.phone, settings.region) if draft.phone else None
    if draft.phone and draft.phone.strip() and phone is None:
        _drop("phone", "bukan nomor telepon yang sah", settings, notes)
    return Reporter(
        name=_text_line(draft.name),
        phone=phone,
        email=_email(draft.email, settings, notes),
        handle=_line(draft.handle),
        address=_text_line(draft.address),
        identity_number=_nik(draft.identity_number, settings, notes),
    )


def _coordinate(
    value: Any, limit: float, name: str, settings: NormalizerSettings, notes: list[str]
) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or abs(number) > limit:
        _drop(name, f"harus angka antara -{limit:g} dan {limit:g}", settings, notes)
        return None
    return number


def _location(
    draft: MessageDraft, settings: NormalizerSettings, notes: list[str]
) -> Location | None:
    location = Location(
        text=_text_line(draft.location_text),
        lat=_coordinate(draft.lat, 90, "lat", settings, notes),
        lon=_coordinate(draft.lon, 180, "lon", settings, notes),
        region_code=_line(draft.region_code),
    )
    return location if location.model_dump(exclude_none=True) else None


def _letter(raw: dict[str, Any] | None) -> LetterInfo | None:
    if raw is None:
        return None
    cleaned = {k: (_line(v) if isinstance(v, str) else v) for k, v in raw.items()}
    try:
        return LetterInfo.model_validate(cleaned)
    except ValidationError as exc:
        fields = ", ".join(
            dict.fromkeys(f"`{'.'.join(str(p) for p in e['loc'])}`" for e in exc.errors())
        )
        raise PayloadInvalid(f"rincian surat tidak sah (isian {fields})", field="letter") from None


def _given_kind(draft: MessageDraft, settings: NormalizerSettings, notes: list[str]) -> Kind | None:
    explicit = as_kind(draft.kind)
    if draft.kind is not None and explicit is None:
        kinds = ", ".join(f"`{k}`" for k in Kind)
        _drop("kind", f"harus salah satu dari {kinds}", settings, notes)
    return explicit or as_kind(settings.default_kind)


def normalize_draft(draft: MessageDraft, settings: NormalizerSettings) -> NormalizedMessage:
    """Clean and check one draft; raise PayloadInvalid only when it carries no usable message."""
    notes: list[str] = list(draft.notes)
    body = _body(draft, notes)
    given_title = _text_line(draft.title)
    title = clip(given_title, MAX_TITLE) if given_title else derive_title(body, MAX_TITLE)
    given = _given_kind(draft, settings, notes)
    decision = decide_kind(
        f"{title}\n{body}", settings.kinds, explicit=given, learned=settings.learned_kinds
    )
    if decision.note:
        notes.append(decision.note)
    kind = decision.kind
    incident_date = draft.incident_date
    if isinstance(incident_date, dt.datetime):
        incident_date = incident_date.date()
    return NormalizedMessage(
        title=title,
        body=body,
        kind=kind,
        category=_text_line(draft.category),
        reporter=_reporter(draft, settings, notes),
        privacy=Privacy(
            anonymous=bool(draft.anonymous),
            confidential=bool(draft.confidential) or decision.whistleblowing_seen,
        ),
        location=_location(draft, settings, notes),
        incident_date=incident_date,
        letter=_letter(draft.letter),
        in_reply_to=_line(draft.in_reply_to),
        notes=notes,
        given_kind=given,
    )


def build_report(
    msg: NormalizedMessage,
    *,
    report_id: str,
    channel: ChannelRef,
    external_id: str,
    received_at: dt.datetime,
    routing: Routing,
    attachments: Sequence[Attachment] = (),
) -> Report:
    """Assemble the canonical Report for a normalised, routed message."""
    return Report(
        id=report_id,
        channel=channel,
        external_id=external_id,
        received_at=received_at,
        kind=msg.kind,
        title=msg.title,
        body=msg.body,
        category=msg.category,
        reporter=msg.reporter.model_copy(),
        privacy=msg.privacy.model_copy(),
        location=msg.location.model_copy() if msg.location else None,
        incident_date=msg.incident_date,
        attachments=list(attachments),
        in_reply_to=msg.in_reply_to,
        letter=msg.letter.model_copy() if msg.letter else None,
        routing=routing,
    )
