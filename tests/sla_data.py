"""Known reports and statuses for the coordination-table tests, and their expected figures.

`scenarios` draws reports (agency, channel, receipt in WIB, which statuses came back and
when, returns, archives) relative to a day; `seed` writes them as reports and timeline
events; `expected_rows` computes every figure of the table from the scenarios themselves,
with a day-by-day working-day count written here, not with the code under test.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import holidays

from store.models import Report, TimelineEvent
from store.states import ReportState
from vocabulary.kinds import Kind

WIB = dt.timezone(dt.timedelta(hours=7))
RANKS = ("received", "verified", "dispositioned", "in_progress", "completed", "closed")
# (start milestone, end milestone, working days): verification and disposition, first
# response, follow-up, closure.
STAGES = ((0, 2, 3), (2, 3, 3), (3, 4, 5), (4, 5, 10))
AGENCIES = ("upt-jalan", "dinas-pupr", "inspektorat")
CHANNELS = ("web", "surat")
_OFF: dict[int, set[dt.date]] = {}


def is_working(day: dt.date) -> bool:
    """Monday to Friday and not a holiday or cuti bersama (read straight off the package)."""
    if day.year not in _OFF:
        _OFF[day.year] = set(
            holidays.country_holidays("ID", years=day.year, categories=("public", "government"))
        )
    return day.isoweekday() <= 5 and day not in _OFF[day.year]


def working_days(start: dt.date, end: dt.date) -> int:
    """Working days after `start` up to and including `end`, one day at a time."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        count += is_working(day)
    return count


def add_working(start: dt.date, days: int) -> dt.date:
    """The `days`-th working day after `start` (start itself at 0)."""
    day = start
    while days > 0:
        day += dt.timedelta(days=1)
        days -= is_working(day)
    return day


def local(moment: dt.datetime) -> dt.date:
    return moment.astimezone(WIB).date()


@dataclass
class Scenario:
    """One report: where it is, when it came, and the statuses the central reported."""

    rid: str
    agency: str  # where it is now
    channel: str
    created: dt.datetime
    forwarded: bool
    # (moment, status, agency) in order; an earlier agency's cycle ends at `returned`.
    statuses: list[tuple[dt.datetime, str, str]] = field(default_factory=list)

    def last_cycle(self) -> tuple[dt.datetime | None, list[tuple[dt.datetime, str, str]]]:
        """Start of the current agency's cycle and the statuses after it."""
        start: dt.datetime | None = self.created + dt.timedelta(minutes=1)
        if not self.forwarded and not self.statuses:
            start = None
        rest = self.statuses
        for i, (at, status, _) in enumerate(self.statuses):
            if status == "returned":
                start, rest = at, self.statuses[i + 1 :]
        if rest and rest[0][1] == "received":
            start, rest = rest[0][0], rest[1:]
        return start, rest


def _working_moment(rng: random.Random, day: dt.date) -> dt.datetime:
    hour = rng.choice((8, 9, 10, 13, 15, 16))
    return dt.datetime.combine(day, dt.time(hour, rng.choice((0, 20, 45))), WIB)


def scenarios(
    today: dt.date,
    count: int = 48,
    seed: int = 12,
    agencies: tuple[str, ...] = AGENCIES,
    channels: tuple[str, ...] = CHANNELS,
) -> list[Scenario]:
    """Reports received over the ten weeks before `today` (and two outside the period)."""
    rng = random.Random(seed)
    first = today - dt.timedelta(days=70)
    found: list[Scenario] = []
    for n in range(count):
        day = first + dt.timedelta(days=rng.randrange(0, 60))
        hour = rng.choice((7, 10, 14, 19, 23))  # 23:30 WIB is still that day (16:30 UTC)
        created = dt.datetime.combine(day, dt.time(hour, 30), WIB)
        agency, channel = rng.choice(agencies), rng.choice(channels)
        s = Scenario(f"r{n:03d}", agency, channel, created, forwarded=n % 11 != 5)
        found.append(s)
        if not s.forwarded:
            continue  # a dead letter: no clock at all
        cursor = local(created)
        if n % 7 == 3:  # first at another agency, which returned it after some days
            other = next(a for a in agencies if a != agency)
            s.statuses.append((created + dt.timedelta(minutes=5), "received", other))
            cursor = add_working(cursor, rng.randrange(1, 5))
            if n % 2:  # it had even started on it: not a response of the agency it went to
                s.statuses.append((_working_moment(rng, cursor), "in_progress", other))
                cursor = add_working(cursor, 1)
            back = _working_moment(rng, cursor)
            s.statuses.append((back, "returned", other))
            s.statuses.append((back + dt.timedelta(minutes=2), "received", agency))
        elif n % 5 != 4:  # most get the central's `received`; a few only their forwarding
            s.statuses.append((created + dt.timedelta(minutes=5), "received", "nasional"))
        reach = rng.choice((0, 1, 2, 3, 4, 5, 5, 5, 5))  # how far it got: up to `closed`
        skip = n % 9 == 2  # straight from received to in_progress
        for rank in range(1, reach + 1):
            cursor = add_working(cursor, rng.choice((0, 1, 1, 1, 2, 2, 3, 5, 8)))
            at = _working_moment(rng, cursor)
            previous = s.statuses[-1][0] if s.statuses else created
            if at <= previous:  # the same day, earlier hour: keep the order
                at = previous + dt.timedelta(hours=1)
            if local(at) >= today:
                break
            if skip and rank in (1, 2):
                continue
            s.statuses.append((at, RANKS[rank], agency))
        if n % 13 == 6 and s.statuses and s.statuses[-1][1] not in ("completed", "closed"):
            s.statuses.append((s.statuses[-1][0] + dt.timedelta(days=1), "archived", agency))
    # Outside the period: received the day before it starts, and today (after its end).
    before = dt.datetime.combine(first - dt.timedelta(days=1), dt.time(23, 30), WIB)
    found.append(Scenario("x-before", agencies[0], channels[0], before, True))
    now_ish = dt.datetime.combine(today, dt.time(0, 10), WIB)
    found.append(Scenario("x-today", agencies[0], channels[0], now_ish, True))
    return found


