"""The SLA watch: which running clocks are due soon or overdue, per agency, and what follows.

`watch(timelines, rules, now)` is pure: it reads the clocks of every report and keeps the
running ones that are due soon or overdue (or all running ones), with counts per agency and
stage. `SlaWatch.run_once` is the scheduled job: it computes that over the database, keeps
the counts for `/metrics` (`sp4n_sla_overdue{agency,stage}`), queues the one honest notice a
citizen gets when a report passes a deadline (`sla_overdue` templates, through the reply
queue, so rate limits and the reply guarantee apply; once per report and stage), and sends
each agency its daily digest (forwarder.sla.digest).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from forwarder.replies import ReplyQueue
from forwarder.sla.calendar import format_day
from forwarder.sla.clocks import STAGE_LABELS, ClockState, SlaRules, Stage, StageClock, stage_clocks
from store.models import Report, utcnow
from store.sla import ReportTimeline, iter_timelines, save_watch

log = logging.getLogger(__name__)

# Stages whose deadline the citizen is waiting on: passing one earns them a notice.
# (Closure is the central's own housekeeping after completion.)
NOTICE_STAGES = (Stage.VERIFICATION, Stage.FIRST_RESPONSE, Stage.FOLLOW_UP, Stage.RESOLUTION)
# A deadline that passed longer ago than this gets no notice: a gateway switched on over
# months of history must not send every old report's notice at once.
NOTICE_WINDOW = dt.timedelta(days=7)


@dataclass(frozen=True, slots=True)
class WatchItem:
    """One running clock worth a look, with the report it belongs to."""

    tracking_id: str | None
    channel: str
    clock: StageClock


@dataclass
class WatchResult:
    """What one pass of the watch found."""

    computed_at: dt.datetime
    items: list[WatchItem] = field(default_factory=list)
    overdue: Counter[tuple[str, str]] = field(default_factory=Counter)
    due_soon: Counter[tuple[str, str]] = field(default_factory=Counter)

    def by_agency(self) -> dict[str, list[WatchItem]]:
        """Items per agency, overdue first, then by due day."""
        groups: dict[str, list[WatchItem]] = {}
        for item in sorted(self.items, key=_order):
            groups.setdefault(item.clock.agency or "-", []).append(item)
        return groups

    def snapshot(self) -> dict[str, Any]:
        """The counts as kept for /metrics."""
        return {
            "computed_at": self.computed_at.isoformat(),
            "overdue": sorted([a, s, n] for (a, s), n in self.overdue.items()),
            "due_soon": sorted([a, s, n] for (a, s), n in self.due_soon.items()),
        }


def _order(item: WatchItem) -> tuple[int, dt.date, str]:
    return (
        0 if item.clock.state is ClockState.OVERDUE else 1,
        item.clock.due_on,
        item.tracking_id or "",
    )


def watch(
    timelines: Iterable[ReportTimeline],
    rules: SlaRules,
    now: dt.datetime,
    *,
    agency: str | None = None,
    include_on_time: bool = False,
) -> WatchResult:
    """Running clocks that are due soon or overdue (all running ones with include_on_time).

    `agency` keeps the clocks of one agency (the clock's agency: the one it waits on).
    """
    result = WatchResult(computed_at=now)
    for timeline in timelines:
        for clock in stage_clocks(timeline, rules, now):
            if clock.ended_at is not None or (agency is not None and clock.agency != agency):
                continue
            key = (clock.agency or "-", clock.stage.value)
            if clock.state is ClockState.OVERDUE:
                result.overdue[key] += 1
            elif clock.state is ClockState.DUE_SOON:
                result.due_soon[key] += 1
            elif not include_on_time:
                continue
            result.items.append(WatchItem(timeline.tracking_id, timeline.channel, clock))
    return result


class SlaWatch:
    """The scheduled job (gateway/runner.py runs it every `sla.watch_interval`)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        rules: SlaRules,
        replies: ReplyQueue,
        *,
        notify_citizen: bool = True,
        digest: Callable[[WatchResult, dt.datetime], Any] | None = None,
    ) -> None:
        self.sessions = sessions
        self.rules = rules
        self.replies = replies
        self.notify_citizen = notify_citizen
        self.digest = digest

    def run_once(self, now: dt.datetime | None = None) -> WatchResult:
        """One pass: clocks, counts for /metrics, citizen notices, digests when due."""
        now = now or utcnow()
        with self.sessions() as session:
            result = watch(iter_timelines(session, open_only=True), self.rules, now)
        with self.sessions.begin() as session:
            save_watch(session, result.snapshot())
            notices = self.notify(session, result, now) if self.notify_citizen else 0
        log.info(
            "sla watch: %d overdue, %d due soon, %d citizen notice(s) queued",
            sum(result.overdue.values()),
            sum(result.due_soon.values()),
            notices,
        )
        if self.digest is not None:
            self.digest(result, now)
        return result

    def notify(self, session: Session, result: WatchResult, now: dt.datetime) -> int:
        """Queue one notice per report and stage whose deadline passed lately."""
        late = [
            item
            for item in result.items
            if item.clock.state is ClockState.OVERDUE
            and item.clock.stage in NOTICE_STAGES
            and now - item.clock.due_at <= NOTICE_WINDOW
        ]
        queued = 0
        for start in range(0, len(late), 500):
            chunk = late[start : start + 500]
            reports = {
                r.id: r
                for r in session.scalars(
                    select(Report).where(Report.id.in_([i.clock.report_id for i in chunk]))
                )
            }
            for item in chunk:
                report = reports.get(item.clock.report_id)
                if report is not None and self._notice(session, report, item.clock):
                    queued += 1
        return queued

    def _notice(self, session: Session, report: Report, clock: StageClock) -> bool:
        rules = self.rules
        return (
            self.replies.queue(
                session,
                report,
                f"sla_overdue:{clock.stage.value}",
                "sla_overdue",
                agency=clock.agency,
                stage=clock.stage.value,
                stage_label=STAGE_LABELS[clock.stage],
                allowed=clock.allowed,
                working_days=clock.stage is not Stage.RESOLUTION,
                due_day=format_day(clock.due_on),
                started_day=format_day(rules.calendar.local_date(clock.started_at)),
            )
            is not None
        )
