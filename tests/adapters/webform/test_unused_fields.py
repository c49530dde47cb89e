"""Nothing a web form sends is dropped silently: what cannot be used is a note on the report's
timeline (by field name, never by value), or a 400 on a `strict: true` channel.

Runs through the real app and database (SQLite and PostgreSQL), like `test_inbound.py`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from store.models import InboundMessage, Report
from store.timeline import events_of
from tests.conftest import GatewayHarness
from tests.helpers import config_text, free_port, load_test_config

CHANNELS = """\
- {name: web-strict, type: webform, strict: true, ignore_fields: [_token, kirim]}
- {name: web-mapped, type: webform,
   fields: {body: isi, name: pelapor.nama, email: pelapor.surel, "external id": nomor}}
"""


@pytest.fixture
def gateway(db_url: str, tmp_path: Path) -> Iterator[GatewayHarness]:
    """A gateway with a lenient (`web`), a strict and a mapped web-form channel."""
    from gateway.runtime import build_runtime

    text = config_text(db_url, f"http://127.0.0.1:{free_port()}", channels=CHANNELS)
    runtime = build_runtime(load_test_config(text), base_dir=tmp_path)
    harness = GatewayHarness(runtime, None)
    yield harness
    harness.forwarder.close()
    runtime.close()


def notes_of(gateway: GatewayHarness, report_id: str) -> list[str]:
    """The normalizer's notes on a report's timeline."""
    with gateway.runtime.sessions() as session:
        return [
            e.detail["note"] for e in events_of(session, report_id) if e.event == "normalizer_note"
        ]


def post_ok(gateway: GatewayHarness, channel: str, payload: dict[str, Any]) -> str:
    response = gateway.post(channel, payload)
    assert response.status_code == 201, response.get_data(as_text=True)
    return str(response.get_json()["id"])


LENIENT_CASES = [
    (
        "unknown field on an unmapped form",
        "web",
        {"body": "Jalan rusak", "kelurahan": "Sukamaju", "external_id": "u-1"},
        ["form field(s) 'kelurahan' not used"],
        "Sukamaju",
    ),
    (
        "invalid email",
        "web",
        {"body": "Jalan rusak", "email": "agus.salim@contoh", "external_id": "u-2"},
        ["isian `email` dibuang: bukan alamat email yang sah"],
        "agus.salim",
    ),
    (
        "email with a header injection",
        "web",
        {"body": "Jalan rusak", "email": "budi@contoh.id\r\nBcc: x@jahat.id", "external_id": "u-3"},
        ["isian `email` dibuang: bukan alamat email yang sah: memuat ganti baris"],
        "jahat",
    ),
    (
        "unused nested field on a mapped form",
        "web-mapped",
        {"isi": "Jalan rusak", "nomor": "u-4", "pelapor": {"nama": "Budi", "umur": "41"}},
        ["form field(s) 'pelapor.umur' not used"],
        "41",
    ),
    (
        "a field named like an email address is masked",
        "web",
        {"body": "Jalan rusak", "siti.aminah@contoh.id": "ya", "external_id": "u-5"},
        ["form field(s) 's***@c***.id' not used"],
        "siti.aminah",
    ),
    (
        "many unknown fields are counted, not listed",
        "web",
        {"body": "Jalan rusak", "external_id": "u-6", **{f"f{i:02}": "x" for i in range(25)}},
        ["'f09' (+15) not used"],
        "f10",
    ),
]


@pytest.mark.parametrize(
    ("channel", "payload", "expected", "hidden"),
    [c[1:] for c in LENIENT_CASES],
    ids=[c[0] for c in LENIENT_CASES],
)
def test_what_cannot_be_used_is_noted_by_name(
    gateway: GatewayHarness,
    caplog: pytest.LogCaptureFixture,
    channel: str,
    payload: dict[str, Any],
    expected: list[str],
    hidden: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    report_id = post_ok(gateway, channel, payload)
    notes = notes_of(gateway, report_id)
    for fragment in expected:
        assert any(fragment in note for note in notes), notes
    # The note says what and why; the value stays only in the raw request kept for replay.
    assert not any(hidden in note for note in notes)
    assert hidden not in caplog.text
    (inbound,) = gateway.rows(InboundMessage)
    assert hidden in json.dumps(inbound.raw, ensure_ascii=False)


def test_a_form_that_sends_only_what_is_mapped_has_no_note(gateway: GatewayHarness) -> None:
    report_id = post_ok(
        gateway, "web-strict", {"body": "Jalan rusak", "_token": "abc", "kirim": "Kirim"}
    )
    assert notes_of(gateway, report_id) == []


STRICT_CASES = [
    ("unknown field", {"body": "Jalan rusak", "kelurahan": "Sukamaju"}, "kelurahan"),
    ("email without a top-level domain", {"body": "Jalan rusak", "email": "agus@contoh"}, "email"),
    ("email with CR/LF", {"body": "Jalan rusak", "email": "a@contoh.id\r\nBcc: b@c.id"}, "email"),
    ("email with a space", {"body": "Jalan rusak", "email": "budi @contoh.id"}, "email"),
    ("phone that is not one", {"body": "Jalan rusak", "phone": "12"}, "phone"),
]


@pytest.mark.parametrize(
    ("payload", "field"), [c[1:] for c in STRICT_CASES], ids=[c[0] for c in STRICT_CASES]
)
def test_a_strict_channel_refuses_what_it_cannot_use(
    gateway: GatewayHarness, payload: dict[str, Any], field: str
) -> None:
    response = gateway.post("web-strict", payload)
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["field"] == field
    assert gateway.rows(Report) == []
    (inbound,) = gateway.rows(InboundMessage)
    assert inbound.state == "rejected" and inbound.id == error["inbound_id"]
