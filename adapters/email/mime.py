"""One RFC 822 message (bytes) -> `RawMessage` with its draft, or a hold with its reason.

Pure and total: no I/O, no clock, and any bytes at all give a result (a message nobody can
read is held as `unreadable`, raw bytes kept). The stdlib `email` package with
`policy.default` reads the structure; this module decides what the citizen wrote:

- the body is the text/plain part (HTML turned into readable text when that is all there
  is), decoded with the declared charset, or a guessed one with a note when the declared one
  is wrong; quoted replies and signatures are stripped (`quotes.py`);
- real attachments and inline images become `AttachmentData`, unless too large or of a
  forbidden type (then skipped with a note; the report still goes);
- subject -> title, From -> reporter, In-Reply-To/References -> `thread_refs`, a tracking id
  in the subject -> `in_reply_to`; auto-replies, bounces and list mail are held (`loops.py`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import mimetypes
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from email import policy
from email._header_value_parser import get_address_list
from email.errors import MessageError
from email.headerregistry import AddressHeader
from email.message import EmailMessage, Message
from email.parser import BytesParser
from pathlib import PurePosixPath
from typing import Any, Final

from adapters.email.charsets import decode_bytes, decode_words, fix_surrogates
from adapters.email.loops import hold_reason
from adapters.email.quotes import strip_quotes
from normalizer.text import clean_text, html_to_text, looks_like_html
from vocabulary.drafts import AttachmentData, MessageDraft, RawMessage
from vocabulary.holds import HoldReason

DEFAULT_FORBIDDEN: Final = (
    ".exe",
    ".bat",
    ".cmd",
    ".com",
    ".scr",
    ".pif",
    ".js",
    ".jse",
    ".vbs",
    ".vbe",
    ".wsf",
    ".wsh",
    ".msi",
    ".msp",
    ".jar",
    ".ps1",
    ".sh",
    ".dll",
    ".lnk",
    ".hta",
    ".cpl",
    ".reg",
    "application/x-msdownload",
    "application/x-dosexec",
    "application/x-msdos-program",
    "application/x-ms-installer",
    "application/x-sh",
    "application/javascript",
    "application/x-javascript",
    "application/java-archive",
    "application/hta",
)
_MSGID = re.compile(r"<[^<>\s]{1,500}>")
_REPLY_PREFIX = re.compile(
    r"^\s*((re|fwd?|fw|aw|tr|wg|balas|bls|terusan|trs)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE
)
_FORWARD_PREFIX = re.compile(r"^\s*(fwd?|fw|tr|wg|terusan|trs)\s*:", re.IGNORECASE)
_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")
_MAX_DEPTH = 30
_MAX_REFS = 50
_MAX_ID = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FOLDING = re.compile(r"\r?\n(?=[ \t])")


@dataclass(frozen=True)
class MimeLimits:
    """What a channel accepts as attachments and how it spots tracking ids."""

    max_attachment_bytes: int = 10 * 1024 * 1024
    allowed_types: tuple[str, ...] | None = None  # "image/*", "application/pdf"; None: all
    forbidden_types: tuple[str, ...] = DEFAULT_FORBIDDEN  # types or ".ext"
    tracking_pattern: str = r"LPR\d{7}"


@dataclass
class _Collected:
    texts: list[tuple[str, str]] = field(default_factory=list)  # (content type, text)
    attachments: list[AttachmentData] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seen_attachments: int = 0


def content_hash(raw: bytes) -> str:
    """The first 16 hex digits of the raw message's SHA-256: same bytes, same value."""
    return hashlib.sha256(raw).hexdigest()[:16]


def external_id_for(message_id: str | None, raw: bytes) -> str:
    """The message's key in the inbound log: stable across folders and UIDVALIDITY changes.

    Message-ID plus a hash of the raw bytes: the same message fetched twice (a rescan, a
    crash before the Seen flag) has the same key, while two different messages that share
    a Message-ID (broken clients reuse them) do not collapse into one report.
    """
    digest = content_hash(raw)
    if not message_id:
        return f"sha256:{digest}"
    if len(message_id) > _MAX_ID:
        message_id = (
            "mid-sha256:" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()[:32]
        )
    return f"{message_id}#{digest}"


