"""Golden reports for the web-form channel: recorded site payloads -> canonical reports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from adapters.base import CaseInsensitiveDict, InboundRequest
from adapters.registry import load_adapter_class
from tests.golden import canonical_report, check_golden
from tests.helpers import config_text, load_test_config

HERE = Path(__file__).parent
RECEIVED = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)

# payload file, content type, the channel's `fields:` entry (YAML flow), the channel's kind
CASES = [
    (
        "kabupaten-nested.json",
        "application/json",
        '{"external id": nomor_tiket, title: judul, body: isi_aduan, name: pelapor.nama,'
        " phone: pelapor.no_hp, email: pelapor.surel, nik: pelapor.nik,"
        " address: lokasi.alamat, lat: lokasi.lat, lon: lokasi.lng, kind: jenis,"
        " incident_date: tanggal_kejadian, received_at: dikirim}",
        None,
    ),
    ("schema-names.json", "application/json", None, None),
    (
        "wbs-html.json",
        "application/json",
        '{"external id": id, body: isi, confidential: rahasia}',
        None,
    ),
    ("form-urlencoded.txt", "application/x-www-form-urlencoded", None, None),
    ("schema-names-extra.json", "application/json", None, None),
]


@pytest.mark.parametrize(
    ("payload", "content_type", "fields", "kind"), CASES, ids=[c[0] for c in CASES]
)
def test_golden_report(
    payload: str, content_type: str, fields: str | None, kind: str | None
) -> None:
    entry = (
        "- {name: situs, type: webform"
        + (f", fields: {fields}" if fields else "")
        + (f", kind: {kind}" if kind else "")
        + "}\n"
    )
    config = load_test_config(
        config_text("sqlite:///unused.db", "http://127.0.0.1:9", channels=entry)
    )
    adapter = load_adapter_class("webform")(config.channel("situs"))
    request = InboundRequest(
        "POST",
        "http://127.0.0.1:8000/channels/situs/inbound",
        CaseInsensitiveDict({"Content-Type": content_type}),
        (HERE / "payloads" / payload).read_bytes(),
        RECEIVED,
    )
    (message,) = adapter.parse_inbound(request).messages
    golden = HERE / "golden" / (payload.rsplit(".", 1)[0] + ".json")
    check_golden(golden, canonical_report(adapter, message, config))
