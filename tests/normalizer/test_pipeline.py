"""MessageDraft -> NormalizedMessage -> Report, checked against the shared JSON schema."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest

from normalizer.classify import KindKeywords, keyword_matches
from normalizer.pipeline import NormalizerSettings, build_report, normalize_draft
from normalizer.report import Attachment, ChannelRef, Report, Routing
from tests.helpers import validate_reports
from tests.language import assert_indonesian
from vocabulary.drafts import MessageDraft
from vocabulary.errors import PayloadInvalid

RECEIVED = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)
SETTINGS = NormalizerSettings()


def draft(**fields: Any) -> MessageDraft:
    base: dict[str, Any] = {
        "external_id": "SM123",
        "received_at": RECEIVED,
        "body": "Jalan rusak di depan pasar.",
    }
    return MessageDraft(**{**base, **fields})


def report_for(message_draft: MessageDraft, settings: NormalizerSettings = SETTINGS) -> Report:
    return build_report(
        normalize_draft(message_draft, settings),
        report_id="01HZX5V0ABCDEF1234567890",
        channel=ChannelRef(name="sms-1708", type="twilio_sms"),
        external_id=message_draft.external_id,
        received_at=message_draft.received_at,
        routing=Routing(agency="pemkab", reason="default"),
        attachments=[
            Attachment(filename="foto.jpg", content_type="image/jpeg", size=3, sha256="0" * 64)
        ],
    )


def assert_valid_wire(report: Report) -> None:
    """The wire form validates against the repo's copy of the binding schema (equal to
    ../shared's, tests/forwarder/test_sandbox.py checks), so a clone alone skips nothing."""
    validate_reports([report.to_wire()])


FULL = draft(
    body=(
        "<html><body><p>Yth. Bapak/Ibu,</p><p>Ada <b>pungli</b> di kantor kelurahan "
        "saat urus KTP.</p><p>Salam,<br>Budi</p></body></html>"
    ),
    body_content_type="text/html; charset=utf-8",
    name="  Budi\nSantoso ",
    phone="whatsapp:+62 812-3456-7890",
    email="Budi <Budi.S@Contoh.GO.ID>",
    handle="telegram:123456",
    address="Jl. Merdeka No. 5\r\nRT 01/RW 02",
    identity_number="3201 2345 6789 0001",
    location_text="Kelurahan Sukamaju",
    lat=-6.2,
    lon=106.8,
    region_code="32.01",
    category="pelayanan-publik",
    anonymous=True,
    incident_date=dt.date(2024, 4, 30),
    in_reply_to=" LAPOR-123 ",
)


def test_full_draft_to_report() -> None:
    report = report_for(FULL)
    assert report.kind == "whistleblowing"
    assert report.privacy.model_dump() == {"anonymous": True, "confidential": True}
    assert report.title == "Ada pungli di kantor kelurahan saat urus KTP"
    assert "<" not in report.body and "pungli" in report.body
    assert report.reporter.model_dump() == {
        "name": "Budi Santoso",
        "phone": "+6281234567890",
        "email": "Budi.S@contoh.go.id",
        "handle": "telegram:123456",
        "address": "Jl. Merdeka No. 5 RT 01/RW 02",
        "identity_number": "3201234567890001",
    }
    assert report.location is not None and report.location.region_code == "32.01"
    assert report.in_reply_to == "LAPOR-123"
    assert_valid_wire(report)


def test_minimal_draft_to_report() -> None:
    report = report_for(draft())
    assert report.kind == "pengaduan"
    assert report.title == "Jalan rusak di depan pasar"
    assert report.location is None and report.letter is None
    assert report.privacy.model_dump() == {"anonymous": False, "confidential": False}
    assert_valid_wire(report)


def test_letter_draft_to_report() -> None:
    letter = {
        "number": " 045/SP/IV/2024 ",
        "date": "2024-04-29",
        "sender_organisation": "RT 05",
        "entered_by": "admin1",
    }
    report = report_for(draft(letter=letter, title="Surat warga RT 05", kind="aspirasi"))
    assert report.letter is not None and report.letter.number == "045/SP/IV/2024"
    assert report.letter.date == dt.date(2024, 4, 29)
    assert report.kind == "aspirasi" and report.title == "Surat warga RT 05"
    assert_valid_wire(report)


