"""Channel health by part: a channel's source and its replies fail and recover apart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from store import migrate
from store.db import make_engine, make_sessionmaker
from store.health import REPLIES, SOURCE, ChannelHealth, channel_warnings, failing_channels
from store.models import ChannelStatus, utcnow


@pytest.fixture
def sessions(db_url: str, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url, base_dir=tmp_path)
    migrate.upgrade(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def _failing(sessions: sessionmaker[Session]) -> dict[str, tuple[str | None, int]]:
    with sessions() as session:
        return {n: (r.failing_parts, r.failures) for n, r in failing_channels(session).items()}


def test_a_part_recovers_alone(sessions: sessionmaker[Session]) -> None:
    health = ChannelHealth(sessions)
    health.failed("x", "mentions: tier refused")
    health.ok("x", REPLIES)
    assert _failing(sessions) == {"x": (SOURCE, 1)}
    health.failed("x", "reply not sent: 503", REPLIES)
    health.ok("x")  # the source reads again; the replies still fail
    assert _failing(sessions) == {"x": (REPLIES, 2)}
    health.ok("x", REPLIES)
    assert _failing(sessions) == {}


def test_each_part_logs_its_first_failure_once(
    sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    health = ChannelHealth(sessions)
    caplog.set_level("INFO")
    for _ in range(3):
        health.failed("x", "mentions: tier refused")
        health.failed("x", "reply not sent: 503", REPLIES)
    down = [r for r in caplog.records if "source unavailable" in r.getMessage()]
    assert len(down) == 2
    health.ok("x")
    health.ok("x", REPLIES)
    assert [r for r in caplog.records if "reachable again after 6 failure(s)" in r.getMessage()]


def test_a_row_failing_without_parts_is_cleared_by_any_success(
    sessions: sessionmaker[Session],
) -> None:
    """Rows written before parts were kept (a rolling upgrade) recover as they did then."""
    with sessions.begin() as session:
        session.add(ChannelStatus(channel="x", failing_since=utcnow(), failures=4))
    ChannelHealth(sessions).ok("x", REPLIES)
    assert _failing(sessions) == {}


def test_a_warning_is_kept_until_a_newer_one_whatever_else_happens(
    sessions: sessionmaker[Session],
) -> None:
    ChannelHealth(sessions).warned("x", "sebutan mungkin ada yang terlewat")
    health = ChannelHealth(sessions)  # a restart: nothing in memory
    health.ok("x")
    health.failed("x", "503", REPLIES)
    health.ok("x", REPLIES)
    with sessions() as session:
        (row,) = channel_warnings(session).values()
        first_at = row.last_warning_at
    assert (row.channel, row.last_warning) == ("x", "sebutan mungkin ada yang terlewat")
    assert first_at is not None and _failing(sessions) == {}, "a warning is no failure"
    health.warned("x", "pesan langsung mungkin ada yang terlewat " + "x" * 900)
    with sessions() as session:
        (row,) = channel_warnings(session).values()
    kept = row.last_warning or ""
    assert kept.startswith("pesan langsung") and len(kept) == 500
    assert row.last_warning_at is not None and row.last_warning_at >= first_at
