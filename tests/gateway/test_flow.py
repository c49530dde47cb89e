"""The whole loop in one process against the sandbox over real HTTP, on SQLite and PostgreSQL.

Every report these tests forward is checked against the shared report schema.
"""

from __future__ import annotations

from typing import Any

import requests

from adapters.letter.adapter import LetterAdapter, LetterEntry
from store.models import ForwardItem, ReplyItem, Report, TimelineEvent
from tests.helpers import validate_reports


def set_status(harness: Any, tracking_id: str | None, status: str, **extra: Any) -> None:
    assert tracking_id is not None, "the report has no tracking id yet"
    response = requests.post(
        f"{harness.sandbox.url}/sandbox/reports/{tracking_id}/status",
        json={"status": status, **extra},
        timeout=5,
    )
    assert response.status_code < 400, response.text


def forwarded(harness: Any) -> list[Report]:
    reports = harness.rows(Report)
    validate_reports([r.payload for r in reports])
    return reports


def events(harness: Any, report_id: str) -> list[str]:
    return [e.event for e in harness.rows(TimelineEvent) if e.report_id == report_id]


def test_webform_report_reaches_the_central_once(gateway: Any) -> None:
    first = {
        "body": "Jembatan di Desa Maju retak parah",
        "name": "Budi",
        "phone": "081234567890",
        "external_id": "w-1",
    }
    response = gateway.post("web", first)
    assert response.status_code == 201
    report_id = response.get_json()["id"]
    assert gateway.drain() == 1
    (report,) = forwarded(gateway)
    assert report.state == "submitted" and report.tracking_id
    central = gateway.central_reports()
    assert [(c["gateway_id"], c["tracking_id"]) for c in central] == [
        (report_id, report.tracking_id)
    ]
    assert central[0]["agency"] == "upt-jalan"
    # The acknowledgement with the tracking id is queued (as manual: no reply URL).
    (ack,) = gateway.rows(ReplyItem)
    assert ack.event == "ack" and report.tracking_id in ack.text
    assert ack.state == "manual"
    # Repeats after forwarding still answer with the same id, and send nothing new.
    again = gateway.post("web", first)
    assert again.status_code == 200 and again.get_json()["id"] == report_id
    assert again.get_json()["status"] == "received"
    # The same key with another body is not a repeat: 409, and the first id is not told.
    other = gateway.post("web", {"body": "lagi", "external_id": "w-1"})
    assert other.status_code == 409 and report_id not in other.get_data(as_text=True)
    assert gateway.drain() == 0
    json_accept = {"Accept": "application/json"}
    coarse = gateway.client.get(f"/status/{report.tracking_id}", headers=json_accept).get_json()
    assert coarse == {
        "tracking_id": report.tracking_id,
        "status": "diterima",
        "status_label": "Laporan sudah diterima dan menunggu tindak lanjut.",
    }
    status = gateway.client.get(f"/s/{report.status_token}", headers=json_accept).get_json()
    assert status["id"] == report_id and status["agency"] == "upt-jalan"
    assert [e["event"] for e in status["timeline"]] == ["received", "routed", "forwarded"]
    assert "081234567890" not in str(status) and "Budi" not in str(status)


def test_out_of_authority_goes_to_the_parent_with_the_same_key(db_url: str, tmp_path: Any) -> None:
    from tests.conftest import _harness
    from tests.helpers import start_sandbox

    sandbox = start_sandbox(tmp_path, return_agency="upt-jalan")
    try:
        for harness in _harness(db_url, sandbox, tmp_path):
            response = harness.post("web", {"body": "jalan rusak parah", "external_id": "o-1"})
            report_id = response.get_json()["id"]
            harness.drain()
            (report,) = forwarded(harness)
            assert report.state == "submitted"
            assert report.agency == "dinas-pupr"
            assert report.payload["routing"] == {
                "agency": "dinas-pupr",
                "reason": "returned by upt-jalan",
                "hops": ["upt-jalan"],
            }
            (central,) = harness.central_reports()
            assert central["gateway_id"] == report_id and central["agency"] == "dinas-pupr"
            assert events(harness, report_id) == ["received", "routed", "rerouted", "forwarded"]
    finally:
        sandbox.stop()


