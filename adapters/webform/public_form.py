"""`public_form`: the gateway's own citizen complaint form (`/lapor`), for a pemda without one.

The page lives in the gateway's web layer; this adapter only turns one submission into a
message. Its key is the form's one-time nonce, so a double submit is one report, and only
whoever holds the form (nobody else knows the nonce) can ever see its answer again.
"""

from __future__ import annotations

import builtins
import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from adapters.base import Adapter, ChannelOptions, Mode
from vocabulary.drafts import AttachmentData, MessageDraft, RawMessage
from vocabulary.errors import PayloadInvalid

MAX_BODY_CHARS = 20000


class PublicFormOptions(ChannelOptions):
    """YAML fields of a `public_form` channel."""

    type: Literal["public_form"] = "public_form"


@dataclass(frozen=True)
class CitizenSubmission:
    """What a citizen filled in on `/lapor`."""

    nonce: str
    received_at: dt.datetime
    body: str
    kind: str | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    location: str | None = None
    anonymous: bool = False
    confidential: bool = False
    attachments: tuple[AttachmentData, ...] = ()


class PublicFormAdapter(Adapter[Any]):
    """Submissions of the gateway's own `/lapor` page."""

    type: ClassVar[str] = "public_form"
    kind: ClassVar[str] = "webform"
    modes: ClassVar[frozenset[Mode]] = frozenset({"manual"})
    Options: ClassVar[builtins.type[ChannelOptions]] = PublicFormOptions
    docs_url: ClassVar[str] = "README.md#citizen-pages"

    def message_from(self, form: CitizenSubmission) -> RawMessage:
        """One submission as a message for the intake."""
        body = (form.body or "").strip()
        if not body:
            raise PayloadInvalid("isi laporan kosong", field="body")
        if len(body) > MAX_BODY_CHARS:
            raise PayloadInvalid(f"isi laporan lebih dari {MAX_BODY_CHARS} karakter", field="body")
        if not form.nonce or len(form.nonce) > 64:
            raise PayloadInvalid("formulir tidak sah; muat ulang halaman", field="nonce")
        external_id = f"lapor:{form.nonce}"
        draft = MessageDraft(
            external_id=external_id,
            received_at=form.received_at,
            body=body,
            name=form.name or None,
            phone=form.phone or None,
            email=form.email or None,
            location_text=form.location or None,
            kind=form.kind or None,
            anonymous=form.anonymous,
            confidential=form.confidential or None,
            attachments=list(form.attachments),
        )
        raw = {
            "form": {
                "body": body,
                "kind": form.kind,
                "name": form.name,
                "phone": form.phone,
                "email": form.email,
                "location": form.location,
                "anonymous": form.anonymous,
                "confidential": form.confidential,
            },
            "attachments": [
                {"filename": a.filename, "content_type": a.content_type, "size": len(a.content)}
                for a in form.attachments
            ],
        }
        return RawMessage(external_id, form.received_at, raw, draft)