def test_long_body_and_title_are_clipped() -> None:
    report = report_for(draft(body="kata " * 5000, title="judul " * 40))
    assert len(report.body) <= 20000 and report.body.endswith("…")
    assert len(report.title) <= 150
    assert_valid_wire(report)


NOTE_CASES = [
    ("bad-phone", {"phone": "1708"}, "phone", "isian `phone` dibuang: bukan nomor telepon"),
    ("bad-email", {"email": "budi at contoh"}, "email", "isian `email` dibuang: bukan alamat"),
    ("no-tld", {"email": "agus.salim@contoh"}, "email", "setelah @ harus memuat titik"),
    ("email-crlf", {"email": "budi@contoh.id\r\nBcc: x@y.id"}, "email", "memuat ganti baris"),
    ("email-space", {"email": "budi @contoh.id"}, "email", "memuat spasi"),
    ("no-at", {"email": "budi.contoh.id"}, "email", "tidak memuat tanda @"),
    ("bad-nik", {"identity_number": "12345"}, "identity_number", "NIK harus 16 angka"),
    ("bad-lat", {"lat": 123.0}, "lat", "isian `lat` dibuang: harus angka antara -90 dan 90"),
    ("nan-lon", {"lon": float("nan")}, "lon", "isian `lon` dibuang: harus angka antara -180"),
    ("unknown-kind", {"kind": "complaint"}, "kind", "isian `kind` dibuang: harus salah satu"),
]


@pytest.mark.parametrize(
    ("fields", "attribute", "note"), [c[1:] for c in NOTE_CASES], ids=[c[0] for c in NOTE_CASES]
)
def test_unusable_fields_are_dropped_with_a_note(
    fields: dict[str, Any], attribute: str, note: str
) -> None:
    message = normalize_draft(draft(**fields), SETTINGS)
    assert any(note in n for n in message.notes), message.notes
    for said in message.notes:  # read by admins on the timeline (issue 11.8)
        assert_indonesian(said)
    # The note says which field and why, never the value (it is kept with the raw message).
    for value in fields.values():
        assert not any(str(value) in n for n in message.notes)
    if attribute in ("phone", "email", "identity_number"):
        assert getattr(message.reporter, attribute) is None
    elif attribute in ("lat", "lon"):
        assert message.location is None
    else:
        assert message.kind == "pengaduan"


@pytest.mark.parametrize(
    ("fields", "attribute"), [c[1:3] for c in NOTE_CASES], ids=[c[0] for c in NOTE_CASES]
)
def test_a_strict_channel_refuses_what_it_would_drop(
    fields: dict[str, Any], attribute: str
) -> None:
    with pytest.raises(PayloadInvalid) as caught:
        normalize_draft(draft(**fields), NormalizerSettings(strict=True))
    assert caught.value.field == attribute
    assert_indonesian(str(caught.value))


EMAIL_CASES = [
    ("plain", "budi@contoh.id", "budi@contoh.id"),
    ("domain-lowered", "Budi@Contoh.GO.ID", "Budi@contoh.go.id"),
    ("display-name", "Budi Santoso <budi@contoh.id>", "budi@contoh.id"),
    ("mailto", " mailto:budi@contoh.id ", "budi@contoh.id"),
    ("idn", "budi@xn--mnchen-3ya.de", "budi@münchen.de"),
    ("header-injection", "budi@contoh.id\r\nBcc: x@evil.id", None),
    ("space-inside", "budi@contoh .id", None),
    ("two-addresses", "budi@contoh.id, ani@contoh.id", None),
    ("dot-before-at", "budi.@contoh.id", None),
]


@pytest.mark.parametrize(
    ("given", "expected"), [c[1:] for c in EMAIL_CASES], ids=[c[0] for c in EMAIL_CASES]
)
def test_an_email_is_kept_only_when_it_is_one(given: str, expected: str | None) -> None:
    assert normalize_draft(draft(email=given), SETTINGS).reporter.email == expected