def test_status_sync_records_changes_and_queues_notifications(gateway: Any) -> None:
    gateway.post("web", {"body": "Lampu jalan mati", "external_id": "s-1"})
    gateway.drain()
    (report,) = forwarded(gateway)
    sync = gateway.runtime.status_sync()
    set_status(gateway, report.tracking_id, "verified")
    set_status(gateway, report.tracking_id, "in_progress", note="Petugas dijadwalkan")
    requests.post(
        f"{gateway.sandbox.url}/sandbox/reports/{report.tracking_id}/responses",
        json={"text": "Lampu akan diganti besok.", "agency": "nasional"},
        timeout=5,
    )
    assert sync.run_once() >= 1
    assert sync.run_once() == 0  # a second pass finds nothing new
    (report,) = gateway.rows(Report)
    assert report.central_status == "in_progress"
    names = events(gateway, report.id)
    assert names.count("response") == 1
    assert "status" in names
    replies = {r.event.split(":")[0]: r for r in gateway.rows(ReplyItem)}
    assert "Lampu akan diganti besok." in replies["response"].text
    assert "sedang ditindaklanjuti" in next(
        r.text for r in gateway.rows(ReplyItem) if r.event.startswith("status:in_progress")
    )


def test_sync_leaves_a_report_in_flight_alone(gateway: Any) -> None:
    """Issue 8.8: the central accepted a report, the forwarder has not recorded it yet.

    The sync sees `received` in the changes feed; acting on it would tell the citizen
    "nomor lacak None". It must wait, and read the change again later.
    """
    gateway.post("web", {"body": "Sampah menumpuk", "external_id": "f-1"})
    (report,) = gateway.rows(Report)
    gateway.runtime.client.submit(report.payload)  # the call went out; no receipt recorded
    sync = gateway.runtime.status_sync()
    assert sync.run_once() == 0
    assert gateway.rows(ReplyItem) == []
    assert "status" not in events(gateway, report.id)
    assert gateway.drain() == 1  # the forwarder records the receipt: the same tracking id
    set_status(gateway, gateway.rows(Report)[0].tracking_id, "verified")
    sync.run_once()
    texts = [r.text for r in gateway.rows(ReplyItem)]
    assert [r.event.split(":")[0] for r in gateway.rows(ReplyItem)] == ["ack", "status"]
    assert all("None" not in text for text in texts)
    assert "sudah diverifikasi" in texts[1]


def test_returned_report_is_rerouted_keeping_the_tracking_id(gateway: Any) -> None:
    gateway.post("web", {"body": "jembatan putus", "external_id": "r-1"})
    gateway.drain()
    (report,) = forwarded(gateway)
    tracking_id = report.tracking_id
    set_status(gateway, tracking_id, "returned", agency="upt-jalan", note="Bukan kewenangan UPT")
    gateway.runtime.status_sync().run_once()
    assert gateway.drain() == 1  # the reroute call
    (report,) = forwarded(gateway)
    assert report.tracking_id == tracking_id
    assert report.agency == "dinas-pupr" and report.hops == ["upt-jalan"]
    (central,) = gateway.central_reports()
    assert central["tracking_id"] == tracking_id and central["agency"] == "dinas-pupr"
    assert "rerouted" in events(gateway, report.id)


def test_unreachable_central_retries_then_delivers(db_url: str, tmp_path: Any) -> None:
    from tests.conftest import _harness
    from tests.helpers import free_port, start_sandbox

    port = free_port()

    class Later:
        url = f"http://127.0.0.1:{port}"

    for harness in _harness(db_url, Later(), tmp_path):
        harness.post("web", {"body": "Sampah menumpuk", "external_id": "u-1"})
        harness.forwarder.run_once()
        (item,) = harness.rows(ForwardItem)
        assert item.state == "pending" and item.attempts == 1
        assert "connection_error" in (item.last_error or "")
        sandbox = start_sandbox(tmp_path, port=port)
        try:
            import time

            deadline = time.monotonic() + 10
            while harness.rows(Report)[0].state != "submitted" and time.monotonic() < deadline:
                harness.drain()
                time.sleep(0.1)
            (report,) = forwarded(harness)
            assert report.state == "submitted"
            assert len(requests.get(f"{sandbox.url}/sandbox/reports.json", timeout=5).json()) == 1
        finally:
            sandbox.stop()


