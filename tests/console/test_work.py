"""Entry forms, repair actions, exports, user commands and /readyz channels."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from click.testing import CliRunner

from gateway.console.labels import HOLD_LABELS
from tests.console.conftest import Console
from vocabulary.holds import HoldReason

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_letter_preview_then_submit_then_receipt(console: Console) -> None:
    from store.models import AuditEntry, Report

    gw = console
    client = gw.client_for("operator")
    form = {
        "sender_name": "Ketua RT 02",
        "number": "005/RT02/XI/2026",
        "date": "2026-11-20",
        "body": "Drainase tersumbat dan jalan rusak di RT 02, mohon ditangani.",
    }
    preview = gw.post_form(
        client,
        "/admin/entry/surat",
        {**form, "action": "preview", "scan": (io.BytesIO(PDF), "surat RT.pdf")},
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Pratinjau" in html and "UPT Jalan Wilayah I" in html
    assert gw.rows(Report) == []
    carried = html.split('name="carried" value="')[1].split('"')[0]
    tampered = gw.post_form(
        client, "/admin/entry/surat", {**form, "action": "submit", "carried": carried[:-2] + "xx"}
    )
    assert tampered.status_code == 400 and "tidak sah" in tampered.get_data(as_text=True)
    done = gw.post_form(
        client, "/admin/entry/surat", {**form, "action": "submit", "carried": carried}
    )
    assert done.status_code == 303
    (report,) = gw.rows(Report)
    assert report.payload["letter"]["entered_by"] == "operator"
    assert report.payload["attachments"][0]["filename"] == "surat RT.pdf"
    receipt = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "sedang diteruskan" in receipt and f"/s/{report.status_token}" in receipt
    gw.drain()
    receipt = client.get(done.headers["Location"]).get_data(as_text=True)
    (report,) = gw.rows(Report)
    assert report.tracking_id in receipt
    assert [a.action for a in gw.rows(AuditEntry) if a.target == report.id] == ["entry"]


def test_phone_call_and_walk_in_record_their_source(sqlite_console: Console) -> None:
    from store.models import Report

    gw = sqlite_console
    client = gw.client_for("operator")
    for channel in ("telepon", "tatap-muka", "faks"):
        answer = gw.post_form(
            client,
            f"/admin/entry/{channel}",
            {
                "action": "submit",
                "sender_name": "Ibu Ani",
                "phone": "081255556666",
                "body": f"Lampu jalan mati sejak seminggu ({channel}).",
            },
        )
        assert answer.status_code == 303, answer.get_data(as_text=True)
    types = {r.channel: (r.channel_type, r.payload["letter"]) for r in gw.rows(Report)}
    assert types["telepon"] == ("phone", None) and types["tatap-muka"] == ("walk_in", None)
    assert types["faks"][0] == "fax" and types["faks"][1]["entered_by"] == "operator"
    big = gw.post_form(
        client,
        "/admin/entry/telepon",
        {"action": "submit", "body": "x", "scan": (io.BytesIO(PDF + b"0" * (11 << 20)), "b.pdf")},
    )
    assert big.status_code == 400 and "lebih dari 10 MB" in big.get_data(as_text=True)


def test_dead_letter_edit_and_replay_with_timeline_and_audit(console: Console) -> None:
    from store.models import AuditEntry, ForwardItem, Report

    gw = console
    gw.post("web", {"body": "Sampah menumpuk di pasar", "external_id": "d-1"})
    with gw.runtime.sessions.begin() as session:
        (item,) = session.query(ForwardItem).all()
        item.state, item.last_error = "dead", "422 invalid_report: title too long"
        session.get(Report, item.report_id).state = "dead"
    client = gw.client_for("admin")
    repair = client.get("/admin/repair").get_data(as_text=True)
    assert "422 invalid_report" in repair
    (report,) = gw.rows(Report)
    edited = gw.post_form(
        client,
        f"/admin/reports/{report.id}/edit",
        {
            "title": "Sampah menumpuk di Pasar Baru",
            "body": "Sampah menumpuk di pasar",
            "kind": "pengaduan",
            "agency": "pemkab",
            "category": "",
            "location_text": "Pasar Baru",
            "replay": "1",
        },
    )
    assert edited.status_code == 302
    gw.drain()
    (report,) = gw.rows(Report)
    assert report.state == "submitted" and report.agency == "pemkab"
    assert report.payload["title"] == "Sampah menumpuk di Pasar Baru"
    assert report.payload["routing"]["reason"] == "diubah oleh admin admin"
    events = [
        e["event"]
        for e in gw.client.get(
            f"/s/{report.status_token}", headers={"Accept": "application/json"}
        ).get_json()["timeline"]
    ]
    assert "replayed" in events
    actions = [a.action for a in gw.rows(AuditEntry) if a.target == report.id]
    assert actions[:2] == ["edit", "replay"]
    refused = gw.post_form(client, f"/admin/reports/{report.id}/edit", {"title": "lain"})
    assert refused.status_code == 302
    assert "tidak dapat diubah" in client.get(refused.headers["Location"]).get_data(as_text=True)
    by_tracking = gw.post_form(client, "/admin/replay", {"ident": report.tracking_id})
    assert by_tracking.status_code == 302
    assert [a.detail["ident"] for a in gw.rows(AuditEntry) if a.action == "replay"][-1] == (
        report.tracking_id
    )


def test_quarantine_release_and_manual_reply_sent_by_hand(console: Console) -> None:
    from store.models import AuditEntry, InboundMessage, ReplyItem, Report

    gw = console
    adapter = gw.runtime.adapters["surat"]
    import datetime as dt

    from adapters.letter.adapter import LetterEntry

    message = adapter.message_from_entry(
        LetterEntry(
            body="Mohon perbaikan lampu",
            received_at=dt.datetime.now(dt.UTC),
            sender_name="Pak Joko",
        )
    )
    message.hold = HoldReason.EMPTY
    gw.runtime.intake.accept(adapter, [message])
    (held,) = gw.rows(InboundMessage)
    assert held.hold_reason is HoldReason.EMPTY
    client = gw.client_for("admin")
    page = client.get("/admin/repair").get_data(as_text=True)
    row = page[page.index(held.id) :].split("</tr>")[0]
    assert f"<td>{HOLD_LABELS[HoldReason.EMPTY]}</td>" in row  # the reason, in words
    released = gw.post_form(client, f"/admin/inbound/{held.id}/release", {})
    assert released.status_code == 302
    gw.drain()
    (report,) = gw.rows(Report)
    (ack,) = gw.rows(ReplyItem)
    assert ack.state == "manual" and report.tracking_id in ack.text
    gw.post_form(client, f"/admin/replies/{ack.id}/sent", {})
    (ack,) = gw.rows(ReplyItem)
    assert ack.state == "sent" and ack.provider_id == "manual:admin"
    actions = {a.action for a in gw.rows(AuditEntry)}
    assert {"release", "reply_sent_by_hand"} <= actions


def test_filters_and_exports(sqlite_console: Console) -> None:
    from openpyxl import load_workbook

    gw = sqlite_console
    gw.post("web", {"body": "Jembatan putus di desa", "external_id": "f-1"})
    gw.post(
        "web",
        {
            "body": '=HYPERLINK("x") minta informasi rincian APBDes',
            "external_id": "f-2",
            "kind": "permintaan_informasi",
        },
    )
    client = gw.client_for("admin")
    listed = client.get("/admin/reports?agency=upt-jalan").get_data(as_text=True)
    assert "Jembatan putus" in listed and "APBDes" not in listed
    assert "1 laporan" in listed
    searched = client.get("/admin/reports?q=apbdes").get_data(as_text=True)
    assert "APBDes" in searched and "Jembatan" not in searched
    # Filters over enum columns: a known value filters, one no report can have (a
    # hand-edited link) is ignored instead of failing the query.
    assert "2 laporan" in client.get("/admin/reports?status=queued").get_data(as_text=True)
    for odd in ("status=on_hold", "kind=keluhan", "status=Queued", "kind=%00"):
        page = client.get(f"/admin/reports?{odd}")
        assert page.status_code == 200 and "2 laporan" in page.get_data(as_text=True), odd
    rows = list(
        csv.reader(
            io.StringIO(
                client.get("/admin/reports/export.csv?kind=permintaan_informasi").get_data(
                    as_text=True
                )
            )
        )
    )
    assert len(rows) == 2 and rows[1][7].startswith("'=")  # never a live formula
    book = load_workbook(io.BytesIO(client.get("/admin/reports/export.xlsx").data))
    assert book.active.max_row == 3


def test_user_commands_and_sessions_ending(sqlite_console: Console, tmp_path: Path) -> None:
    from gateway.cli import main
    from store.models import User

    gw = sqlite_console
    config = tmp_path / "gateway.yaml"
    from tests.console.conftest import CHANNELS
    from tests.helpers import config_text

    config.write_text(
        config_text(str(gw.runtime.engine.url), "http://127.0.0.1:9", channels=CHANNELS)
    )
    env = {"CENTRAL_TOKEN": "t", "WEB_SECRET": "test-web-secret-0123456789"}
    runner = CliRunner()
    added = runner.invoke(
        main,
        ["user", "add", "--config", str(config), "budi", "--role", "operator"],
        input="sandi-budi-99\nsandi-budi-99\n",
        env=env,
    )
    assert added.exit_code == 0, added.output
    assert "Pengguna budi (operator) ditambahkan." in added.output
    again = runner.invoke(
        main,
        ["user", "add", "--config", str(config), "budi"],
        input="sandi-budi-99\nsandi-budi-99\n",
        env=env,
    )
    assert again.exit_code == 1 and "sudah ada" in again.output
    weak = runner.invoke(
        main, ["user", "add", "--config", str(config), "ani"], input="pendek\npendek\n", env=env
    )
    assert weak.exit_code == 1 and "minimal 10 karakter" in weak.output
    client = gw.client_for("admin")
    assert client.get("/admin/").status_code == 200
    changed = runner.invoke(
        main,
        ["user", "passwd", "--config", str(config), "admin"],
        input="sandi-baru-321\nsandi-baru-321\n",
        env=env,
    )
    assert changed.exit_code == 0, changed.output
    assert client.get("/admin/").status_code == 302  # the old session ended
    runner.invoke(main, ["user", "disable", "--config", str(config), "budi"], env=env)
    assert [u.active for u in gw.rows(User) if u.username == "budi"] == [False]
    listed = runner.invoke(main, ["user", "list", "--config", str(config)], env=env)
    assert "budi" in listed.output and "nonaktif" in listed.output


def test_a_failing_channel_shows_on_the_dashboard_and_readyz(sqlite_console: Console) -> None:
    from store.health import ChannelHealth

    gw = sqlite_console
    ChannelHealth(gw.runtime.sessions).failed("surat", "connection refused")
    body = gw.client.get("/readyz").get_json()
    assert body["status"] == "degraded" and "connection refused" in body["channels"]["surat"]
    dashboard = gw.client_for("admin").get("/admin/").get_data(as_text=True)
    assert "sumber tidak terjangkau: connection refused" in dashboard
    assert "gagal" in dashboard
    ChannelHealth(gw.runtime.sessions).ok("surat")
    assert gw.client.get("/readyz").get_json()["status"] == "ok"
    assert "connection refused" not in gw.client_for("admin").get("/admin/").get_data(as_text=True)


def test_a_channel_warning_shows_on_the_channels_page_and_readyz(
    sqlite_console: Console,
) -> None:
    gw = sqlite_console
    warning = "surat mungkin ada yang terlewat selama gangguan"
    gw.runtime.adapters["surat"].warn("gap", warning)  # kept through the runtime's wiring
    body = gw.client.get("/readyz").get_json()
    assert body["status"] == "ok" and body["channels"]["surat"] == "ok"
    assert body["warnings"]["surat"].endswith(f": {warning}")
    page = gw.client_for("admin").get("/admin/channels").get_data(as_text=True)
    assert "Peringatan terakhir" in page and warning in page


def test_every_state_has_its_words() -> None:
    """A member added to an enum without its Indonesian words fails here, not on a page."""
    from gateway.console.labels import COARSE_STATUS, STATUS_CHOICES
    from store.states import ReportState
    from vocabulary.central import CentralStatus

    assert set(HOLD_LABELS) == set(HoldReason)
    local = {ReportState.QUEUED, ReportState.DEAD}
    assert set(STATUS_CHOICES) == set(COARSE_STATUS) == set(CentralStatus) | local
