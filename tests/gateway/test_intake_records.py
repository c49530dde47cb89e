"""What the intake keeps besides reports: held-back drafts and input it cannot read.

A quarantined message's draft is kept as JSON and its release (test_intake_paths.py) makes
the report from it, so every field a channel can fill must come back as it went in.
Unreadable input is kept, raw, with its error: a webhook's request without a key (a
corrected resend is not a repeat), a polled message under its key, so the next poll
recognises it, unless the key cannot be stored. Runs on SQLite and PostgreSQL.
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
from store.cursors import load_cursor
from store.files import AttachmentStore
from store.models import InboundMessage, utcnow
from tests.conftest import GatewayHarness
from vocabulary.drafts import AttachmentData, MessageDraft
from vocabulary.errors import PayloadInvalid

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


WIB = dt.timezone(dt.timedelta(hours=7))


def kept(harness: GatewayHarness, inbound_id: str) -> InboundMessage:
    with harness.runtime.sessions() as session:
        row = session.get(InboundMessage, inbound_id)
    assert row is not None
    return row


def test_a_polled_message_is_kept_once_with_its_key_and_cursor(
    intake_gateway: GatewayHarness,
) -> None:
    intake = intake_gateway.runtime.intake
    when = dt.datetime(2026, 11, 30, 9, 0, tzinfo=WIB)
    error = PayloadInvalid("isi pesan kosong", field="body")
    first = intake.reject("legacy", {"id": 7}, error, when, "row-7", ("legacy:cursor", "7"))
    again = intake.reject("legacy", {"id": 7}, error, when, "row-7", ("legacy:cursor", "8"))
    assert again == first  # the next poll finds the kept row, not a second one
    row = kept(intake_gateway, first)
    assert (row.channel, row.external_id, row.state) == ("legacy", "row-7", "rejected")
    assert (row.error, row.error_field, row.raw) == ("isi pesan kosong", "body", {"id": 7})
    assert row.received_at == when
    with intake_gateway.runtime.sessions() as session:
        assert load_cursor(session, "legacy:cursor") == "7"  # moved with the stored row only
    metrics = intake_gateway.client.get("/metrics").get_data(as_text=True)
    assert 'sp4n_inbound_messages_total{channel="legacy",result="rejected"} 1.0' in metrics


def test_webhook_input_has_no_key_and_is_kept_each_time(
    intake_gateway: GatewayHarness,
) -> None:
    intake = intake_gateway.runtime.intake
    error = PayloadInvalid("bukan JSON", field="")
    first = intake.reject("web", {"body": "{"}, error)
    second = intake.reject("web", {"body": "{"}, error)
    assert first != second
    for inbound_id in (first, second):
        row = kept(intake_gateway, inbound_id)
        assert row.external_id is None and row.error_field is None


@pytest.mark.parametrize(
    ("external_id", "stored"),
    [("k" * 255, "k" * 255), ("k" * 256, None), ("row\x00-1", None), ("", None)],
    ids=["255-chars", "256-chars", "nul", "empty"],
)
def test_a_key_the_column_cannot_hold_is_dropped(
    intake_gateway: GatewayHarness, external_id: str, stored: str | None
) -> None:
    error = PayloadInvalid("x", field="f" * 300)
    inbound_id = intake_gateway.runtime.intake.reject("legacy", {}, error, None, external_id)
    row = kept(intake_gateway, inbound_id)
    assert row.external_id == stored and row.error_field == "f" * 255


@pytest.mark.parametrize(
    ("received_at", "usable"),
    [
        (dt.datetime(1900, 1, 1, tzinfo=dt.UTC), True),
        (dt.datetime(1899, 12, 31, 23, 0, tzinfo=dt.UTC), False),
        (dt.datetime(2026, 11, 30, 9, 0), False),  # naive: no zone to read it in
        (dt.datetime(1, 1, 1, tzinfo=WIB), False),  # before year 1 in UTC
        (None, False),
    ],
    ids=["1900", "1899", "naive", "year-1", "none"],
)
def test_an_unusable_time_becomes_the_time_it_was_kept(
    intake_gateway: GatewayHarness, received_at: dt.datetime | None, usable: bool
) -> None:
    before = utcnow()
    error = PayloadInvalid("x")
    inbound_id = intake_gateway.runtime.intake.reject("web", {}, error, received_at)
    row = kept(intake_gateway, inbound_id)
    if usable:
        assert row.received_at == received_at
    else:
        assert before <= row.received_at <= utcnow()
