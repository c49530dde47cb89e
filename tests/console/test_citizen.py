"""`/status` and `/lapor`: a tracking id alone tells only that a report exists; the private
link tells its story; confidential reports give nothing away; both pages are rate limited."""

from __future__ import annotations

import io
import re
from typing import Any

import requests

from tests.console.conftest import Console

JSON = {"Accept": "application/json"}


def _whistleblowing(gw: Console) -> Any:
    from store.models import Report

    gw.post(
        "web",
        {
            "body": "Kepala dinas menerima suap proyek jalan, ada korupsi",
            "kind": "whistleblowing",
            "name": "Saksi",
            "phone": "081211112222",
            "external_id": "wbs-7",
        },
    )
    gw.drain()
    (report,) = [r for r in gw.rows(Report) if r.external_id == "wbs-7"]
    return report


def test_tracking_id_alone_shows_existence_and_coarse_status_only(console: Console) -> None:
    gw = console
    report = _whistleblowing(gw)
    for ident in (report.tracking_id, report.tracking_id.lower(), report.id):
        answer = gw.client.get(f"/status/{ident}", headers=JSON)
        assert answer.status_code == 200
        assert set(answer.get_json()) == {"tracking_id", "status", "status_label"}
    page = gw.client.get(f"/status/{report.tracking_id}").get_data(as_text=True)
    for leak in ("whistleblowing", "WBS", "Inspektorat", "inspektorat", "wbs", "Saksi", "web"):
        assert leak not in page.replace("/static/console.css", ""), leak
    assert "diterima" in page
    wrong = gw.client.get("/status/LPR0000001", headers=JSON)
    assert wrong.status_code == 404
    assert "LPR0000001" in gw.client.get("/status/LPR0000001").get_data(as_text=True)


def test_private_link_shows_history_and_responses_without_personal_data(console: Console) -> None:
    gw = console
    report = _whistleblowing(gw)
    for path in (
        f"/s/{report.status_token}",
        f"/status/{report.tracking_id}?token={report.status_token}",
    ):
        view = gw.client.get(path, headers=JSON).get_json()
        assert view["kind"] == "whistleblowing" and view["agency"] == "inspektorat"
    requests.post(
        f"{gw.sandbox.url}/sandbox/reports/{report.tracking_id}/status",
        json={"status": "in_progress", "note": "Tim pemeriksa dibentuk"},
        timeout=5,
    )
    requests.post(
        f"{gw.sandbox.url}/sandbox/reports/{report.tracking_id}/responses",
        json={"text": "Laporan sedang kami periksa."},
        timeout=5,
    )
    gw.runtime.status_sync().run_once()
    html = gw.client.get(f"/s/{report.status_token}").get_data(as_text=True)
    assert "sedang ditindaklanjuti" in html and "Tim pemeriksa dibentuk" in html
    assert "Laporan sedang kami periksa." in html
    assert "Saksi" not in html and "81211112222" not in html
    assert (
        gw.client.get(f"/status/{report.tracking_id}?token=wrong", headers=JSON).get_json()[
            "status"
        ]
        == "diproses"
    )
    assert gw.client.get("/s/not-a-token").status_code == 404


def test_acknowledgement_carries_the_private_link(console: Console) -> None:
    from store.models import ReplyItem

    gw = console
    report = _whistleblowing(gw)
    (ack,) = [r for r in gw.rows(ReplyItem) if r.event == "ack"]
    assert f"http://127.0.0.1:8000/s/{report.status_token}" in ack.text
    assert len(report.status_token) >= 22 and report.status_token not in report.tracking_id


def test_status_is_rate_limited_per_address(sqlite_console: Console) -> None:
    gw = sqlite_console
    codes = [gw.client.get("/status/LPR1234567", headers=JSON).status_code for _ in range(31)]
    assert codes[:30] == [404] * 30 and codes[30] == 429
    other = gw.client.get(
        "/status/LPR1234567", headers=JSON, environ_base={"REMOTE_ADDR": "127.0.0.9"}
    )
    assert other.status_code == 404


def _lapor(gw: Console, client: Any, **fields: Any) -> Any:
    page = client.get("/lapor").get_data(as_text=True)
    nonce = re.search(r'name="nonce" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    data = {"nonce": nonce, "csrf_token": gw.csrf(client), **fields}
    return client.post("/lapor", data=data, content_type="multipart/form-data")


def test_lapor_form_makes_a_report_and_gives_the_private_link(console: Console) -> None:
    from store.models import Report

    gw = console
    client = gw.app.test_client()
    photo = (io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 100), "lubang.png")
    answer = _lapor(
        gw,
        client,
        body="Jalan rusak berlubang besar di Jl. Merdeka depan SD 3.",
        name="Warga",
        phone="081233334444",
        kind="pengaduan",
        photos=photo,
    )
    assert answer.status_code == 303
    (report,) = gw.rows(Report)
    assert answer.headers["Location"].endswith(f"/lapor/terkirim/{report.status_token}")
    assert report.channel_type == "public_form" and report.agency == "upt-jalan"
    assert report.payload["attachments"][0]["content_type"] == "image/png"
    waiting = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert 'http-equiv="refresh"' in waiting and f"/s/{report.status_token}" in waiting
    gw.drain()
    (report,) = gw.rows(Report)
    done = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert report.tracking_id in done and 'http-equiv="refresh"' not in done


def test_lapor_refuses_bad_files_and_empty_text_and_traps_bots(sqlite_console: Console) -> None:
    from store.models import InboundMessage, Report

    gw = sqlite_console
    client = gw.app.test_client()
    bad = _lapor(gw, client, body="Ada masalah", photos=(io.BytesIO(b"MZ\x90\x00"), "a.exe"))
    assert bad.status_code == 400 and "bukan PDF, JPEG, atau PNG" in bad.get_data(as_text=True)
    empty = _lapor(gw, client, body="   ")
    assert empty.status_code == 400 and "isi laporan kosong" in empty.get_data(as_text=True)
    bot = _lapor(gw, client, body="Beli obat murah", website="http://spam.example")
    assert bot.status_code == 302
    assert gw.rows(Report) == [] and gw.rows(InboundMessage) == []


def test_lapor_is_rate_limited(sqlite_console: Console) -> None:
    gw = sqlite_console
    client = gw.app.test_client()
    codes = [_lapor(gw, client, body=f"Laporan nomor {i}").status_code for i in range(6)]
    assert codes[:5] == [303] * 5 and codes[5] == 429
