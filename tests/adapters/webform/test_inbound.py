"""The web-form channel, as a table of labelled cases run through the real app and database.

Each case posts to a channel and checks the HTTP answer, what was stored in the inbound log
and whether a report (and its outbox row) was made. The shared cases (unknown channel, bad
signature, secret not kept) run alongside.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from store.models import ForwardItem, InboundMessage, Report
from tests.adapters.harness import InboundCase, PushChannel, PushChannelTests, WireRequest
from tests.helpers import WEB_SECRET


def sign(body: bytes, secret: str = WEB_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


SITE_OPEN = PushChannel(
    name="site-open",
    yaml="  - {name: site-open, type: webform}\n",
    env={},
    secrets=[],
    payload_dir=Path(__file__).parent / "payloads",
    sign=lambda wire: wire,
    forge=lambda wire: wire,
)


def _sign(wire: WireRequest, secret: str = WEB_SECRET) -> WireRequest:
    wire.headers["X-Signature-256"] = sign(wire.body, secret)
    return wire


SITE_SIGNED = PushChannel(
    name="site-signed",
    yaml=(
        '  - {name: site-signed, type: webform, secret: "${WEB_SECRET}",\n'
        "     fields: {body: isi_aduan, name: nama, phone: no_hp, email: surel,\n"
        '              "external id": nomor, location: lokasi}}\n'
    ),
    env={"WEB_SECRET": WEB_SECRET},
    secrets=[WEB_SECRET],
    payload_dir=Path(__file__).parent / "payloads",
    sign=_sign,
    forge=lambda wire: _sign(wire, "another-sites-secret-000"),
)


def js(obj: Any) -> bytes:
    return json.dumps(obj).encode()


BIG = js({"body": "x" * (1024 * 1024 + 10)})

OPEN_CASES = [
    InboundCase(
        "json with schema names",
        js(
            {
                "body": "Jalan rusak di depan SD Negeri 3, mohon diperbaiki.",
                "name": "Budi",
                "phone": "0812-3456-7890",
                "email": "budi@example.org",
                "external_id": "f-1",
            }
        ),
        content_type="application/json",
        status=201,
        expect={
            "external_id": "f-1",
            "kind": "pengaduan",
            "reporter.phone": "+6281234567890",
            "routing.agency": "upt-jalan",
            "title": "Jalan rusak di depan SD Negeri 3, mohon diperbaiki",
        },
    ),
    InboundCase(
        "form-encoded with location and flags",
        b"body=Lampu+jalan+mati&location_text=Jl.+Merdeka&lat=-7.25&lon=112.75"
        b"&anonymous=ya&external_id=f-2",
        content_type="application/x-www-form-urlencoded",
        status=201,
        expect={"privacy.anonymous": True, "location.text": "Jl. Merdeka", "location.lat": -7.25},
    ),
    InboundCase(
        "whistleblowing keyword forces confidential",
        js({"body": "Ada pungli di kantor kelurahan saat mengurus KTP", "external_id": "f-3"}),
        content_type="application/json",
        status=201,
        expect={
            "kind": "whistleblowing",
            "privacy.confidential": True,
            "routing.agency": "inspektorat",
        },
    ),
    InboundCase(
        "explicit kind wins over keywords",
        js(
            {
                "body": "Saran: bagaimana cara melapor korupsi?",
                "kind": "aspirasi",
                "external_id": "f-4",
            }
        ),
        content_type="application/json",
        status=201,
        expect={"kind": "aspirasi"},
    ),
    InboundCase(
        "html body becomes text",
        js(
            {
                "body": "<p>Sampah <b>menumpuk</b> di pasar</p><p>Sudah 3 hari.</p>",
                "external_id": "f-5",
            }
        ),
        content_type="application/json",
        status=201,
        expect={"body": "Sampah menumpuk di pasar\n\nSudah 3 hari."},
    ),
    InboundCase(
        "no external id: keyed by content",
        js({"body": "Air PDAM mati"}),
        content_type="application/json",
        status=201,
        expect={"title": "Air PDAM mati"},
    ),
    InboundCase(
        "non-Latin text is kept",
        js({"body": "ꦗꦭꦤ꧀ ꦫꦸꦱꦏ꧀ jalan rusak 🚧", "external_id": "f-6"}),
        content_type="application/json",
        status=201,
        expect={"body": "ꦗꦭꦤ꧀ ꦫꦸꦱꦏ꧀ jalan rusak 🚧"},
    ),
    InboundCase(
        "oversize body",
        BIG,
        content_type="application/json",
        status=413,
        reports=0,
        inbound=0,
    ),
    InboundCase(
        "malformed json",
        b'{"body": "tanpa penutup"',
        content_type="application/json",
        status=400,
        reports=0,
    ),
    InboundCase(
        "json that is not an object",
        b'["body"]',
        content_type="application/json",
        status=400,
        reports=0,
    ),
    InboundCase(
        "missing body field",
        js({"name": "Budi"}),
        content_type="application/json",
        status=400,
        error_field="body",
        reports=0,
    ),
    InboundCase(
        "empty body after cleaning",
        js({"body": "<p> </p>"}),
        content_type="application/json",
        status=400,
        error_field="body",
        reports=0,
    ),
    InboundCase(
        "bad coordinate",
        js({"body": "x", "lat": "utara"}),
        content_type="application/json",
        status=400,
        error_field="lat",
        reports=0,
    ),
    InboundCase(
        "bad NIK",
        js({"body": "x", "identity_number": "123"}),
        content_type="application/json",
        status=400,
        error_field="identity_number",
        reports=0,
    ),
    InboundCase(
        "unsupported content type",
        b"body=x",
        content_type="text/plain",
        status=400,
        error_field="Content-Type",
        reports=0,
    ),
    InboundCase(
        "invalid utf-8 in json",
        b'{"body": "\xff\xfe"}',
        content_type="application/json",
        status=400,
        reports=0,
    ),
]

SIGNED_CASES = [
    InboundCase(
        "mapped site fields, signed",
        js(
            {
                "isi_aduan": "Jembatan retak",
                "nama": "Sari",
                "no_hp": "+62 811 222 333",
                "surel": "sari@example.org",
                "nomor": "A-77",
                "lokasi": "Desa Suka",
            }
        ),
        content_type="application/json",
        status=201,
        expect={
            "external_id": "A-77",
            "reporter.name": "Sari",
            "reporter.phone": "+62811222333",
            "location.text": "Desa Suka",
            "routing.agency": "upt-jalan",
        },
    ),
    InboundCase(
        "wrong signature",
        js({"isi_aduan": "x"}),
        content_type="application/json",
        status=403,
        signed=False,
        headers={"X-Signature-256": "sha256=" + "0" * 64},
        reports=0,
        inbound=0,
    ),
    InboundCase(
        "missing signature",
        js({"isi_aduan": "x"}),
        content_type="application/json",
        status=403,
        signed=False,
        reports=0,
        inbound=0,
    ),
    InboundCase(
        "signature by another secret",
        js({"isi_aduan": "x"}),
        content_type="application/json",
        status=403,
        signed=False,
        headers={"X-Signature-256": sign(js({"isi_aduan": "x"}), "other")},
        reports=0,
        inbound=0,
    ),
    InboundCase(
        "missing mapped body field names the site's field",
        js({"nama": "Sari"}),
        content_type="application/json",
        status=400,
        error_field="isi_aduan",
        reports=0,
    ),
]


class TestOpenWebform(PushChannelTests):
    """A site that cannot sign: the report's own field names, JSON or a form."""

    channel = SITE_OPEN
    cases = OPEN_CASES
    happy, malformed = "json with schema names", "malformed json"
    # Nothing to forge on a channel without a secret.
    shared_cases = ["unknown channel", "secret not stored nor logged"]