KIND_CASES = [
    ("keywords", {}, NormalizerSettings(), "whistleblowing"),
    ("channel-kind-wins", {}, NormalizerSettings(default_kind="aspirasi"), "aspirasi"),
    (
        "draft-kind-beats-channel",
        {"kind": "pengaduan"},
        NormalizerSettings(default_kind="aspirasi"),
        "pengaduan",
    ),
    (
        "invalid-draft-kind-falls-to-channel",
        {"kind": "x"},
        NormalizerSettings(default_kind="aspirasi"),
        "aspirasi",
    ),
    (
        "custom-keywords",
        {},
        NormalizerSettings(kinds=KindKeywords(whistleblowing=["xyz"])),
        "pengaduan",
    ),
]


@pytest.mark.parametrize(
    ("fields", "settings", "expected"), [c[1:] for c in KIND_CASES], ids=[c[0] for c in KIND_CASES]
)
def test_kind_precedence(
    fields: dict[str, Any], settings: NormalizerSettings, expected: str
) -> None:
    message = normalize_draft(draft(body="Ada korupsi dana desa", **fields), settings)
    assert message.kind == expected
    # An explicit kind is kept, but whistleblowing words still make the report confidential.
    signs = keyword_matches("Ada korupsi dana desa", settings.kinds.whistleblowing)
    assert message.privacy.confidential is (expected == "whistleblowing" or signs)


@pytest.mark.parametrize(
    "body",
    ["", "   \n\t ", "\x00\x01", "<html><body><img src='x.png'></body></html>"],
    ids=["empty", "whitespace", "controls", "html-without-text"],
)
def test_empty_body_is_payload_invalid(body: str) -> None:
    with pytest.raises(PayloadInvalid) as caught:
        normalize_draft(draft(body=body), SETTINGS)
    assert caught.value.field == "body"


def test_bad_letter_is_payload_invalid() -> None:
    with pytest.raises(PayloadInvalid) as caught:
        normalize_draft(draft(letter={"number": "1", "date": "kemarin"}), SETTINGS)
    assert caught.value.field == "letter"
    assert "date" in str(caught.value)


def test_blank_title_falls_back_to_body() -> None:
    message = normalize_draft(draft(title=" \n "), SETTINGS)
    assert message.title == "Jalan rusak di depan pasar"


def test_datetime_incident_date_becomes_date() -> None:
    message = normalize_draft(draft(incident_date=RECEIVED), SETTINGS)
    assert message.incident_date == dt.date(2024, 5, 1)


def test_naive_received_at_is_sent_as_utc() -> None:
    report = report_for(replace(draft(), received_at=dt.datetime(2024, 5, 1, 10, 0)))
    assert report.to_wire()["received_at"] == "2024-05-01T10:00:00Z"
    assert_valid_wire(report)


def test_html_in_title_name_and_address_is_reduced_to_text() -> None:
    message = normalize_draft(
        draft(
            title="<h1><b>Jalan</b> rusak</h1>",
            name='<a href="https://x.id">Budi &amp; Ani</a>',
            address="<p>Jl. Merdeka<br>No. 5</p>",
            body="<p>Jalan rusak di depan pasar.</p>",
        ),
        SETTINGS,
    )
    assert message.title == "Jalan rusak"
    assert message.reporter.name == "Budi & Ani"
    assert message.reporter.address == "Jl. Merdeka No. 5"
    assert message.body == "Jalan rusak di depan pasar."


def test_a_title_of_only_markup_is_derived_from_the_body() -> None:
    assert normalize_draft(draft(title="<b></b>"), SETTINGS).title == "Jalan rusak di depan pasar"


def test_evasion_is_whistleblowing_and_the_text_keeps_its_letters() -> None:
    body = "Ada k\u043erupsi dana desa di kantor kepala desa."  # Cyrillic "о"
    message = normalize_draft(draft(body=body, title="K\u043erupsi"), SETTINGS)
    assert message.kind == "whistleblowing"
    assert message.privacy.confidential is True
    # Folding is for matching only: what is stored and forwarded is what the citizen wrote.
    assert message.body == body
    assert message.title == "K\u043erupsi"
