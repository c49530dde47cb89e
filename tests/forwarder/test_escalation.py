"""No wrong door, up to the top: a refused report climbs the agency tree, and stops there.

Refusal at submission (`out_of_authority`) and a `returned` status seen by the sync both
send the report to the next agency up that has not had it; at the root there is none, and
the report waits for an admin instead of bouncing. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from store.models import ForwardItem, Report, TimelineEvent, TrainingRow
from tests.conftest import GatewayHarness, _harness
from tests.gateway.test_flow import set_status
from tests.helpers import start_sandbox

REFUSED_AT_THE_ROOT = (
    "di luar kewenangan instansi tujuan (HTTP 422, kode out_of_authority, isian"
    " `routing.agency`): nasional cannot act on this report;"
    " nasional mengembalikan laporan dan tidak ada instansi di atasnya"
)


def details(harness: GatewayHarness, event: str) -> list[dict[str, Any]]:
    return [e.detail for e in harness.rows(TimelineEvent) if e.event == event]


def metrics(harness: GatewayHarness) -> str:
    return str(harness.client.get("/metrics").get_data(as_text=True))


def test_refused_on_submission_goes_one_level_up(db_url: str, tmp_path: Path) -> None:
    sandbox = start_sandbox(tmp_path, return_agency="upt-jalan")
    try:
        for harness in _harness(db_url, sandbox, tmp_path):
            harness.post("web", {"body": "jalan rusak di tikungan", "external_id": "e-1"})
            harness.drain()
            (report,) = harness.rows(Report)
            assert (report.state, report.agency, report.hops) == (
                "submitted",
                "dinas-pupr",
                ["upt-jalan"],
            )
            assert details(harness, "rerouted") == [
                {"agency": "dinas-pupr", "reason": "returned by upt-jalan", "hops": ["upt-jalan"]}
            ]
            (item,) = harness.rows(ForwardItem)
            assert (item.state, item.attempts) == ("done", 1)  # the refusal spent no attempt
            text = metrics(harness)
            assert 'sp4n_forward_attempts_total{action="submit",result="out_of_authority"} 1.0' in (
                text
            )
            assert 'sp4n_forward_attempts_total{action="submit",result="ok"} 1.0' in text
    finally:
        sandbox.stop()


def test_refused_by_the_root_is_a_dead_letter(db_url: str, tmp_path: Path) -> None:
    sandbox = start_sandbox(tmp_path, return_agency="nasional")
    try:
        for harness in _harness(db_url, sandbox, tmp_path):
            harness.post("web", {"body": "Pohon tumbang", "external_id": "e-2"})
            harness.drain()
            (report,) = harness.rows(Report)
            (item,) = harness.rows(ForwardItem)
            assert report.state == "dead" and report.agency == "nasional"
            assert item.state == "dead" and item.last_error == REFUSED_AT_THE_ROOT
            assert details(harness, "dead_letter") == [
                {"action": "submit", "error": REFUSED_AT_THE_ROOT}
            ]
            assert details(harness, "rerouted") == []
            assert 'sp4n_dead_letters{queue="forward"} 1.0' in metrics(harness)
            assert harness.central_reports() == []
    finally:
        sandbox.stop()


def test_returned_by_a_higher_agency_than_addressed(gateway: GatewayHarness) -> None:
    """The parent itself returns it: the report goes above the parent, not back to it."""
    gateway.post("web", {"body": "jembatan retak", "external_id": "e-3"})
    gateway.drain()
    (report,) = gateway.rows(Report)
    assert report.agency == "upt-jalan"
    set_status(gateway, report.tracking_id, "returned", agency="dinas-pupr", note="Bukan kami")
    gateway.runtime.status_sync().run_once()
    (report,) = gateway.rows(Report)
    assert (report.agency, report.hops) == ("pemkab", ["upt-jalan", "dinas-pupr"])
    assert details(gateway, "rerouted") == [
        {
            "agency": "pemkab",
            "reason": "returned by dinas-pupr",
            "hops": ["upt-jalan", "dinas-pupr"],
        }
    ]
    reroute = [i for i in gateway.rows(ForwardItem) if i.action == "reroute"]
    assert [(i.state, i.attempts) for i in reroute] == [("pending", 0)]
    # A reroute teaches the learned routing where the report belonged.
    (row,) = gateway.rows(TrainingRow)
    assert (row.report_id, row.agency, row.previous_agency, row.source) == (
        report.id,
        "pemkab",
        "upt-jalan",
        "reroute",
    )
    assert gateway.drain() == 1
    (central,) = gateway.central_reports()
    assert central["agency"] == "pemkab"


def test_returned_at_the_root_waits_for_an_admin(gateway: GatewayHarness) -> None:
    gateway.post("web", {"body": "Pohon tumbang", "external_id": "e-4"})
    gateway.drain()
    (report,) = gateway.rows(Report)
    assert report.agency == "nasional"
    set_status(gateway, report.tracking_id, "returned", agency="nasional")
    gateway.runtime.status_sync().run_once()
    assert details(gateway, "reroute_impossible") == [
        {"reason": "nasional mengembalikan laporan dan tidak ada instansi di atasnya"}
    ]
    assert details(gateway, "rerouted") == [] and gateway.rows(TrainingRow) == []
    assert [i.action for i in gateway.rows(ForwardItem)] == ["submit"]
    assert gateway.rows(Report)[0].agency == "nasional"


def test_a_move_by_the_central_teaches_the_learned_routing(gateway: GatewayHarness) -> None:
    gateway.post("web", {"body": "jalan rusak di pasar", "external_id": "e-5"})
    gateway.drain()
    (report,) = gateway.rows(Report)
    sync = gateway.runtime.status_sync()
    # The same agency, or an agency this gateway does not know: nothing to learn.
    for status, agency in (("verified", "upt-jalan"), ("in_progress", "kementerian-x")):
        set_status(gateway, report.tracking_id, status, agency=agency)
        assert sync.run_once() == 1
        assert gateway.rows(TrainingRow) == []
    set_status(gateway, report.tracking_id, "dispositioned", agency="dinas-pupr")
    sync.run_once()
    (row,) = gateway.rows(TrainingRow)
    assert (row.report_id, row.agency, row.previous_agency, row.source) == (
        report.id,
        "dinas-pupr",
        "upt-jalan",
        "central",
    )
    assert details(gateway, "agency_corrected") == [
        {"agency": "dinas-pupr", "previous": "upt-jalan", "source": "central"}
    ]
