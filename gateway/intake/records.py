"""A draft kept as JSON with a held-back message, and read back when an admin releases it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

from normalizer.report import Attachment
from store.files import AttachmentStore
from vocabulary.drafts import AttachmentData, MessageDraft


def draft_to_record(draft: MessageDraft, attachments: Sequence[Attachment]) -> dict[str, Any]:
    """A draft as JSON (attachments by hash, already in the store) for a quarantined row."""
    record = dataclasses.asdict(dataclasses.replace(draft, attachments=[]))
    record["received_at"] = draft.received_at.isoformat()
    if draft.incident_date is not None:
        record["incident_date"] = draft.incident_date.isoformat()
    record["attachments"] = [a.model_dump(mode="json") for a in attachments]
    return record


def draft_from_record(record: dict[str, Any], store: AttachmentStore) -> MessageDraft:
    """The draft kept with a quarantined row, attachments read back from the store."""
    values = dict(record)
    values["received_at"] = dt.datetime.fromisoformat(values["received_at"])
    if values.get("incident_date"):
        values["incident_date"] = dt.date.fromisoformat(values["incident_date"])
    values["attachments"] = [
        AttachmentData(
            filename=a["filename"],
            content_type=a["content_type"],
            content=store.get(a["sha256"]),
        )
        for a in values.get("attachments") or []
    ]
    known = {f.name for f in dataclasses.fields(MessageDraft)}
    return MessageDraft(**{k: v for k, v in values.items() if k in known})
