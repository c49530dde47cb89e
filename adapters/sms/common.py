"""What the three SMS adapters share: grammar options, the draft built from one SMS, replies.

Every SMS channel reads the same grammar (`adapters.sms.grammar`), puts the sender in E.164
into the draft and keeps the address as received for answering, and answers with text made
GSM-7 where that loses nothing, cut to a configured number of parts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import ClassVar, TypeVar, cast

from pydantic import BaseModel, Field, field_validator

from adapters.base import Adapter, ChannelOptions
from adapters.sms.grammar import (
    DEFAULT_PREFIXES,
    DEFAULT_STATUS_KEYWORDS,
    DEFAULT_TRACKING_PATTERN,
    Grammar,
    Template,
)
from adapters.sms.gsm import fit_parts, prefer_gsm7
from normalizer.phone import normalize_address, to_e164
from vocabulary.drafts import MessageDraft

EMPTY_SMS_BODY = "[SMS kosong]"


class SmsFields(BaseModel):
    """YAML fields every SMS channel has (mixed into each adapter's Options)."""

    prefixes: list[str] = Field(default_factory=lambda: list(DEFAULT_PREFIXES))
    status_keywords: list[str] = Field(default_factory=lambda: list(DEFAULT_STATUS_KEYWORDS))
    tracking_id_pattern: str = DEFAULT_TRACKING_PATTERN
    templates: list[str] = Field(default_factory=list)
    region: str = Field(default="ID", pattern=r"^[A-Z]{2}$")
    max_reply_parts: int = Field(default=3, ge=1, le=10)

    @field_validator("tracking_id_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return value

    @field_validator("templates")
    @classmethod
    def _templates(cls, value: list[str]) -> list[str]:
        for spec in value:
            Template.parse(spec)
        return value

    def grammar(self) -> Grammar:
        """The channel's SMS grammar."""
        return Grammar(
            prefixes=tuple(self.prefixes),
            status_keywords=tuple(self.status_keywords),
            tracking_pattern=self.tracking_id_pattern,
            templates=tuple(Template.parse(t) for t in self.templates),
        )


def sms_draft(
    *,
    external_id: str,
    received_at: dt.datetime,
    sender: str,
    text: str,
    grammar: Grammar,
    region: str = "ID",
    reply_extra: Mapping[str, str] | None = None,
) -> MessageDraft:
    """The draft of one complete SMS: grammar applied, sender in E.164, reply coordinates.

    `reply_to["phone"]` is the sender as received (`whatsapp:+62…`, `0812…`, `1708`): the
    provider answers to that address; `reply_to["e164"]` is there when it is a phone number.
    """
    parsed = grammar.parse(text)
    e164 = to_e164(sender, region)
    draft = MessageDraft(
        external_id=external_id,
        received_at=received_at,
        # A blank SMS is held; if an admin releases it, the report says it was empty.
        body=parsed.body if parsed.body.strip() else EMPTY_SMS_BODY,
        phone=e164,
        status_query=parsed.status_query,
        in_reply_to=parsed.in_reply_to,
    )
    for name, value in parsed.fields.items():
        setattr(draft, name, value)
    if e164 is None:
        draft.notes.append(
            "pengirim bukan nomor telepon (kode pendek atau nama): pelapor tanpa nomor telepon"
        )
    if parsed.keyword:
        draft.notes.append(f"kata kunci SMS {parsed.keyword}")
    draft.reply_to = {"phone": sender.strip(), **(reply_extra or {})}
    if e164:
        draft.reply_to["e164"] = e164
    return draft


def sms_recipient_key(reply_to: Mapping[str, str], region: str = "ID") -> str | None:
    """The number a reply goes to, in E.164 when it is one (the per-number rate-limit key)."""
    if reply_to.get("e164"):
        return reply_to["e164"]
    phone = reply_to.get("phone")
    return normalize_address(phone, region) if phone else None


def sms_reply_text(text: str, max_parts: int) -> str:
    """The text to send: GSM-7 look-alikes where that loses nothing, cut to `max_parts`."""
    return fit_parts(prefer_gsm7(text.strip()), max_parts)


SmsOptionsT = TypeVar("SmsOptionsT", bound=ChannelOptions)


class SmsAdapter(Adapter[SmsOptionsT]):
    """What the SMS adapters share: their grammar, the recipient key, when they can answer."""

    kind: ClassVar[str] = "sms"

    def __init__(self, options: ChannelOptions, *, public_url: str = "") -> None:
        super().__init__(options, public_url=public_url)
        self.sms = cast(SmsFields, options)
        self.grammar = self.sms.grammar()

    def recipient_key(self, reply_to: Mapping[str, str]) -> str | None:
        """The citizen's number in E.164 (or the short code as it came)."""
        return sms_recipient_key(reply_to, self.sms.region)

    def can_reply(self, reply_to: Mapping[str, str]) -> bool:
        """Whenever the SMS had a sender."""
        return bool(reply_to.get("phone"))
