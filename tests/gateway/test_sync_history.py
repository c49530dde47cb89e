"""The sync records every status of the central's history, at the central's own time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import requests
from sqlalchemy import delete

from store.models import ReplyItem, Report, SyncState, TimelineEvent


def set_status(harness: Any, tracking_id: str, status: str, **extra: Any) -> None:
    response = requests.post(
        f"{harness.sandbox.url}/sandbox/reports/{tracking_id}/status",
        json={"status": status, **extra},
        timeout=5,
    )
    assert response.status_code < 400, response.text


def status_events(harness: Any, report_id: str) -> list[TimelineEvent]:
    rows = harness.rows(TimelineEvent)
    return sorted(
        (e for e in rows if e.report_id == report_id and e.event == "status"), key=lambda e: e.id
    )


def central_history(harness: Any, tracking_id: str) -> list[dict[str, Any]]:
    headers = {"Authorization": "Bearer test-token"}
    url = f"{harness.sandbox.url}/api/v1/reports/{tracking_id}"
    return list(requests.get(url, headers=headers, timeout=5).json()["history"])


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_every_history_entry_once_in_order_with_its_own_time(gateway: Any) -> None:
    gateway.post("web", {"body": "Jalan rusak di depan pasar", "external_id": "h-1"})
    gateway.drain()
    (report,) = gateway.rows(Report)
    tid = report.tracking_id
    sync = gateway.runtime.status_sync()
    sync.run_once()  # sees `received`: recorded, nothing told (the acknowledgement said it)
    assert [e.detail["status"] for e in status_events(gateway, report.id)] == ["received"]
    assert [r.event for r in gateway.rows(ReplyItem)] == ["ack"]
    # Between two passes the central moves the report three times (backdated, as an agency
    # catching up on its work would).
    set_status(gateway, tid, "verified", at="2026-11-02T02:00:00Z")
    set_status(gateway, tid, "dispositioned", agency="upt-jalan", at="2026-11-03T03:00:00Z")
    set_status(gateway, tid, "in_progress", note="Petugas dijadwalkan", at="2026-11-04T04:30:00Z")
    assert sync.run_once() == 1
    events = status_events(gateway, report.id)
    assert [e.detail["status"] for e in events] == [
        "received",
        "verified",
        "dispositioned",
        "in_progress",
    ]
    history = central_history(gateway, tid)
    assert [e.at for e in events] == [at(h["at"]) for h in history]
    assert events[1].at == dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)
    assert events[2].detail["agency"] == "upt-jalan"
    assert events[3].detail["note"] == "Petugas dijadwalkan"
    # One reply for the pass: the newest status, not three messages at once.
    statuses = [r for r in gateway.rows(ReplyItem) if r.event.startswith("status:")]
    assert len(statuses) == 1 and statuses[0].event.startswith("status:in_progress:")
    assert "sedang ditindaklanjuti" in statuses[0].text
    # Nothing new: nothing recorded, nothing told.
    assert sync.run_once() == 0
    # Reading the whole feed again from the start records nothing twice.
    with gateway.runtime.sessions.begin() as session:
        session.execute(delete(SyncState))
    sync.run_once()
    assert len(status_events(gateway, report.id)) == 4
    assert len([r for r in gateway.rows(ReplyItem) if r.event.startswith("status:")]) == 1
    # The next change is recorded and told.
    set_status(gateway, tid, "completed", at="2026-11-06T05:00:00Z")
    sync.run_once()
    assert [e.detail["status"] for e in status_events(gateway, report.id)][-1] == "completed"
    (report,) = gateway.rows(Report)
    assert report.central_status == "completed"
    assert len([r for r in gateway.rows(ReplyItem) if r.event.startswith("status:")]) == 2


def test_status_events_recorded_by_an_older_sync_are_not_repeated(gateway: Any) -> None:
    """Events from before history recording carry no key: their span is not read again."""
    gateway.post("web", {"body": "Lampu jalan mati", "external_id": "h-2"})
    gateway.drain()
    (report,) = gateway.rows(Report)
    set_status(gateway, report.tracking_id, "verified")
    history = central_history(gateway, report.tracking_id)
    from store.timeline import record_event

    with gateway.runtime.sessions.begin() as session:
        row = session.get(Report, report.id)
        row.central_status = "verified"
        row.central_updated_at = at(history[-1]["at"])
        record_event(session, report.id, "status", status="verified", agency=None, note=None)
    sync = gateway.runtime.status_sync()
    sync.run_once()
    assert [e.detail["status"] for e in status_events(gateway, report.id)] == ["verified"]
    set_status(gateway, report.tracking_id, "in_progress")
    sync.run_once()
    assert [e.detail["status"] for e in status_events(gateway, report.id)] == [
        "verified",
        "in_progress",
    ]


def add_response(harness: Any, tracking_id: str, text: str) -> None:
    response = requests.post(
        f"{harness.sandbox.url}/sandbox/reports/{tracking_id}/responses",
        json={"text": text, "agency": "upt-jalan"},
        timeout=5,
    )
    assert response.status_code < 400, response.text


def test_completion_carries_the_agency_response_once(gateway: Any) -> None:
    gateway.post("web", {"body": "Jalan rusak di RT 03", "external_id": "c-1"})
    gateway.drain()
    (report,) = gateway.rows(Report)
    tid = report.tracking_id
    sync = gateway.runtime.status_sync()
    set_status(gateway, tid, "in_progress")
    sync.run_once()
    # Completed together with the answer: one message with both.
    add_response(gateway, tid, "Jalan sudah ditambal pada 3 Desember.")
    set_status(gateway, tid, "completed")
    sync.run_once()
    replies = [r for r in gateway.rows(ReplyItem) if r.event != "ack"]
    assert [r.event.split(":")[0] for r in replies] == ["status", "completion"]
    completion = replies[-1]
    assert "selesai ditindaklanjuti" in completion.text
    assert "Jalan sudah ditambal pada 3 Desember." in completion.text
    assert tid in completion.text
    # The answer is on the timeline all the same (the reporter's status queries use it).
    responses = [e for e in gateway.rows(TimelineEvent) if e.event == "response"]
    assert [e.detail["text"] for e in responses] == ["Jalan sudah ditambal pada 3 Desember."]
    # Read again: nothing new. A later answer is told on its own.
    sync.run_once()
    assert len([r for r in gateway.rows(ReplyItem) if r.event != "ack"]) == 2
    add_response(gateway, tid, "Foto hasil perbaikan terlampir di LAPOR!.")
    sync.run_once()
    last = [r for r in gateway.rows(ReplyItem) if r.event != "ack"][-1]
    assert last.event.startswith("response:") and "Foto hasil" in last.text


def test_an_answer_told_before_is_not_repeated_at_completion(gateway: Any) -> None:
    gateway.post("web", {"body": "Jembatan retak", "external_id": "c-2"})
    gateway.drain()
    (report,) = gateway.rows(Report)
    tid = report.tracking_id
    sync = gateway.runtime.status_sync()
    add_response(gateway, tid, "Tim akan memeriksa jembatan.")
    sync.run_once()
    set_status(gateway, tid, "completed")
    sync.run_once()
    replies = [r for r in gateway.rows(ReplyItem) if r.event != "ack"]
    assert [r.event.split(":")[0] for r in replies] == ["response", "status"]
    assert "Tim akan memeriksa" not in replies[1].text
    assert "selesai ditindaklanjuti" in replies[1].text
