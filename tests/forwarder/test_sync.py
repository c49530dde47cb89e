"""The status sync against a central whose changes feed is scripted page by page.

Which report each change belongs to (by gateway id, else by tracking id), what lands on the
timeline and in the reply queue, and where the next pass starts reading: every page is read
once per pass, a change of a report still in flight is read again, nothing is told twice.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from forwarder.sync import CURSOR_KEY, OVERLAP
from forwarder.targets.lapor import ChangesPage
from store.models import ReplyItem, Report, SyncState, TimelineEvent
from store.states import ReportState
from tests.adapters.sms.fakes import FakeServer, Seen, json_answer
from tests.conftest import GatewayHarness, _harness

PAGES: dict[str | None, dict[str, Any]] = {
    None: {
        "items": [
            {
                "tracking_id": "LPR1111111",
                "gateway_id": "01SYNCREPORT00000000000001",
                "status": "verified",
                "updated_at": "2026-11-30T03:00:00Z",
                "agency": "upt-jalan",
                "history": [
                    {"status": "received", "at": "2026-11-30T01:00:00Z", "note": "masuk"},
                    {
                        "status": "verified",
                        "at": "2026-11-30T03:00:00Z",
                        "note": "Sudah dicek petugas",
                    },
                ],
                "responses": [{"id": "r-1", "agency": "dinas-pupr", "text": "Akan kami perbaiki."}],
            },
            {  # accepted by the central, receipt not yet recorded: read again later
                "tracking_id": "LPR3333333",
                "gateway_id": "01SYNCREPORT00000000000003",
                "status": "received",
                "updated_at": "2026-11-30T01:00:00Z",
            },
        ],
        "next_cursor": "page-2",
    },
    "page-2": {
        "items": [
            {  # no gateway id: found by its tracking id
                "tracking_id": "LPR2222222",
                "status": "in_progress",
                "updated_at": "2026-11-30T05:00:00+00:00",
            },
            {  # not ours
                "tracking_id": "LPR9999999",
                "gateway_id": "01SOMEONEELSE0000000000000",
                "status": "closed",
                "updated_at": "2026-11-30T06:00:00Z",
            },
        ],
        "next_cursor": None,
    },
}


class Feed:
    """A central serving PAGES by cursor and recording each request's query."""

    def __init__(self) -> None:
        self.queries: list[dict[str, list[str]]] = []
        self.server = FakeServer(self.answer)
        self.url = self.server.url

    def answer(self, seen: Seen) -> tuple[int, dict[str, str], bytes]:
        query = parse_qs(urlsplit(seen.path).query)
        self.queries.append(query)
        return json_answer(200, PAGES[query.get("cursor", [None])[0]])


@pytest.fixture
def feed() -> Iterator[Feed]:
    central = Feed()
    yield central
    central.server.stop()


@pytest.fixture
def harness(db_url: str, feed: Feed, tmp_path: Path) -> Iterator[GatewayHarness]:
    for harness in _harness(db_url, feed, tmp_path):
        with harness.runtime.sessions.begin() as session:
            for n, tracking_id in ((1, "LPR1111111"), (2, "LPR2222222"), (3, None)):
                session.add(
                    Report(
                        id=f"01SYNCREPORT{n:014d}",
                        channel="web",
                        channel_type="webform",
                        external_id=str(n),
                        kind="pengaduan",
                        agency="upt-jalan",
                        hops=[],
                        payload={},
                        reply_to={},
                        state=ReportState.SUBMITTED if tracking_id else ReportState.QUEUED,
                        tracking_id=tracking_id,
                        central_status="received" if tracking_id else None,
                    )
                )
        yield harness


def timeline(harness: GatewayHarness, event: str) -> list[tuple[str, dict[str, Any]]]:
    return [(e.report_id[-1], e.detail) for e in harness.rows(TimelineEvent) if e.event == event]


def test_a_pass_reads_every_page_and_tells_each_change_once(
    harness: GatewayHarness, feed: Feed
) -> None:
    sync = harness.runtime.status_sync()
    sync.page_size = 2
    assert sync.run_once() == 2  # report 1 and report 2; report 3 is in flight
    assert [(q["updated_since"], q.get("cursor"), q["limit"]) for q in feed.queries] == [
        (["1970-01-01T00:00:00Z"], None, ["2"]),
        (["1970-01-01T00:00:00Z"], ["page-2"], ["2"]),
    ]
    reports = {r.id[-1]: r for r in harness.rows(Report)}
    assert (reports["1"].central_status, reports["2"].central_status) == ("verified", "in_progress")
    assert reports["1"].central_updated_at == dt.datetime(2026, 11, 30, 3, tzinfo=dt.UTC)
    assert reports["3"].central_status is None
    # Every history entry once, in order, at the central's own time (issue 12.2); an item
    # without a history is one entry at its `updated_at`.
    assert timeline(harness, "status") == [
        (
            "1",
            {
                "status": "received",
                "agency": None,
                "note": "masuk",
                "central": "received@2026-11-30T01:00:00+00:00",
            },
        ),
        (
            "1",
            {
                "status": "verified",
                "agency": None,
                "note": "Sudah dicek petugas",
                "central": "verified@2026-11-30T03:00:00+00:00",
            },
        ),
        (
            "2",
            {
                "status": "in_progress",
                "agency": None,
                "note": None,
                "central": "in_progress@2026-11-30T05:00:00+00:00",
            },
        ),
    ]
    assert timeline(harness, "response") == [
        ("1", {"id": "r-1", "agency": "dinas-pupr", "text": "Akan kami perbaiki."})
    ]
    assert sorted((r.report_id[-1], r.event) for r in harness.rows(ReplyItem)) == [
        ("1", "response:r-1"),
        ("1", "status:verified:2026-11-30T03:00:00Z"),
        ("2", "status:in_progress:2026-11-30T05:00:00Z"),
    ]
    # The next pass starts at the oldest change still waiting (report 3's), a sliver early.
    (state,) = [s for s in harness.rows(SyncState) if s.key == CURSOR_KEY]
    start = dt.datetime(2026, 11, 30, 1, tzinfo=dt.UTC) - OVERLAP
    assert state.value == start.isoformat().replace("+00:00", "Z")
    assert sync.run_once() == 0  # the same feed again: nothing new
    assert feed.queries[2]["updated_since"] == [state.value]
    assert len(harness.rows(ReplyItem)) == 3 and len(timeline(harness, "status")) == 3


