"""The web-form channel, as a table of labelled cases run through the real app and database.

Each case posts to a channel and checks the HTTP answer, what was stored in the inbound log
and whether a report (and its outbox row) was made. The shared cases (unknown channel, bad
signature, secret not kept) run alongside.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from store.models import ForwardItem, InboundMessage, Report
from tests.helpers import WEB_SECRET


def sign(body: bytes, secret: str = WEB_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Case:
    label: str
    channel: str
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    signed: bool = False
    status: int = 201
    error_field: str | None = None
    reports: int = 1  # reports made
    inbound: int = 1  # inbound rows kept (accepted or rejected)
    expect: dict[str, Any] = field(default_factory=dict)  # fields of the stored payload


def js(obj: Any) -> bytes:
    return json.dumps(obj).encode()


BIG = js({"body": "x" * (1024 * 1024 + 10)})

INBOUND_CASES = [
    Case(
        "json with schema names",
        "web",
        js(
            {
                "body": "Jalan rusak di depan SD Negeri 3, mohon diperbaiki.",
                "name": "Budi",
                "phone": "0812-3456-7890",
                "email": "budi@example.org",
                "external_id": "f-1",
            }
        ),
        expect={
            "external_id": "f-1",
            "kind": "pengaduan",
            "reporter.phone": "+6281234567890",
            "routing.agency": "upt-jalan",
            "title": "Jalan rusak di depan SD Negeri 3, mohon diperbaiki",
        },
    ),
    Case(
        "form-encoded with location and flags",
        "web",
        b"body=Lampu+jalan+mati&location_text=Jl.+Merdeka&lat=-7.25&lon=112.75"
        b"&anonymous=ya&external_id=f-2",
        content_type="application/x-www-form-urlencoded",
        expect={"privacy.anonymous": True, "location.text": "Jl. Merdeka", "location.lat": -7.25},
    ),
    Case(
        "whistleblowing keyword forces confidential",
        "web",
        js({"body": "Ada pungli di kantor kelurahan saat mengurus KTP", "external_id": "f-3"}),
        expect={
            "kind": "whistleblowing",
            "privacy.confidential": True,
            "routing.agency": "inspektorat",
        },
    ),
    Case(
        "explicit kind wins over keywords",
        "web",
        js(
            {
                "body": "Saran: bagaimana cara melapor korupsi?",
                "kind": "aspirasi",
                "external_id": "f-4",
            }
        ),
        expect={"kind": "aspirasi"},
    ),
    Case(
        "html body becomes text",
        "web",
        js(
            {
                "body": "<p>Sampah <b>menumpuk</b> di pasar</p><p>Sudah 3 hari.</p>",
                "external_id": "f-5",
            }
        ),
        expect={"body": "Sampah menumpuk di pasar\n\nSudah 3 hari."},
    ),
    Case(
        "no external id: keyed by content",
        "web",
        js({"body": "Air PDAM mati"}),
        expect={"title": "Air PDAM mati"},
    ),
    Case(
        "mapped site fields, signed",
        "web-signed",
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
        signed=True,
        expect={
            "external_id": "A-77",
            "reporter.name": "Sari",
            "reporter.phone": "+62811222333",
            "location.text": "Desa Suka",
            "routing.agency": "upt-jalan",
        },
    ),
    Case(
        "non-Latin text is kept",
        "web",
        js({"body": "ꦗꦭꦤ꧀ ꦫꦸꦱꦏ꧀ jalan rusak 🚧", "external_id": "f-6"}),
        expect={"body": "ꦗꦭꦤ꧀ ꦫꦸꦱꦏ꧀ jalan rusak 🚧"},
    ),
    # Bad input: a clear JSON error; nothing made that must not be, raw kept where it must.
    Case(
        "wrong signature",
        "web-signed",
        js({"isi_aduan": "x"}),
        headers={"X-Signature-256": "sha256=" + "0" * 64},
        status=403,
        reports=0,
        inbound=0,
    ),
    Case(
        "missing signature", "web-signed", js({"isi_aduan": "x"}), status=403, reports=0, inbound=0
    ),
    Case(
        "signature by another secret",
        "web-signed",
        js({"isi_aduan": "x"}),
        headers={"X-Signature-256": sign(js({"isi_aduan": "x"}), "other")},
        status=403,
        reports=0,
        inbound=0,
    ),
    Case("oversize body", "web", BIG, status=413, reports=0, inbound=0),
    Case("malformed json", "web", b'{"body": "tanpa penutup"', status=400, reports=0),
    Case("json that is not an object", "web", b'["body"]', status=400, reports=0),
    Case(
        "missing body field", "web", js({"name": "Budi"}), status=400, error_field="body", reports=0
    ),
    Case(
        "missing mapped body field names the site's field",
        "web-signed",
        js({"nama": "Sari"}),
        signed=True,
        status=400,
        error_field="isi_aduan",
        reports=0,
    ),
    Case(
        "empty body after cleaning",
        "web",
        js({"body": "<p> </p>"}),
        status=400,
        error_field="body",
        reports=0,
    ),
    Case(
        "bad coordinate",
        "web",
        js({"body": "x", "lat": "utara"}),
        status=400,
        error_field="lat",
        reports=0,
    ),
    Case(
        "bad NIK",
        "web",
        js({"body": "x", "identity_number": "123"}),
        status=400,
        error_field="identity_number",
        reports=0,
    ),
    Case(
        "unsupported content type",
        "web",
        b"body=x",
        content_type="text/plain",
        status=400,
        error_field="Content-Type",
        reports=0,
    ),
    Case("invalid utf-8 in json", "web", b'{"body": "\xff\xfe"}', status=400, reports=0),
    Case("unknown channel", "nope", js({"body": "x"}), status=404, reports=0, inbound=0),
]


def _get(payload: dict[str, Any], dotted: str) -> Any:
    node: Any = payload
    for part in dotted.split("."):
        node = node[part]
    return node


@pytest.mark.parametrize("case", INBOUND_CASES, ids=[c.label for c in INBOUND_CASES])
def test_inbound_case(intake_gateway: Any, case: Case) -> None:
    headers = dict(case.headers)
    if case.signed:
        headers["X-Signature-256"] = sign(case.body)
    response = intake_gateway.post(
        case.channel, data=case.body, headers=headers, content_type=case.content_type
    )
    assert response.status_code == case.status, response.get_data(as_text=True)
    answer = response.get_json()
    assert answer is not None, "every answer is JSON"
    reports = intake_gateway.rows(Report)
    inbound = intake_gateway.rows(InboundMessage)
    assert len(reports) == case.reports
    assert len(intake_gateway.rows(ForwardItem)) == case.reports
    assert len(inbound) == case.inbound
    if case.status in (200, 201):
        assert answer["id"] == reports[0].id
        assert answer["status"] == "queued"
        payload = reports[0].payload
        for key, value in case.expect.items():
            assert _get(payload, key) == value, key
    else:
        assert answer["error"]["message"]
        if case.error_field:
            assert answer["error"]["field"] == case.error_field
        if case.inbound:
            # Rejected input is kept, raw, for an admin to fix and replay.
            assert inbound[0].state == "rejected"
            assert inbound[0].error
            assert answer["error"]["inbound_id"] == inbound[0].id


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
