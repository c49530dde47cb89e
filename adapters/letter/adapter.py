"""Conventional channels typed in by an operator: paper letter, phone call, walk-in, fax.

Each becomes a report like any other message; the channel's type (`letter`, `phone`,
`walk_in`, `fax`) records the source. Entry comes from the CLI (`sp4n-gateway letter add`)
or the admin console's entry forms; there is no webhook and no electronic reply path
(answers go back by post or phone, listed for the admin as manual replies).
"""

from __future__ import annotations

import builtins
import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import ClassVar, Literal

from adapters.base import Adapter, ChannelOptions, Mode
from vocabulary.drafts import AttachmentData, MessageDraft, RawMessage
from vocabulary.errors import PayloadInvalid


class LetterOptions(ChannelOptions):
    """YAML fields of a `letter` channel."""

    type: Literal["letter"] = "letter"


@dataclass(frozen=True)
class LetterEntry:
    """What an admin types from one letter."""

    body: str
    received_at: dt.datetime
    sender_name: str | None = None
    sender_organisation: str | None = None
    address: str | None = None
    phone: str | None = None
    email: str | None = None
    number: str | None = None
    date: dt.date | None = None
    title: str | None = None
    kind: str | None = None
    anonymous: bool = False
    confidential: bool = False
    entered_by: str | None = None
    # The scanned letter or fax, photos brought to the desk.
    attachments: tuple[AttachmentData, ...] = ()


class LetterAdapter(Adapter[LetterOptions]):
    """Manual entry of paper letters."""

    type: ClassVar[str] = "letter"
    kind: ClassVar[str] = "letter"
    modes: ClassVar[frozenset[Mode]] = frozenset({"manual"})
    Options: ClassVar[builtins.type[ChannelOptions]] = LetterOptions
    docs_url: ClassVar[str] = "README.md#letters-letter"
    # Letters and faxes carry a number and a date (the report's `letter` details).
    has_letter_details: ClassVar[bool] = True
    label: ClassVar[str] = "Surat"

    def external_id_for(self, entry: LetterEntry) -> str:
        """Letter number plus sender, so one letter typed twice is one report.

        Different senders may number their letters alike; the sender keeps them apart. A
        letter without a number is keyed by its content.
        """
        sender = re.sub(
            r"\s+",
            " ",
            (entry.sender_organisation or entry.sender_name or "anonim").strip().lower(),
        )
        if entry.number:
            return f"{entry.number.strip()} / {sender}"
        digest = hashlib.sha256(
            "\x00".join(
                [sender, entry.date.isoformat() if entry.date else "", entry.body.strip()]
            ).encode()
        ).hexdigest()
        return f"tanpa-nomor:{digest[:32]}"

    def message_from_entry(self, entry: LetterEntry) -> RawMessage:
        """Turn a typed-in letter into a message for the intake."""
        if not entry.body or not entry.body.strip():
            raise PayloadInvalid("isi surat kosong", field="body")
        external_id = self.external_id_for(entry)
        draft = MessageDraft(
            external_id=external_id,
            received_at=entry.received_at,
            body=entry.body,
            title=entry.title,
            name=entry.sender_name,
            phone=entry.phone,
            email=entry.email,
            address=entry.address,
            kind=entry.kind,
            anonymous=entry.anonymous,
            confidential=entry.confidential or None,
            attachments=list(entry.attachments),
            letter={
                "number": entry.number,
                "date": entry.date.isoformat() if entry.date else None,
                "sender_organisation": entry.sender_organisation,
                "entered_by": entry.entered_by,
            }
            if self.has_letter_details
            else None,
        )
        raw = {
            "entered_by": entry.entered_by,
            "source": self.type,
            "letter": {
                k: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v)
                for k, v in entry.__dict__.items()
                if k != "attachments"
            },
            "attachments": [
                {"filename": a.filename, "content_type": a.content_type, "size": len(a.content)}
                for a in entry.attachments
            ],
        }
        return RawMessage(external_id, entry.received_at, raw, draft)


class PhoneOptions(ChannelOptions):
    """YAML fields of a `phone` channel (calls to the complaint line, typed in)."""

    type: Literal["phone"] = "phone"


class WalkInOptions(ChannelOptions):
    """YAML fields of a `walk_in` channel (tatap muka: a citizen at the service desk)."""

    type: Literal["walk_in"] = "walk_in"


class FaxOptions(ChannelOptions):
    """YAML fields of a `fax` channel (faxed letters, typed in)."""

    type: Literal["fax"] = "fax"


class PhoneCallAdapter(LetterAdapter):
    """A phone call taken by an operator."""

    type: ClassVar[str] = "phone"
    Options: ClassVar[builtins.type[ChannelOptions]] = PhoneOptions
    docs_url: ClassVar[str] = "README.md#admin-console"
    has_letter_details: ClassVar[bool] = False
    label: ClassVar[str] = "Telepon"


class WalkInAdapter(LetterAdapter):
    """A citizen who came to the desk (tatap muka)."""

    type: ClassVar[str] = "walk_in"
    Options: ClassVar[builtins.type[ChannelOptions]] = WalkInOptions
    docs_url: ClassVar[str] = "README.md#admin-console"
    has_letter_details: ClassVar[bool] = False
    label: ClassVar[str] = "Tatap muka"


class FaxAdapter(LetterAdapter):
    """A fax: a letter that came down the phone line."""

    type: ClassVar[str] = "fax"
    Options: ClassVar[builtins.type[ChannelOptions]] = FaxOptions
    docs_url: ClassVar[str] = "README.md#admin-console"
    label: ClassVar[str] = "Faks"