def test_wrong_token_is_a_dead_letter_and_replay_delivers(db_url: str, tmp_path: Any) -> None:
    from click.testing import CliRunner

    from forwarder.targets.lapor import LaporClient
    from gateway.cli import main
    from tests.conftest import _harness
    from tests.helpers import start_sandbox

    sandbox = start_sandbox(tmp_path)
    try:
        for harness in _harness(db_url, sandbox, tmp_path):
            harness.post("web", {"body": "Air keruh", "external_id": "d-1"})
            harness.forwarder.client = LaporClient(sandbox.url, "wrong-token")
            harness.drain()
            (report,) = harness.rows(Report)
            (item,) = harness.rows(ForwardItem)
            assert report.state == "dead" and item.state == "dead"
            assert "401" in (item.last_error or "") and "unauthorized" in (item.last_error or "")
            assert "dead_letter" in events(harness, report.id)
            metrics = harness.client.get("/metrics").get_data(as_text=True)
            assert 'sp4n_dead_letters{queue="forward"} 1.0' in metrics
            config_file = tmp_path / "gw.yaml"
            from tests.helpers import config_text

            config_file.write_text(config_text(db_url, sandbox.url), encoding="utf-8")
            result = CliRunner(
                env={"CENTRAL_TOKEN": "test-token", "WEB_SECRET": "web-secret-0123456789"}
            ).invoke(main, ["replay", "--config", str(config_file), "--dead"])
            assert result.exit_code == 0, result.output
            assert report.id in result.output
            harness.forwarder.client = LaporClient(sandbox.url, "test-token")
            harness.drain()
            (report,) = forwarded(harness)
            assert report.state == "submitted"
            assert len(harness.central_reports()) == 1
    finally:
        sandbox.stop()


def test_letter_becomes_a_report_with_the_letter_block(gateway: Any) -> None:
    import datetime as dt

    adapter = gateway.runtime.adapters["surat"]
    assert isinstance(adapter, LetterAdapter)
    entry = LetterEntry(
        body="Dengan hormat, kami melaporkan jalan rusak di RT 02.",
        received_at=dt.datetime.now(dt.UTC),
        sender_name="Pak RT",
        number="005/RT02/XI/2026",
        date=dt.date(2026, 11, 20),
        entered_by="admin1",
    )
    (outcome,) = gateway.runtime.intake.accept(adapter, [adapter.message_from_entry(entry)])
    (again,) = gateway.runtime.intake.accept(adapter, [adapter.message_from_entry(entry)])
    assert outcome.created and not again.created and again.report_id == outcome.report_id
    gateway.drain()
    (report,) = forwarded(gateway)
    assert report.payload["letter"] == {
        "number": "005/RT02/XI/2026",
        "date": "2026-11-20",
        "sender_organisation": None,
        "entered_by": "admin1",
    }
    assert report.payload["channel"] == {"name": "surat", "type": "letter"}
    assert report.state == "submitted"


def test_health_and_metrics(gateway: Any) -> None:
    assert gateway.client.get("/healthz").get_json() == {"status": "ok"}
    ready = gateway.client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"]["database"] == "ok"
    gateway.post("web", {"body": "x y z", "external_id": "m-1"})
    gateway.post("web", {"name": "no body"})
    gateway.drain()
    text = gateway.client.get("/metrics").get_data(as_text=True)
    assert 'sp4n_inbound_messages_total{channel="web",result="accepted"} 1.0' in text
    assert 'sp4n_inbound_messages_total{channel="web",result="rejected"} 1.0' in text
    assert 'sp4n_outbox_depth{queue="forward",state="done"} 1.0' in text
    assert "sp4n_forward_latency_seconds_count 1.0" in text
    assert 'sp4n_dead_letters{queue="forward"} 0.0' in text