class _Headers:
    """Header access that never raises: the parsed value, or the raw one decoded by hand."""

    def __init__(self, message: Message) -> None:
        self.message = message
        self.cache: dict[str, str | None] = {}

    def get(self, name: str) -> str | None:
        key = name.lower()
        if key not in self.cache:
            self.cache[key] = self._read(key)
        return self.cache[key]

    def _read(self, name: str) -> str | None:
        try:
            value = self.message.get(name)
            text = None if value is None else str(value)
        except Exception:  # noqa: BLE001 - header parsers raise many kinds on odd input
            text = None
            for key, raw in self.message.raw_items():
                if key.lower() == name.lower():
                    text = decode_words(str(raw))
                    break
        if text is None:
            return None
        return fix_surrogates(text).replace("\r", " ").replace("\n", " ").strip()


def _part_text(part: Message, notes: list[str]) -> str:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    if part.defects:
        notes.append("bagian MIME yang rusak dibaca sebisanya")
    text, note = decode_bytes(data, part.get_content_charset())
    if note:
        notes.append(note)
    return text


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except (MessageError, LookupError, UnicodeError, ValueError):
        return None
    if not name:
        return None
    name = PurePosixPath(fix_surrogates(name).replace("\\", "/")).name
    name = _UNSAFE_FILENAME.sub("_", name).strip(" .")
    return name[:200] or None


def _type_matches(content_type: str, pattern: str) -> bool:
    pattern = pattern.lower()
    if pattern.endswith("/*"):
        return content_type.startswith(pattern[:-1])
    return content_type == pattern


def _refusal(filename: str, content_type: str, size: int, limits: MimeLimits) -> str | None:
    suffix = PurePosixPath(filename.lower()).suffix
    for rule in (r.lower() for r in limits.forbidden_types):
        if (rule.startswith(".") and suffix == rule) or _type_matches(content_type, rule):
            return "jenis berkas tidak diizinkan"
    if limits.allowed_types is not None and not any(
        _type_matches(content_type, p) for p in limits.allowed_types
    ):
        return "jenis berkas tidak ada di `allowed_types`"
    if size > limits.max_attachment_bytes:
        return f"lebih dari {limits.max_attachment_bytes} bita"
    return None


def _add_attachment(
    part: Message,
    out: _Collected,
    limits: MimeLimits,
    content: bytes | None = None,
    filename: str | None = None,
) -> None:
    out.seen_attachments += 1
    number = out.seen_attachments
    content_type = part.get_content_type()
    if content is None:
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
    name = (
        filename
        or _filename(part)
        or f"lampiran-{number}{mimetypes.guess_extension(content_type) or ''}"
    )
    refusal = _refusal(name, content_type, len(content), limits)
    if refusal:
        suffix = PurePosixPath(name.lower()).suffix[:10] or "tanpa ekstensi"
        out.notes.append(
            f"lampiran {number} ({content_type}, {suffix}, {len(content)} bita) dilewati: {refusal}"
        )
        return
    out.attachments.append(AttachmentData(name, content_type, content))


def _best_alternative(parts: Sequence[Message]) -> Message | None:
    """The part of a multipart/alternative a person reads: plain text, else HTML, else any."""

    def has_text(part: Message, subtype: str) -> bool:
        if part.is_multipart():
            return any(has_text(p, subtype) for p in part.get_payload() if isinstance(p, Message))
        payload = part.get_payload(decode=True)
        return (
            part.get_content_type() == f"text/{subtype}"
            and isinstance(payload, bytes)
            and bool(payload.strip())
        )

    for subtype in ("plain", "html"):
        for part in parts:
            if has_text(part, subtype):
                return part
    return parts[-1] if parts else None


