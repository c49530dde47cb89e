"""The coordination table: one report's outcome, and whole tables checked against known events."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from forwarder.sla.calendar import WorkingCalendar
from forwarder.sla.clocks import SlaRules
from forwarder.sla.table import (
    CoordinationTable,
    GroupBy,
    Progress,
    TableRow,
    coordination_table,
    outcome,
    percentile,
)
from store import migrate
from store.db import make_engine, make_sessionmaker
from store.sla import ReportTimeline, StatusEvent
from tests import sla_data

WIB = sla_data.WIB
RULES = SlaRules(calendar=WorkingCalendar())


def wib(month: int, day: int, hour: int = 9, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, 0, tzinfo=WIB)


def timeline(
    *statuses: tuple[dt.datetime, str, str | None], agency: str = "dinas-pupr"
) -> ReportTimeline:
    first = statuses[0][0] if statuses else wib(11, 2)
    return ReportTimeline(
        "r1",
        "LPR1",
        "web",
        agency,
        first,
        first,
        tuple(StatusEvent(at, status, ag) for at, status, ag in statuses),
    )


def test_days_to_first_response_and_completion_skip_christmas_and_cuti_bersama() -> None:
    # Wednesday 23 Dec 2026; 24 (cuti bersama), 25 (Natal), 26-27 (weekend) do not count.
    item = outcome(
        timeline(
            (wib(12, 23, 10), "received", "nasional"),
            (wib(12, 23, 11), "dispositioned", "dinas-pupr"),
            (wib(12, 28, 9), "in_progress", "dinas-pupr"),
            (wib(12, 30, 9), "completed", "dinas-pupr"),
        ),
        RULES,
        wib(12, 31, 12),
    )
    assert (item.response_days, item.completion_days) == (1, 3)
    assert item.progress is Progress.COMPLETED
    assert item.last_activity == wib(12, 30, 9)
    assert item.clocked and not item.overdue


def test_a_returned_report_is_measured_for_the_agency_that_has_it() -> None:
    statuses = [
        (wib(11, 2), "received", "upt-jalan"),
        (wib(11, 2, 10), "in_progress", "upt-jalan"),
        (wib(11, 9), "returned", "upt-jalan"),
        (wib(11, 10), "received", "dinas-pupr"),  # Tuesday
        (wib(11, 12), "in_progress", "dinas-pupr"),  # Thursday: 2 working days
    ]
    item = outcome(timeline(*statuses), RULES, wib(11, 13, 12))
    assert item.response_days == 2 and item.completion_days is None
    assert item.progress is Progress.IN_PROCESS
    # Its first agency's late verification is not held against the second one.
    assert not item.overdue
    returned_only = outcome(timeline(*statuses[:4]), RULES, wib(11, 13, 12))
    assert returned_only.progress is Progress.NOT_FOLLOWED_UP
    assert returned_only.response_days is None


def test_progress_archived_overdue_and_unforwarded() -> None:
    archived = outcome(
        timeline((wib(11, 2), "received", None), (wib(11, 3), "archived", None)),
        RULES,
        wib(12, 20),
    )
    assert archived.progress is Progress.ARCHIVED and not archived.overdue
    waiting = outcome(timeline((wib(11, 2), "received", None)), RULES, wib(11, 6, 0))
    assert waiting.progress is Progress.NOT_FOLLOWED_UP
    assert waiting.overdue  # due Thursday 5 Nov, still not dispositioned on Friday
    never = outcome(
        ReportTimeline("r2", None, "web", "nasional", wib(11, 2), None, ()), RULES, wib(11, 6)
    )
    assert (never.clocked, never.overdue, never.progress) == (
        False,
        False,
        Progress.NOT_FOLLOWED_UP,
    )


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.9) is None
    assert percentile([4], 0.9) == 4
    assert percentile(list(range(1, 11)), 0.9) == 9
    assert percentile(list(range(1, 12)), 0.9) == 10


def check_row(row: TableRow, want: sla_data.Expected) -> None:
    """Every figure of a row against the one computed from the scenarios."""
    label = row.label
    assert row.reports == want.reports, label
    assert row.last_activity == want.last_activity, label
    assert row.response_avg == pytest.approx(want.avg(want.response)), label
    assert row.response_p90 == want.p90(want.response), label
    assert row.completion_avg == pytest.approx(want.avg(want.completion)), label
    assert row.completion_p90 == want.p90(want.completion), label
    assert row.counts == {
        Progress.NOT_FOLLOWED_UP: want.not_followed_up,
        Progress.IN_PROCESS: want.in_process,
        Progress.COMPLETED: want.completed,
        Progress.ARCHIVED: want.archived,
    }, label
    assert (row.clocked, row.overdue) == (want.clocked, want.overdue), label
    assert row.on_time_share == pytest.approx(want.share), label


def check_table(table: CoordinationTable, want: dict[str, sla_data.Expected]) -> None:
    for row in table.rows:
        check_row(row, want.get(row.key, sla_data.Expected()))
    total = sla_data.Expected()
    for part in want.values():
        for name in ("reports", "not_followed_up", "in_process", "completed", "archived"):
            setattr(total, name, getattr(total, name) + getattr(part, name))
        total.clocked += part.clocked
        total.overdue += part.overdue
        total.response += part.response
        total.completion += part.completion
        if part.last_activity is not None:
            total.last_activity = max(total.last_activity or part.last_activity, part.last_activity)
    check_row(table.total, total)


@pytest.mark.parametrize("by", ["agency", "channel"])
def test_table_figures_match_the_events(db_url: str, tmp_path: Path, by: GroupBy) -> None:
    now = dt.datetime.now(dt.UTC)
    today = sla_data.local(now)
    items = sla_data.scenarios(today)
    first, last = sla_data.period(today)
    want = sla_data.expected_rows(items, first, last, now, by)
    # The scenarios cover every case the table tells apart.
    assert {"upt-jalan", "dinas-pupr", "inspektorat"} <= set(want) or by == "channel"
    assert sum(w.completed for w in want.values()) >= 3
    assert sum(w.in_process for w in want.values()) >= 3
    assert sum(w.archived for w in want.values()) >= 1
    assert sum(w.not_followed_up for w in want.values()) >= 3
    assert 0 < sum(w.overdue for w in want.values()) < sum(w.clocked for w in want.values())
    engine = make_engine(db_url, base_dir=tmp_path)
    try:
        migrate.upgrade(engine)
        sessions = make_sessionmaker(engine)
        with sessions.begin() as session:
            sla_data.seed(session, items)
        labels = (
            {
                "upt-jalan": "UPT Jalan",
                "dinas-pupr": "Dinas PUPR",
                "inspektorat": "Inspektorat",
                "nasional": "Admin Nasional",
            }
            if by == "agency"
            else {"web": "web", "surat": "surat", "lapor": "lapor"}
        )
        with sessions() as session:
            table = coordination_table(
                session,
                RULES,
                first,
                last,
                by=by,
                labels=labels,
                now=now,
            )
    finally:
        engine.dispose()
    assert [r.key for r in table.rows] == sorted(labels, key=lambda k: labels[k].casefold())
    empty = next(r for r in table.rows if r.key in ("nasional", "lapor"))
    assert (empty.reports, empty.last_activity, empty.on_time_share) == (0, None, None)
    check_table(table, want)
    assert table.total.reports == len(items) - 2  # the two outside the period are not in it


def test_the_citizens_sixty_days_count_against_the_agency_now_holding_it() -> None:
    history = [
        (wib(8, 3), "received", "upt-jalan"),
        (wib(8, 4), "dispositioned", "upt-jalan"),
        (wib(10, 5), "returned", "upt-jalan"),
        (wib(10, 5, 10), "received", "dinas-pupr"),
    ]
    item = outcome(timeline(*history), RULES, wib(10, 6, 12))
    # Its own verification clock is on time (day 1 of 3), but 60 days since 3 Aug are over.
    assert item.overdue and item.progress is Progress.NOT_FOLLOWED_UP
    assert not outcome(timeline(*history), RULES, wib(10, 2, 12)).overdue
