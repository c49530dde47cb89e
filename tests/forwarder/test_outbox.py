"""Outbox mechanics on real databases: leases, backoff with full jitter, replay."""

from __future__ import annotations

import datetime as dt
import os
import random
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from config.schema import ForwarderSection
from forwarder import claiming, outbox
from forwarder.claiming import ClaimLoop
from store import migrate
from store.db import make_engine, make_sessionmaker
from store.models import ForwardItem, Report, utcnow
from store.states import ForwardState, ReportState


@pytest.fixture
def sessions(db_url: str, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url, base_dir=tmp_path)
    migrate.upgrade(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def add_reports(sessions: sessionmaker[Session], n: int) -> None:
    with sessions.begin() as session:
        for i in range(n):
            rid = f"01TESTREPORT{i:014d}"
            session.add(
                Report(
                    id=rid,
                    channel="web",
                    channel_type="webform",
                    external_id=str(i),
                    kind="pengaduan",
                    agency="nasional",
                    hops=[],
                    payload={"id": rid},
                    reply_to={},
                )
            )
            session.flush()
            session.add(ForwardItem(report_id=rid, action="submit"))


def test_claims_do_not_overlap_and_leases_expire(sessions: sessionmaker[Session]) -> None:
    add_reports(sessions, 10)
    with sessions.begin() as s:
        first = {
            i.id for i in outbox.claim_due(s, ForwardItem, owner="a", limit=6, lease_seconds=60)
        }
    with sessions.begin() as s:
        second = {
            i.id for i in outbox.claim_due(s, ForwardItem, owner="b", limit=6, lease_seconds=60)
        }
    assert len(first) == 6 and len(second) == 4 and not first & second
    later = utcnow() + dt.timedelta(seconds=61)
    with sessions.begin() as s:
        again = outbox.claim_due(s, ForwardItem, owner="c", limit=100, lease_seconds=60, now=later)
    assert len(again) == 10  # a crashed owner's rows come back once its lease runs out


def test_release_all_leases(sessions: sessionmaker[Session]) -> None:
    add_reports(sessions, 3)
    with sessions.begin() as s:
        outbox.claim_due(s, ForwardItem, owner="dead-process", limit=3, lease_seconds=3600)
    with sessions.begin() as s:
        assert outbox.release_all_leases(s) == 3
    with sessions.begin() as s:
        assert len(outbox.claim_due(s, ForwardItem, owner="x", limit=9, lease_seconds=1)) == 3


def test_retry_later_is_not_due_now(sessions: sessionmaker[Session]) -> None:
    add_reports(sessions, 1)
    with sessions.begin() as s:
        (item,) = outbox.claim_due(s, ForwardItem, owner="a", limit=1, lease_seconds=60)
        outbox.schedule_retry(item, "HTTP 503", 30)
    with sessions.begin() as s:
        assert outbox.claim_due(s, ForwardItem, owner="a", limit=1, lease_seconds=60) == []
        (item,) = outbox.claim_due(
            s,
            ForwardItem,
            owner="a",
            limit=1,
            lease_seconds=60,
            now=utcnow() + dt.timedelta(seconds=31),
        )
        assert item.attempts == 1 and item.last_error == "HTTP 503"


def test_replay_dead_and_one_report(sessions: sessionmaker[Session]) -> None:
    add_reports(sessions, 2)
    with sessions.begin() as s:
        for item in outbox.claim_due(s, ForwardItem, owner="a", limit=2, lease_seconds=60):
            outbox.bury(item, "HTTP 401 unauthorized")
            report = s.get(Report, item.report_id)
            assert report is not None
            report.state = ReportState.DEAD
    with sessions.begin() as s:
        assert (
            outbox.requeue_report(s, "01TESTREPORT00000000000000") == "01TESTREPORT00000000000000"
        )
    with sessions.begin() as s:
        assert outbox.requeue_dead(s) == ["01TESTREPORT00000000000001"]
    with sessions.begin() as s:
        items = outbox.claim_due(s, ForwardItem, owner="a", limit=5, lease_seconds=60)
        assert len(items) == 2 and all(i.attempts == 0 for i in items)
        assert all(
            r.state == "queued"
            for r in (s.get(Report, i.report_id) for i in items)
            if r is not None
        )
    with sessions.begin() as s, pytest.raises(LookupError):
        outbox.requeue_report(s, "missing")


def test_backoff_full_jitter_is_bounded_and_spread() -> None:
    rng = random.Random(7)
    delays = [outbox.backoff_delay(3, base=2, cap=900, rng=rng) for _ in range(500)]
    assert all(0 <= d <= 16 for d in delays)
    assert min(delays) < 2 and max(delays) > 14  # spread over the whole window
    assert all(outbox.backoff_delay(50, base=2, cap=900, rng=rng) <= 900 for _ in range(50))


def test_backoff_honours_retry_after_under_the_cap() -> None:
    rng = random.Random(1)
    assert outbox.backoff_delay(0, base=1, cap=900, retry_after=120, rng=rng) == 120
    assert outbox.backoff_delay(0, base=1, cap=60, retry_after=120, rng=rng) == 60


def rows_of(sessions: sessionmaker[Session], report_id: str) -> list[tuple[str, str, int]]:
    with sessions.begin() as s:
        items = s.scalars(
            select(ForwardItem).where(ForwardItem.report_id == report_id).order_by(ForwardItem.id)
        )
        return [(i.action, i.state, i.attempts) for i in items]


def test_replay_by_tracking_id_requeues_only_what_is_not_done(
    sessions: sessionmaker[Session],
) -> None:
    add_reports(sessions, 2)
    first, other = "01TESTREPORT00000000000000", "01TESTREPORT00000000000001"
    with sessions.begin() as s:
        for item in outbox.claim_due(s, ForwardItem, owner="a", limit=2, lease_seconds=60):
            item.state, item.attempts = ForwardState.DONE, 1
        report = s.get(Report, first)
        assert report is not None
        report.tracking_id, report.state = "LPR1234567", ReportState.SUBMITTED
        s.add(ForwardItem(report_id=first, action="followup", state="dead", attempts=5))
    with sessions.begin() as s:
        assert outbox.requeue_report(s, "LPR1234567") == first
    # The submission stays done (never a second report); the dead follow-up is due again.
    assert rows_of(sessions, first) == [("submit", "done", 1), ("followup", "pending", 0)]
    assert rows_of(sessions, other) == [("submit", "done", 1)]
    with sessions.begin() as s:
        report = s.get(Report, first)
        assert report is not None and report.state == "submitted"  # only dead becomes queued


def test_replay_of_a_report_that_lost_its_row_submits_it_again(
    sessions: sessionmaker[Session],
) -> None:
    add_reports(sessions, 2)
    lost, submitted = "01TESTREPORT00000000000000", "01TESTREPORT00000000000001"
    with sessions.begin() as s:
        s.execute(delete(ForwardItem))
        report = s.get(Report, submitted)
        assert report is not None
        report.tracking_id = "LPR7654321"
    with sessions.begin() as s:
        assert outbox.requeue_report(s, lost) == lost
        assert outbox.requeue_report(s, submitted) == submitted
    assert rows_of(sessions, lost) == [("submit", "pending", 0)]
    assert rows_of(sessions, submitted) == []  # it has its tracking id: nothing to send


def test_only_leases_are_released(sessions: sessionmaker[Session]) -> None:
    add_reports(sessions, 3)
    with sessions.begin() as s:
        outbox.claim_due(s, ForwardItem, owner="dead-process", limit=2, lease_seconds=3600)
    with sessions.begin() as s:
        assert outbox.release_all_leases(s) == 2
        assert outbox.release_all_leases(s) == 0


class IdleLoop(ClaimLoop[None]):
    """A claim loop with nothing to claim: only its pool and its name."""

    role = "idle"


def test_close_waits_for_the_work_in_flight() -> None:
    loop = IdleLoop(sessionmaker(), ForwarderSection())
    in_flight = loop.pool.submit(time.sleep, 0.3)
    loop.close()
    assert in_flight.done()  # a reply or forward being recorded is never cut off
    assert loop.stopping.is_set()


def test_a_worker_restarted_with_the_same_pid_has_another_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A lease owned by the previous start must not look like ours after a restart."""
    monkeypatch.setattr(os, "getpid", lambda: 4242)
    names = set()
    for started in (10, 20, 987_654_321):
        monkeypatch.setattr(time, "monotonic_ns", lambda started=started: started)
        names.add(claiming.worker_identity("forwarder"))
    assert len(names) == 3
    assert all(name.startswith(f"forwarder@{socket.gethostname()}:4242:") for name in names)