def test_an_older_change_never_overwrites_a_newer_one(harness: GatewayHarness) -> None:
    sync = harness.runtime.status_sync()
    with harness.runtime.sessions.begin() as session:
        newer = {
            "tracking_id": "LPR1111111",
            "gateway_id": "01SYNCREPORT00000000000001",
            "status": "completed",
            "updated_at": "2026-11-30T08:00:00Z",
        }
        assert sync.apply(session, newer) is True
        late = {**newer, "status": "in_progress", "updated_at": "2026-11-30T07:59:59Z"}
        sync.apply(session, late)  # kept on the timeline at its own time, for the clocks
        assert session.get(Report, "01SYNCREPORT00000000000001").central_status == "completed"
        # An off-contract history entry without its time is taken at the item's time.
        timeless = {**newer, "history": [{"status": "completed"}]}
        sync.apply(session, timeless)
        same_time = {**newer, "status": "closed"}
        assert sync.apply(session, same_time) is True  # the same instant: the later read wins
        assert (
            sync.apply(session, {**newer, "tracking_id": "LPR0000000", "gateway_id": ""}) is False
        )
    (report,) = [r for r in harness.rows(Report) if r.tracking_id == "LPR1111111"]
    assert report.central_status == "closed"


class OnePage:
    """A central whose changes feed is one page of these items (no HTTP)."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items

    def changes(self, updated_since: str, cursor: str | None = None, limit: int = 100) -> Any:
        return ChangesPage(items=self.items, next_cursor=None)


def sync_with(harness: GatewayHarness, items: list[dict[str, Any]]) -> int:
    sync = harness.runtime.status_sync()
    sync.client = OnePage(items)
    return sync.run_once()


def test_the_cursor_follows_the_newest_change_not_the_last_listed(
    harness: GatewayHarness,
) -> None:
    items = [
        {  # no history: one entry, with the item's agency
            "tracking_id": "LPR2222222",
            "status": "in_progress",
            "updated_at": "2026-11-30T05:00:00Z",
            "agency": "dinas-pupr",
        },
        {"tracking_id": "LPR9999999", "status": "closed", "updated_at": "2026-11-30T04:00:00Z"},
    ]
    assert sync_with(harness, items) == 1
    assert timeline(harness, "status") == [
        (
            "2",
            {
                "status": "in_progress",
                "agency": "dinas-pupr",
                "note": None,
                "central": "in_progress@2026-11-30T05:00:00+00:00",
            },
        )
    ]
    (state,) = [s for s in harness.rows(SyncState) if s.key == CURSOR_KEY]
    start = dt.datetime(2026, 11, 30, 5, tzinfo=dt.UTC) - OVERLAP
    assert state.value == start.isoformat().replace("+00:00", "Z")


def test_the_citizen_hears_the_note_and_the_answering_agency(harness: GatewayHarness) -> None:
    items = [
        {
            "tracking_id": "LPR1111111",
            "gateway_id": "01SYNCREPORT00000000000001",
            "status": "verified",
            "updated_at": "2026-11-30T03:00:00Z",
            "history": [
                {"status": "verified", "at": "2026-11-30T03:00:00Z", "note": "Sudah dicek"},
                {"status": "received", "at": "2026-11-30T01:00:00Z", "note": "masuk"},
            ],
        },
        {
            "tracking_id": "LPR2222222",
            "status": "completed",
            "updated_at": "2026-11-30T05:00:00Z",
            "agency": "upt-jalan",
            "responses": [{"id": "r-9", "agency": "dinas-pupr", "text": "Lubang sudah ditambal."}],
        },
    ]
    assert sync_with(harness, items) == 2
    replies = {r.report_id[-1]: r for r in harness.rows(ReplyItem)}
    assert replies["1"].event == "status:verified:2026-11-30T03:00:00Z"
    assert replies["1"].text.endswith("Sudah dicek")  # the central's note for that status
    assert replies["2"].event == "completion:r-9"
    assert "oleh Dinas PUPR" in replies["2"].text  # who answered, not where it was sent
    assert "Lubang sudah ditambal." in replies["2"].text
