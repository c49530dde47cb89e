"""A held-back message's draft kept as JSON and read back on release: nothing is lost.

The release of a quarantined message (tests/gateway/test_intake_paths.py) makes its report
from this record, so every field a channel can fill must come back as it went in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from gateway.intake.records import draft_from_record, draft_to_record
from normalizer.report import Attachment
from store.files import AttachmentStore
from vocabulary.drafts import AttachmentData, MessageDraft

PHOTO = b"\x89PNG\r\n\x1a\n jalan berlubang"
LETTER = b"%PDF-1.4 surat pengaduan"


def full_draft() -> MessageDraft:
    """A draft with every field set to something other than its default."""
    return MessageDraft(
        external_id="sms-77",
        received_at=dt.datetime(2026, 11, 30, 1, 2, 3, tzinfo=dt.UTC),
        body="<p>Jalan rusak</p>",
        body_content_type="text/html",
        title="Jalan rusak",
        name="Budi",
        phone="+6281200000001",
        email="budi@example.org",
        handle="@budi",
        address="Jl. Merdeka 1",
        identity_number="3201010101010001",
        location_text="depan SD Negeri 3",
        lat=-6.2,
        lon=106.8,
        region_code="3201",
        kind="pengaduan",
        category="jalan",
        anonymous=False,
        confidential=True,
        incident_date=dt.date(2026, 11, 28),
        attachments=[
            AttachmentData("foto.png", "image/png", PHOTO),
            AttachmentData("surat.pdf", "application/pdf", LETTER),
        ],
        letter={"number": "005/RT02", "date": "2026-11-20"},
        in_reply_to="LPR1234567",
        thread_refs=["<a@example.org>", "<b@example.org>"],
        status_query="LPR7654321",
        notes=["lampiran ketiga dilewati: terlalu besar"],
    )


def stored(store: AttachmentStore, draft: MessageDraft) -> list[Attachment]:
    """The draft's files put in the store, as the intake does before keeping the record."""
    return [
        Attachment(
            filename=a.filename,
            content_type=a.content_type,
            size=len(a.content),
            sha256=store.put(a.content),
        )
        for a in draft.attachments
    ]


def test_every_field_comes_back(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    draft = full_draft()
    record = draft_to_record(draft, stored(store, draft))
    kept = json.loads(json.dumps(record))  # what the JSON column gives back
    assert kept["received_at"] == "2026-11-30T01:02:03+00:00"
    assert kept["incident_date"] == "2026-11-28"
    assert kept["attachments"] == [
        {
            "filename": "foto.png",
            "content_type": "image/png",
            "size": len(PHOTO),
            "sha256": hashlib.sha256(PHOTO).hexdigest(),
            "url": None,
        },
        {
            "filename": "surat.pdf",
            "content_type": "application/pdf",
            "size": len(LETTER),
            "sha256": hashlib.sha256(LETTER).hexdigest(),
            "url": None,
        },
    ]
    assert draft_from_record(kept, store) == draft


def test_a_plain_draft_comes_back_with_its_defaults(tmp_path: Path) -> None:
    draft = MessageDraft(
        external_id="w-1",
        received_at=dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=7))),
        body="Lampu jalan mati",
    )
    record = json.loads(json.dumps(draft_to_record(draft, [])))
    assert record["incident_date"] is None and record["attachments"] == []
    back = draft_from_record(record, AttachmentStore(tmp_path))
    assert back == draft and back.received_at.utcoffset() == dt.timedelta(hours=7)


def test_keys_of_an_older_gateway_are_ignored(tmp_path: Path) -> None:
    """A row kept by a version whose drafts had a field since removed still releases."""
    record = json.loads(json.dumps(draft_to_record(full_draft(), [])))
    record["fax"] = "021-555"
    back = draft_from_record(record, AttachmentStore(tmp_path))
    assert back == dataclasses.replace(full_draft(), attachments=[])


def test_a_missing_file_is_an_error_not_an_empty_attachment(tmp_path: Path) -> None:
    draft = full_draft()
    record = draft_to_record(draft, stored(AttachmentStore(tmp_path / "a"), draft))
    with pytest.raises(FileNotFoundError):
        draft_from_record(record, AttachmentStore(tmp_path / "b"))