def _collect(part: Message, out: _Collected, limits: MimeLimits, depth: int = 0) -> None:
    if depth > _MAX_DEPTH:
        out.notes.append(
            "struktur MIME bersarang terlalu dalam; bagian dalamnya hanya ada di pesan mentah"
        )
        return
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        _forwarded_attachment(part, out, limits)
        return
    if part.is_multipart():
        children = [p for p in part.get_payload() if isinstance(p, Message)]
        if part.get_content_maintype() != "multipart":
            return  # message/delivery-status and the like: kept in the raw only
        if content_type == "multipart/alternative":
            best = _best_alternative(children)
            if best is not None:
                _collect(best, out, limits, depth + 1)
            return
        for child in children:
            _collect(child, out, limits, depth + 1)
        return
    disposition = part.get_content_disposition()
    if (
        content_type in ("text/plain", "text/html")
        and disposition != "attachment"
        and not _filename(part)
    ):
        out.texts.append((content_type, _part_text(part, out.notes)))
        return
    if content_type.startswith("multipart/"):
        return  # a multipart whose boundary is missing: nothing to take apart
    _add_attachment(part, out, limits)


def _forwarded_attachment(part: Message, out: _Collected, limits: MimeLimits) -> None:
    inner = part.get_payload(0) if part.is_multipart() else None
    if not isinstance(inner, Message):
        _add_attachment(part, out, limits, filename="pesan-terlampir.eml")
        return
    try:
        content = inner.as_bytes(policy=policy.compat32)
    except (MessageError, LookupError, UnicodeError, ValueError, TypeError):
        out.notes.append("pesan terlampir tidak dapat disusun ulang; tersimpan di pesan mentah")
        return
    _add_attachment(part, out, limits, content=content, filename="pesan-terlampir.eml")


