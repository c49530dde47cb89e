"""A central newer than the contract: statuses it does not name are read at the boundary.

The sandbox plays a central that moves reports to a status the contract lacks (`on_hold`)
and answers submissions with one (`queued_for_review`). Nothing crashes, nothing of those
statuses is recorded, the report keeps its last known status, and the rest still applies.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from store.models import ReplyItem, Report, TimelineEvent
from store.states import ReportState
from tests.gateway.test_sync_history import add_response, set_status, status_events
from tests.helpers import start_sandbox
from vocabulary.central import CentralStatus

NAME, PHONE = "Siti Aminah", "081234567890"
BODY = "Saluran air tersumbat di depan rumah nomor 12, air meluap ke jalan."


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Any]:
    """Overrides the shared sandbox: this central speaks a newer contract."""
    server = start_sandbox(
        tmp_path, extra_statuses=("on_hold",), receipt_status="queued_for_review"
    )
    yield server
    server.stop()


def _submitted(gateway: Any, external_id: str) -> Report:
    payload = {"body": BODY, "name": NAME, "phone": PHONE, "external_id": external_id}
    assert gateway.post("web", payload).status_code < 300
    gateway.drain()
    (report,) = gateway.rows(Report)
    return report


def _replies(gateway: Any) -> list[ReplyItem]:
    return sorted(gateway.rows(ReplyItem), key=lambda r: (r.created_at, r.id))


def _no_personal_data(caplog: pytest.LogCaptureFixture) -> None:
    for text in (NAME, PHONE, "6281234567890", BODY[:20]):
        assert text not in caplog.text


def test_a_receipt_with_an_unknown_status_still_submits(
    gateway: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="forwarder"):
        report = _submitted(gateway, "n-1")
    # Submitted with its tracking id (the citizen is acknowledged), but no status yet.
    assert report.state is ReportState.SUBMITTED and report.tracking_id
    assert report.central_status is None
    assert [r.event for r in gateway.rows(ReplyItem)] == ["ack"]
    assert f"report {report.id}" in caplog.text and "does not know" in caplog.text
    _no_personal_data(caplog)
    # The sync then reads the status the central's history has.
    gateway.runtime.status_sync().run_once()
    (report,) = gateway.rows(Report)
    assert report.central_status is CentralStatus.RECEIVED


def test_a_status_outside_the_contract_is_ignored_and_the_last_known_kept(
    gateway: Any, caplog: pytest.LogCaptureFixture
) -> None:
    report = _submitted(gateway, "n-2")
    tid = str(report.tracking_id)
    sync = gateway.runtime.status_sync()
    set_status(gateway, tid, "verified", at="2026-11-02T02:00:00Z")
    sync.run_once()
    told = len(_replies(gateway))
    # The central moves it to a status the contract lacks, with an agency response.
    set_status(gateway, tid, "on_hold", at="2026-11-03T03:00:00Z")
    add_response(gateway, tid, "Petugas akan datang minggu depan.")
    with caplog.at_level(logging.WARNING, logger="forwarder.sync"):
        assert sync.run_once() == 1  # the response was new
    (report,) = gateway.rows(Report)
    assert report.central_status is CentralStatus.VERIFIED  # the last known one
    assert [e.detail["status"] for e in status_events(gateway, report.id)] == [
        "received",
        "verified",
    ]
    responses = [e for e in gateway.rows(TimelineEvent) if e.event == "response"]
    assert [e.detail["text"] for e in responses] == ["Petugas akan datang minggu depan."]
    new = _replies(gateway)[told:]
    assert [r.event.split(":")[0] for r in new] == ["response"]  # no status told
    assert "'on_hold'" in caplog.text and report.id in caplog.text
    _no_personal_data(caplog)
    # The next status the contract knows is recorded and told as usual.
    set_status(gateway, tid, "in_progress", at="2026-11-04T04:00:00Z")
    sync.run_once()
    (report,) = gateway.rows(Report)
    assert report.central_status is CentralStatus.IN_PROGRESS
    assert [e.detail["status"] for e in status_events(gateway, report.id)][-1] == "in_progress"
    last = _replies(gateway)[-1]
    assert last.event.startswith("status:in_progress:")


def test_the_sandbox_refuses_an_unknown_status_unless_told(sandbox: Any, tmp_path: Path) -> None:
    """The plain sandbox keeps to the contract; only the knob lets `on_hold` through."""
    import requests

    (tmp_path / "plain").mkdir()
    plain = start_sandbox(tmp_path / "plain")
    try:
        response = requests.post(
            f"{plain.url}/sandbox/reports/LPR0000000/status",
            json={"status": "on_hold"},
            timeout=5,
        )
        assert response.status_code == 422
        assert "on_hold" not in response.json()["error"]["message"]
    finally:
        plain.stop()
    known = requests.post(
        f"{sandbox.url}/sandbox/reports/LPR0000000/status", json={"status": "on_hold"}, timeout=5
    )
    assert known.status_code == 404  # accepted as a status; that report does not exist
