"""Stage clocks: pure functions over a report's statuses, and the one-pass store query."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from forwarder.sla.calendar import WorkingCalendar
from forwarder.sla.clocks import (
    ClockState,
    SlaRules,
    Stage,
    StageClock,
    latest,
    running,
    stage_clocks,
)
from store import migrate
from store.db import make_engine, make_sessionmaker
from store.models import Report, TimelineEvent
from store.sla import ReportTimeline, StatusEvent, iter_timelines
from vocabulary.kinds import Kind

WIB = dt.timezone(dt.timedelta(hours=7))
RULES = SlaRules(calendar=WorkingCalendar())


def wib(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=WIB)


def timeline(
    *statuses: tuple[dt.datetime, str, str | None],
    forwarded: dt.datetime | None = None,
    agency: str = "dinas-pupr",
) -> ReportTimeline:
    return ReportTimeline(
        report_id="r1",
        tracking_id="LPR0000001",
        channel="web",
        agency=agency,
        created_at=forwarded or statuses[0][0],
        forwarded_at=forwarded,
        statuses=tuple(StatusEvent(at, status, ag) for at, status, ag in statuses),
    )


def clock(clocks: list[StageClock], stage: Stage, cycle: int = 0) -> StageClock:
    (found,) = [c for c in clocks if c.stage is stage and c.cycle == cycle]
    return found


FRIDAY_EVENING = timeline((wib(2026, 11, 27, 20, 0), "received", "nasional"))


@pytest.mark.parametrize(
    ("now", "used", "state"),
    [
        (wib(2026, 11, 28, 9, 0), 0, ClockState.ON_TIME),  # Saturday: nothing used
        (wib(2026, 11, 30, 9, 0), 1, ClockState.ON_TIME),  # Monday is day 1
        (wib(2026, 12, 1, 16, 0), 2, ClockState.DUE_SOON),  # one working day left
        (wib(2026, 12, 2, 23, 59), 3, ClockState.DUE_SOON),  # the due day, still in time
        (wib(2026, 12, 3, 0, 0), 4, ClockState.OVERDUE),  # midnight WIB: late
    ],
)
def test_friday_evening_receipt(now: dt.datetime, used: int, state: ClockState) -> None:
    clocks = stage_clocks(FRIDAY_EVENING, RULES, now)
    verification = clock(clocks, Stage.VERIFICATION)
    assert verification.due_on == dt.date(2026, 12, 2)
    assert verification.due_at == dt.datetime(2026, 12, 2, 17, 0, tzinfo=dt.UTC)
    assert (verification.used, verification.state, verification.running) == (used, state, True)
    assert verification.agency == "nasional"
    assert [c.stage for c in running(clocks)] == [Stage.VERIFICATION, Stage.RESOLUTION]


def test_a_report_through_every_stage() -> None:
    history = timeline(
        (wib(2026, 11, 2, 9, 0), "received", "nasional"),
        (wib(2026, 11, 3, 10, 0), "verified", "nasional"),
        (wib(2026, 11, 4, 11, 0), "dispositioned", "upt-jalan"),
        (wib(2026, 11, 12, 8, 0), "in_progress", "upt-jalan"),  # 6 working days: late
        (wib(2026, 11, 16, 8, 0), "completed", "upt-jalan"),
    )
    clocks = stage_clocks(history, RULES, wib(2026, 11, 20, 12, 0))
    verification = clock(clocks, Stage.VERIFICATION)
    assert verification.ended_at == wib(2026, 11, 4, 11, 0)
    assert (verification.used, verification.state) == (2, ClockState.ON_TIME)
    first = clock(clocks, Stage.FIRST_RESPONSE)
    assert first.agency == "upt-jalan" and first.due_on == dt.date(2026, 11, 9)
    assert (first.used, first.state, first.days_left) == (6, ClockState.OVERDUE, -3)
    follow = clock(clocks, Stage.FOLLOW_UP)
    assert (follow.used, follow.state) == (2, ClockState.ON_TIME)
    closure = clock(clocks, Stage.CLOSURE)
    assert closure.running and closure.due_on == dt.date(2026, 11, 30)
    resolution = clock(clocks, Stage.RESOLUTION)
    assert resolution.due_on == dt.date(2027, 1, 1) and resolution.used == 14
    assert resolution.state is ClockState.ON_TIME and not resolution.running
    assert latest(clocks, Stage.FOLLOW_UP) is follow


def test_returned_restarts_the_disposition_clock_at_the_next_agency() -> None:
    history = timeline(
        (wib(2026, 11, 2, 9, 0), "received", "upt-jalan"),
        (wib(2026, 11, 5, 15, 0), "returned", "upt-jalan"),
        (wib(2026, 11, 5, 15, 1), "received", "dinas-pupr"),
    )
    now = wib(2026, 11, 9, 10, 0)
    clocks = stage_clocks(history, RULES, now)
    before = clock(clocks, Stage.VERIFICATION, 0)
    assert before.agency == "upt-jalan" and before.ended_at == wib(2026, 11, 5, 15, 0)
    assert before.state is ClockState.ON_TIME
    after = clock(clocks, Stage.VERIFICATION, 1)
    assert after.agency == "dinas-pupr" and after.started_at == wib(2026, 11, 5, 15, 1)
    assert after.due_on == dt.date(2026, 11, 10)
    assert (after.used, after.state) == (2, ClockState.DUE_SOON)
    # Not restarted, the same report would be overdue (due 5 Nov).
    unrestarted = stage_clocks(
        timeline((wib(2026, 11, 2, 9, 0), "received", "upt-jalan")), RULES, now
    )
    assert clock(unrestarted, Stage.VERIFICATION).state is ClockState.OVERDUE
    # The citizen's resolution clock is not restarted.
    assert clock(clocks, Stage.RESOLUTION).started_at == wib(2026, 11, 2, 9, 0)


def test_no_status_back_is_clocked_from_forwarding() -> None:
    forwarded = wib(2026, 12, 23, 14, 0)  # Wednesday before Natal and its cuti bersama
    clocks = stage_clocks(timeline(forwarded=forwarded), RULES, wib(2026, 12, 29, 9, 0))
    verification = clock(clocks, Stage.VERIFICATION)
    assert verification.started_at == forwarded and verification.agency == "dinas-pupr"
    assert verification.due_on == dt.date(2026, 12, 30)  # 28, 29, 30 Dec
    assert verification.state is ClockState.DUE_SOON and verification.used == 2
    # Neither forwarded nor answered: no clock at all.
    empty = ReportTimeline("r2", None, "web", "nasional", forwarded, None, ())
    assert stage_clocks(empty, RULES, forwarded) == []


def test_received_on_a_holiday() -> None:
    clocks = stage_clocks(
        timeline((wib(2025, 3, 31, 10, 0), "received", None)), RULES, wib(2025, 4, 7, 9, 0)
    )
    verification = clock(clocks, Stage.VERIFICATION)
    assert verification.due_on == dt.date(2025, 4, 10)
    assert verification.used == 0 and verification.state is ClockState.ON_TIME


def test_archived_stops_every_clock() -> None:
    history = timeline(
        (wib(2026, 11, 2, 9, 0), "received", None),
        (wib(2026, 11, 3, 9, 0), "archived", None),
    )
    clocks = stage_clocks(history, RULES, wib(2027, 6, 1, 9, 0))
    assert running(clocks) == []
    assert {c.state for c in clocks} == {ClockState.ON_TIME}


def test_limits_come_from_the_config() -> None:
    strict = SlaRules(calendar=WorkingCalendar(), verification=2, due_soon=0)

    def state(now: dt.datetime) -> ClockState:
        return clock(stage_clocks(FRIDAY_EVENING, strict, now), Stage.VERIFICATION).state

    assert state(wib(2026, 11, 30, 12, 0)) is ClockState.ON_TIME  # day 1 of 2
    assert state(wib(2026, 12, 1, 12, 0)) is ClockState.DUE_SOON  # the due day itself
    assert state(wib(2026, 12, 2, 0, 0)) is ClockState.OVERDUE


# --- the store query ----------------------------------------------------------------------


def _report(session: Any, rid: str, agency: str, created: dt.datetime) -> None:
    session.add(
        Report(
            id=rid,
            channel="web",
            channel_type="webform",
            external_id=rid,
            created_at=created,
            kind=Kind.PENGADUAN,
            agency=agency,
            payload={},
            tracking_id=f"LPR{rid}",
        )
    )


def _event(session: Any, rid: str, name: str, at: dt.datetime, **detail: Any) -> None:
    session.add(TimelineEvent(report_id=rid, event=name, at=at, detail=detail))


def test_timelines_load_in_one_statement(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url, base_dir=tmp_path)
    try:
        migrate.upgrade(engine)
        sessions = make_sessionmaker(engine)
        t0 = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)
        with sessions.begin() as session:
            for i, agency in enumerate(["upt-jalan", "dinas-pupr", "upt-jalan"]):
                _report(session, f"r{i}", agency, t0 + dt.timedelta(hours=i))
            session.flush()
            _event(session, "r0", "received", t0)
            _event(session, "r0", "forwarded", t0 + dt.timedelta(minutes=1), agency="upt-jalan")
            _event(session, "r0", "status", t0 + dt.timedelta(minutes=2), status="received")
            _event(session, "r0", "response", t0 + dt.timedelta(days=1), text="x")
            _event(
                session, "r0", "status", t0 + dt.timedelta(days=2), status="verified", agency="a"
            )
            _event(session, "r1", "forwarded", t0 + dt.timedelta(hours=1, minutes=1))
        statements: list[str] = []
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        selects = lambda: [s for s in statements if s.lstrip().upper().startswith("SELECT")]  # noqa: E731
        with sessions() as session:
            found = list(iter_timelines(session, batch=2))
            picked = list(iter_timelines(session, agency="upt-jalan"))
        assert len(selects()) == 2  # one per call, whatever the number of reports
        assert [t.report_id for t in found] == ["r0", "r1", "r2"]
        r0, r1, r2 = found
        assert r0.forwarded_at == t0 + dt.timedelta(minutes=1)
        assert r0.statuses == (
            StatusEvent(t0 + dt.timedelta(minutes=2), "received", None),
            StatusEvent(t0 + dt.timedelta(days=2), "verified", "a"),
        )
        assert r0.agency == "upt-jalan" and r0.created_at == t0
        assert r1.statuses == () and r1.forwarded_at is not None
        assert r2.statuses == () and r2.forwarded_at is None
        assert [t.report_id for t in picked] == ["r0", "r2"]
        clocks = stage_clocks(r0, RULES, t0 + dt.timedelta(days=3))
        assert clock(clocks, Stage.VERIFICATION).started_at == t0 + dt.timedelta(minutes=2)
    finally:
        engine.dispose()


STATUSES = ["received", "verified", "dispositioned", "in_progress", "completed", "closed"]


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2028, 12, 1)),
    steps=st.lists(
        st.tuples(
            st.sampled_from([*STATUSES, "returned", "archived"]),
            st.integers(min_value=0, max_value=20 * 24 * 60),
        ),
        max_size=12,
    ),
    later=st.integers(min_value=0, max_value=90 * 24 * 60),
)
def test_clock_invariants(start: dt.datetime, steps: list[tuple[str, int]], later: int) -> None:
    at = start.replace(tzinfo=dt.UTC)
    statuses = []
    for status, gap in [("received", 0), *steps]:
        at += dt.timedelta(minutes=gap)
        statuses.append((at, status, None))
    now = at + dt.timedelta(minutes=later)
    clocks = stage_clocks(timeline(*statuses), RULES, now)
    cal = RULES.calendar
    assert [c.stage for c in clocks].count(Stage.RESOLUTION) == 1
    seen = set()
    for c in clocks:
        assert (c.stage, c.cycle) not in seen
        seen.add((c.stage, c.cycle))
        if c.stage is not Stage.RESOLUTION:
            assert cal.is_working_day(c.due_on)  # due dates never on a non-working day
        assert c.used >= 0
        if c.ended_at is not None:
            assert c.ended_at >= c.started_at
            assert c.state is not ClockState.DUE_SOON
        if c.state is ClockState.OVERDUE and c.ended_at is None:
            assert now >= c.due_at
    # At most the newest cycle has running clocks, and at most one working stage runs.
    live = [c for c in running(clocks) if c.stage is not Stage.RESOLUTION]
    assert len(live) <= 1
    assert all(c.cycle == max(x.cycle for x in clocks) for c in live)


def test_a_stage_ended_at_the_due_midnight_is_late_like_a_running_one() -> None:
    history = timeline(
        (wib(2026, 11, 27, 20, 0), "received", "nasional"),
        (wib(2026, 12, 3, 0, 0), "dispositioned", "upt-jalan"),  # due 2 Dec: midnight is late
    )
    verification = clock(stage_clocks(history, RULES, wib(2026, 12, 4, 9, 0)), Stage.VERIFICATION)
    assert verification.ended_at == verification.due_at
    assert verification.state is ClockState.OVERDUE


def test_the_resolution_clock_belongs_to_the_reports_agency() -> None:
    clocks = stage_clocks(FRIDAY_EVENING, RULES, wib(2026, 11, 30, 9, 0))
    assert clock(clocks, Stage.RESOLUTION).agency == "dinas-pupr"


def test_a_status_outside_the_milestones_does_not_stop_the_reading() -> None:
    history = timeline(
        (wib(2026, 11, 2, 9, 0), "received", "nasional"),
        (wib(2026, 11, 2, 10, 0), "on_hold", "nasional"),  # a newer central's status
        (wib(2026, 11, 3, 10, 0), "dispositioned", "upt-jalan"),
    )
    verification = clock(stage_clocks(history, RULES, wib(2026, 11, 4, 9, 0)), Stage.VERIFICATION)
    assert verification.ended_at == wib(2026, 11, 3, 10, 0)