def _body_text(texts: list[tuple[str, str]]) -> tuple[str, str]:
    """The body as plain text and whether it came from HTML."""
    pieces = []
    source = "text/plain"
    for content_type, text in texts:
        plain = text
        if content_type == "text/html":
            plain = html_to_text(text)
            source = "text/html"
        pieces.append(plain.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n\n".join(p for p in pieces if p.strip()), source


def _message_ids(value: str | None) -> list[str]:
    if not value:
        return []
    return _MSGID.findall(value)


def _clean_name(value: str | None) -> str | None:
    """A display name as one line: control characters (a smuggled CR/LF) become spaces."""
    if not value:
        return None
    return " ".join(_CONTROL.sub(" ", fix_surrogates(value)).split()) or None


def _usable(local: str | None, domain: str | None) -> str | None:
    """`local@domain` when both parts are there and hold no space or control character."""
    if not local or not domain:
        return None
    address = f"{local}@{domain}"
    if _CONTROL.search(address) or any(c.isspace() for c in address):
        return None
    return fix_surrogates(address)


def _raw_mailboxes(message: Message, name: str) -> list[tuple[str | None, str | None, str | None]]:
    """(display name, local part, domain) of each mailbox in the raw value of a header."""
    raw = next((str(v) for k, v in message.raw_items() if k.lower() == name), None)
    if raw is None:
        return []
    try:
        parsed, _ = get_address_list(_FOLDING.sub(" ", raw))
    except Exception:  # noqa: BLE001 - nothing readable: no address, the message goes on
        return []
    return [(m.display_name, m.local_part, m.domain) for m in parsed.all_mailboxes]


def _mailbox(message: Message, name: str) -> tuple[str | None, str | None]:
    """The first display name and address of an address header, from address objects.

    Never from the decoded text, where an encoded word can carry "CR LF Bcc: someone@else"
    that a second parse would take for an address.

    The header registry (policy.default) refuses a display name holding CR or LF; then the
    same RFC 5322 parser is run on the raw, still encoded value.
    """
    pairs: list[tuple[str | None, str | None, str | None]] | None = None
    try:
        header: object = message.get(name)
        if header is None:
            return None, None
        if isinstance(header, AddressHeader):
            pairs = [(a.display_name, a.username, a.domain) for a in header.addresses]
    except Exception:  # noqa: BLE001 - header parsers raise many kinds on odd input
        pairs = None
    if pairs is None:
        pairs = _raw_mailboxes(message, name)
    first_name = _clean_name(pairs[0][0]) if pairs else None
    for display, local, domain in pairs:
        address = _usable(local, domain)
        if address:
            return _clean_name(display), address
    return first_name, None


def parse_email(
    raw: bytes,
    received_at: dt.datetime,
    limits: MimeLimits,
    extra_raw: dict[str, Any] | None = None,
) -> RawMessage:
    """Read one message; never raises: the unreadable is held with its raw bytes."""
    try:
        return _parse(raw, received_at, limits, extra_raw or {})
    except Exception as exc:  # noqa: BLE001 - a citizen's message is never lost to a parser bug
        external_id = external_id_for(None, raw)
        draft = MessageDraft(
            external_id=external_id,
            received_at=received_at,
            body="",
            notes=[f"message could not be read ({type(exc).__name__}); the raw message is kept"],
        )
        return RawMessage(
            external_id,
            received_at,
            _raw_record(raw, None, extra_raw or {}),
            draft,
            hold=HoldReason.UNREADABLE,
        )


def _raw_record(raw: bytes, message_id: str | None, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        **extra,
        "message_id": message_id,
        "size": len(raw),
        "rfc822_base64": base64.b64encode(raw).decode("ascii"),
    }


def _parse(
    raw: bytes, received_at: dt.datetime, limits: MimeLimits, extra_raw: dict[str, Any]
) -> RawMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    headers = _Headers(message)
    ids = _message_ids(headers.get("message-id"))
    message_id = ids[0] if ids else None
    external_id = external_id_for(message_id, raw)
    subject = headers.get("subject") or ""
    name, address = _mailbox(message, "from")
    _, reply_address = _mailbox(message, "reply-to")

    out = _Collected()
    _collect(message, out, limits)
    text, source = _body_text(out.texts)
    stripped = strip_quotes(text, forwarded=bool(_FORWARD_PREFIX.match(subject)))
    body = clean_text(stripped.text)
    if looks_like_html(body):  # HTML sent as text/plain: read it as the normalizer would
        body = clean_text(html_to_text(body))
    notes = [*dict.fromkeys(out.notes), *stripped.notes]
    if source == "text/html":
        notes.append("isi HTML diubah menjadi teks")

    title = clean_text(_REPLY_PREFIX.sub("", subject)).replace("\n", " ") or None
    hold = hold_reason(message, headers.get, address, subject, name)
    if not body and hold is None:
        if title:
            body = title
            notes.append("pesan tanpa teks; subjeknya dipakai sebagai teks")
        else:
            hold = HoldReason.EMPTY

    refs = list(
        dict.fromkeys(
            [*_message_ids(headers.get("in-reply-to")), *_message_ids(headers.get("references"))]
        )
    )
    tracking = re.search(limits.tracking_pattern, subject)
    draft = MessageDraft(
        external_id=external_id,
        received_at=received_at,
        body=body,
        title=title,
        name=name,
        email=address,
        attachments=out.attachments,
        notes=notes,
        thread_refs=refs[-_MAX_REFS:],
        in_reply_to=tracking.group(0) if tracking else None,
    )
    reply_to = reply_address or address
    if reply_to:
        # "email" is where answers go (Reply-To when given); "from" is who wrote, the only
        # thing a follow-up's "same sender" check may trust (a Reply-To names anyone).
        draft.reply_to = {
            "email": reply_to,
            "from": address or "",
            "message_id": message_id or "",
            "subject": subject[:300],
        }
    return RawMessage(
        external_id, received_at, _raw_record(raw, message_id, extra_raw), draft, hold=hold
    )