class TestSignedWebform(PushChannelTests):
    """A site that signs its posts and names its own fields."""

    channel = SITE_SIGNED
    cases = SIGNED_CASES
    happy, malformed = (
        "mapped site fields, signed",
        "missing mapped body field names the site's field",
    )


def test_repeat_answers_200_with_the_same_id(intake_gateway: Any) -> None:
    payload = {"body": "Jalan rusak", "external_id": "dup-1"}
    first = intake_gateway.post("web", payload)
    again = intake_gateway.post("web", payload)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert len(intake_gateway.rows(Report)) == 1
    assert len(intake_gateway.rows(ForwardItem)) == 1


def test_same_key_with_another_body_is_409_and_reveals_nothing(intake_gateway: Any) -> None:
    """Re-posting someone's external id must not tell the poster that report's id."""
    first = intake_gateway.post("web", {"body": "Jalan rusak", "external_id": "dup-2"})
    probe = intake_gateway.post("web", {"body": "apa id-nya?", "external_id": "dup-2"})
    assert (first.status_code, probe.status_code) == (201, 409)
    text = probe.get_data(as_text=True)
    assert first.get_json()["id"] not in text
    assert probe.get_json()["error"]["code"] == "conflict"
    # The probe is kept as rejected input (nothing is dropped), without the stored key.
    rejected = [r for r in intake_gateway.rows(InboundMessage) if r.state == "rejected"]
    assert len(rejected) == 1 and rejected[0].external_id is None
    assert rejected[0].id == probe.get_json()["error"]["inbound_id"]
    assert len(intake_gateway.rows(Report)) == 1


def test_double_submit_without_id_is_one_report(intake_gateway: Any) -> None:
    body = b"body=Got+mampet&name=Rina"
    first = intake_gateway.post("web", data=body, content_type="application/x-www-form-urlencoded")
    again = intake_gateway.post("web", data=body, content_type="application/x-www-form-urlencoded")
    assert (first.status_code, again.status_code) == (201, 200)
    assert len(intake_gateway.rows(Report)) == 1


def test_raw_request_kept_with_secret_headers_redacted(intake_gateway: Any) -> None:
    body = js({"isi_aduan": "Drainase tersumbat", "nomor": "R-1"})
    response = intake_gateway.post(
        "web-signed",
        data=body,
        headers={
            "X-Signature-256": sign(body),
            "Authorization": "Bearer very-secret-token",
            "Cookie": "session=also-secret",
        },
    )
    assert response.status_code == 201
    (row,) = intake_gateway.rows(InboundMessage)
    kept = json.dumps(row.raw)
    assert "Drainase tersumbat" in row.raw["body"]["text"]
    assert "very-secret-token" not in kept
    assert "also-secret" not in kept
    assert WEB_SECRET not in kept