def period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The period the tests ask for: ten weeks ago up to yesterday."""
    return today - dt.timedelta(days=70), today - dt.timedelta(days=1)


def seed(session: Any, items: Iterable[Scenario]) -> None:
    """Write the scenarios as reports and timeline events (in time order)."""
    for s in items:
        session.add(
            Report(
                id=s.rid,
                channel=s.channel,
                channel_type="letter" if s.channel == "surat" else "webform",
                external_id=s.rid,
                created_at=s.created,
                kind=Kind.PENGADUAN,
                agency=s.agency,
                payload={},
                state=ReportState.SUBMITTED if s.forwarded else ReportState.DEAD,
                tracking_id=f"LPR{s.rid}" if s.forwarded else None,
            )
        )
    session.flush()
    for s in items:
        session.add(TimelineEvent(report_id=s.rid, event="received", at=s.created, detail={}))
        if s.forwarded:
            session.add(
                TimelineEvent(
                    report_id=s.rid,
                    event="forwarded",
                    at=s.created + dt.timedelta(minutes=1),
                    detail={"agency": s.agency},
                )
            )
        for at, status, agency in s.statuses:
            session.add(
                TimelineEvent(
                    report_id=s.rid,
                    event="status",
                    at=at,
                    detail={"status": status, "agency": agency, "note": "catatan"},
                )
            )


@dataclass
class Expected:
    """One row's figures, computed from scenarios."""

    reports: int = 0
    last_activity: dt.datetime | None = None
    response: list[int] = field(default_factory=list)
    completion: list[int] = field(default_factory=list)
    not_followed_up: int = 0
    in_process: int = 0
    completed: int = 0
    archived: int = 0
    clocked: int = 0
    overdue: int = 0

    @staticmethod
    def avg(values: list[int]) -> float | None:
        return sum(values) / len(values) if values else None

    @staticmethod
    def p90(values: list[int]) -> int | None:
        return sorted(values)[math.ceil(0.9 * len(values)) - 1] if values else None

    @property
    def share(self) -> float | None:
        return (self.clocked - self.overdue) / self.clocked if self.clocked else None


def _late(start: dt.datetime, limit: int, end: dt.datetime | None, now: dt.datetime) -> bool:
    due = add_working(local(start), limit)
    return local(end or now) > due


def expected_rows(
    items: Iterable[Scenario], first: dt.date, last: dt.date, now: dt.datetime, by: str
) -> dict[str, Expected]:
    """Every row's figures for reports received on local days first..last."""
    rows: dict[str, Expected] = {}
    for s in items:
        if not first <= local(s.created) <= last:
            continue
        row = rows.setdefault(s.agency if by == "agency" else s.channel, Expected())
        row.reports += 1
        if s.statuses:
            latest = max(at for at, _, _ in s.statuses)
            row.last_activity = max(row.last_activity or latest, latest)
        start, rest = s.last_cycle()
        archived = next((at for at, st, _ in rest if st == "archived"), None)
        reached: dict[int, dt.datetime] = {}
        for at, status, _ in rest:
            if status in RANKS:
                for k in range(RANKS.index(status) + 1):
                    reached.setdefault(k, at)
        if start is not None:
            reached[0] = start
        response, done = reached.get(3), reached.get(4)
        if start is not None and response is not None:
            row.response.append(working_days(local(start), local(response)))
        if start is not None and done is not None:
            row.completion.append(working_days(local(start), local(done)))
        if done is not None:
            row.completed += 1
        elif archived is not None:
            row.archived += 1
        elif response is not None:
            row.in_process += 1
        else:
            row.not_followed_up += 1
        if start is None:
            continue
        row.clocked += 1
        late = False
        for begin_rank, end_rank, limit in STAGES:
            begin = reached.get(begin_rank)
            if begin is None:
                break
            end = reached.get(end_rank) or archived
            late = late or _late(begin, limit, end, now)
            if reached.get(end_rank) is None:
                break
        # The citizen's 60 days run from the first receipt, whatever was returned.
        origin = s.statuses[0][0] if s.statuses and s.statuses[0][1] == "received" else None
        origin = origin or s.created + dt.timedelta(minutes=1)
        finished = next((at for at, st, _ in s.statuses if st in ("completed", "closed")), None)
        finished = finished or next((at for at, st, _ in s.statuses if st == "archived"), None)
        late = late or local(finished or now) > local(origin) + dt.timedelta(days=60)
        row.overdue += late
    return rows
