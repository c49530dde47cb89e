"""The dashboard's figures: per-channel traffic, queues, and reports per day (cached days)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from tests.console.conftest import Console

_ids = itertools.count()


def _report(gw: Console, channel: str, created: dt.datetime) -> None:
    from sqlalchemy import insert

    from store.models import Report

    n = next(_ids)
    with gw.runtime.engine.begin() as conn:
        conn.execute(
            insert(Report.__table__).values(  # type: ignore[arg-type]
                id=f"01DASH{n:020d}",
                channel=channel,
                channel_type="webform",
                external_id=f"d-{n}",
                created_at=created,
                updated_at=created,
                kind="pengaduan",
                agency="nasional",
                hops=[],
                payload={"title": "t", "body": "b"},
                reply_to={},
                state="queued",
            )
        )


def _inbound(gw: Console, channel: str, received: dt.datetime, state: str = "accepted") -> None:
    from sqlalchemy import insert

    from store.models import InboundMessage

    n = next(_ids)
    with gw.runtime.engine.begin() as conn:
        conn.execute(
            insert(InboundMessage.__table__).values(  # type: ignore[arg-type]
                id=f"01INB{n:021d}",
                channel=channel,
                external_id=f"i-{n}",
                received_at=received,
                stored_at=received,
                state=state,
                error="isian `body` wajib diisi" if state == "rejected" else None,
                raw={},
            )
        )


def _jakarta(day: dt.date, hour: int) -> dt.datetime:
    """`hour` o'clock WIB on `day`, as aware UTC."""
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC) - dt.timedelta(hours=7)


def test_channel_traffic_today_week_and_last(console: Console) -> None:
    from gateway.console.health import channel_health
    from gateway.localtime import to_local

    gw = console
    now = dt.datetime.now(dt.UTC)
    today = to_local(now, "Asia/Jakarta").date()
    _inbound(gw, "web", _jakarta(today, 0) + dt.timedelta(minutes=1))  # today, just after 0:00
    _inbound(gw, "web", _jakarta(today, 0) - dt.timedelta(minutes=1))  # yesterday 23:59
    _inbound(gw, "web", _jakarta(today - dt.timedelta(days=6), 1))  # the 7th day back
    _inbound(gw, "web", _jakarta(today - dt.timedelta(days=7), 23))  # the 8th: not this week
    _inbound(gw, "surat", _jakarta(today - dt.timedelta(days=20), 9), state="rejected")
    with gw.runtime.reads() as session:
        health = {h.name: h for h in channel_health(session, gw.runtime.config, set(), now)}
    web, surat, telepon = health["web"], health["surat"], health["telepon"]
    assert (web.today, web.week) == (1, 3)
    assert web.last_message_at == _jakarta(today, 0) + dt.timedelta(minutes=1)
    assert (surat.today, surat.week) == (0, 0)
    assert surat.last_message_at == _jakarta(today - dt.timedelta(days=20), 9)
    assert surat.last_error == "masukan ditolak: isian `body` wajib diisi"
    assert (telepon.today, telepon.week, telepon.last_message_at) == (0, 0, None)


def test_reports_per_day_counts_finished_days_once(console: Console) -> None:
    from gateway.console.dashboard import ClosedDays, reports_per_day
    from gateway.localtime import to_local

    gw = console
    now = dt.datetime.now(dt.UTC)
    today = to_local(now, "Asia/Jakarta").date()
    back = {n: today - dt.timedelta(days=n) for n in range(31)}
    _report(gw, "web", _jakarta(back[0], 0) + dt.timedelta(seconds=1))
    _report(gw, "web", _jakarta(back[1], 23) + dt.timedelta(minutes=59))  # 23:59 WIB yesterday
    _report(gw, "surat", _jakarta(back[1], 8))
    _report(gw, "surat", _jakarta(back[29], 8))  # the oldest day shown
    _report(gw, "surat", _jakarta(back[30], 8))  # one day too old
    closed = ClosedDays()

    def chart() -> tuple[list[dt.date], dict[str, list[int]]]:
        with gw.runtime.reads() as session:
            return reports_per_day(session, "Asia/Jakarta", now, closed=closed)

    dates, series = chart()
    assert dates[0] == back[29] and dates[-1] == today and len(dates) == 30
    expected: dict[str, list[int]] = {"surat": [0] * 30, "web": [0] * 30}
    expected["web"][29] = expected["web"][28] = 1
    expected["surat"][28] = expected["surat"][0] = 1
    assert series == expected

    # Finished days are kept: a row back-dated into one (never made by the intake) is not
    # seen by this process's cache, while today's new rows are.
    _report(gw, "surat", _jakarta(back[5], 8))
    _report(gw, "web", now - dt.timedelta(seconds=1))
    _, again = chart()
    expected["web"][29] += 1
    assert again == expected
    with gw.runtime.reads() as session:
        _, fresh = reports_per_day(session, "Asia/Jakarta", now, closed=ClosedDays())
    expected["surat"][24] += 1
    assert fresh == expected


def test_queue_figures_count_only_what_waits(console: Console) -> None:
    from gateway.console.dashboard import queue_figures
    from store.models import ForwardItem, ReplyItem

    gw = console
    gw.post("web", {"body": "Lampu jalan mati", "external_id": "q-1"})
    gw.post("web", {"body": "Sampah menumpuk", "external_id": "q-2"})
    gw.drain()
    with gw.runtime.sessions.begin() as session:
        items: list[Any] = list(session.query(ForwardItem))
        items[0].state = "dead"
        replies: list[Any] = list(session.query(ReplyItem))
        replies[0].state = "limited"
    gw.post("web", {"body": "Drainase tersumbat", "external_id": "q-3"})
    with gw.runtime.reads() as session:
        figures = queue_figures(session, dt.datetime.now(dt.UTC))
    assert (figures.pending, figures.dead_forward) == (1, 1)
    assert figures.replies.get("limited") == 1 and "sent" not in figures.replies
    assert figures.oldest_pending_seconds is not None and figures.latency_samples == 2
