"""The coordination table SP4N coordinators send each agency: one row per agency (or channel).

For the reports the gateway received in a period (local dates, both ends included), per
agency (where each report is now) or per channel:

- `reports`: how many; `last_activity`: the newest status the central recorded for them;
- working days to the first response (the first status at or past `in_progress`: LAPOR!'s
  *tindak lanjut*, "RTL" in the coordinators' sheets) and to completion (`completed` or
  `closed`), average and p90 (nearest rank), over the reports that got there;
- `not_followed_up` / `in_process` / `completed` / `archived`: where each report stands;
- `overdue` and `on_time_share`: reports with a clock past its due day (a stage clock of the
  agency now holding it, or the citizen's resolution clock), among those with clocks.

Both durations are counted like the stage clocks (forwarder.sla.clocks): working days on the
configured calendar, the start day not counted, from when the agency now holding the report
got it (the central's `received`, else the forwarding; after a `returned`, the next
agency's `received`). A report returned by one agency is measured for the agency it went to.

Public: `Progress`, `ReportOutcome` / `outcome` (one report), `TableRow`,
`CoordinationTable`, `tabulate` (pure, over timelines) and `coordination_table` (from the
store, one streamed query), `period_bounds`, `percentile`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from sqlalchemy.orm import Session

from forwarder.sla.calendar import WorkingCalendar
from forwarder.sla.clocks import ClockState, SlaRules, Stage, stage_clocks
from store.sla import ReportTimeline, iter_timelines
from vocabulary.central import CentralStatus

GroupBy = Literal["agency", "channel"]
GROUPINGS: tuple[GroupBy, ...] = ("agency", "channel")


class Progress(StrEnum):
    """Where a report stands at the agency now holding it."""

    NOT_FOLLOWED_UP = "not_followed_up"
    IN_PROCESS = "in_process"
    COMPLETED = "completed"
    ARCHIVED = "archived"


PROGRESS_LABELS = {
    Progress.NOT_FOLLOWED_UP: "Belum ditindaklanjuti",
    Progress.IN_PROCESS: "Sedang diproses",
    Progress.COMPLETED: "Selesai",
    Progress.ARCHIVED: "Diarsipkan",
}


@dataclass(slots=True)
class ReportOutcome:
    """What the table needs of one report."""

    agency: str
    channel: str
    last_activity: dt.datetime | None  # the newest status the central recorded
    progress: Progress
    response_days: int | None  # working days to the first response, once it came
    completion_days: int | None  # working days to completion, once it came
    clocked: bool  # has clocks at all (forwarded, or a status came back)
    overdue: bool  # a clock of the current agency, or the resolution clock, is late


def outcome(timeline: ReportTimeline, rules: SlaRules, now: dt.datetime) -> ReportOutcome:
    """One report's row material, read off its stage clocks.

    The clocks of the newest cycle tell it all. A stage's clock exists once its start was
    reached, so a `follow_up` clock means the first response came and a `closure` clock
    that it was completed. The working days to them are the days the stages before used:
    each stage ends where the next begins, and working days add up across such spans.
    """
    cycle = -1
    used = response = completion = 0
    responded = completed = late_here = late_resolution = False
    for clock in stage_clocks(timeline, rules, now):
        stage = clock.stage
        if stage is Stage.RESOLUTION:
            late_resolution = clock.state is ClockState.OVERDUE
            continue
        if clock.cycle != cycle:  # a newer cycle: the earlier agency's figures do not count
            cycle, used, responded, completed, late_here = clock.cycle, 0, False, False, False
        if stage is Stage.FOLLOW_UP:
            responded, response = True, used
        elif stage is Stage.CLOSURE:
            completed, completion = True, used
        used += clock.used
        late_here = late_here or clock.state is ClockState.OVERDUE
    statuses = timeline.statuses
    if completed:
        progress = Progress.COMPLETED
    elif any(s.status == CentralStatus.ARCHIVED for s in statuses):
        progress = Progress.ARCHIVED
    elif responded:
        progress = Progress.IN_PROCESS
    else:
        progress = Progress.NOT_FOLLOWED_UP
    return ReportOutcome(
        agency=timeline.agency,
        channel=timeline.channel,
        last_activity=max((s.at for s in statuses), default=None),
        progress=progress,
        response_days=response if responded else None,
        completion_days=completion if completed else None,
        clocked=cycle >= 0,
        overdue=late_here or late_resolution,
    )


def percentile(values: Sequence[int], share: float) -> int | None:
    """The nearest-rank percentile of sorted values (None for none): p90 of 10 is the 9th."""
    if not values:
        return None
    return values[max(1, math.ceil(share * len(values))) - 1]


@dataclass
class TableRow:
    """One agency's (or channel's) figures for the period."""

    key: str  # agency code or channel name
    label: str  # what people read: the agency's name, or the channel's name
    reports: int = 0
    last_activity: dt.datetime | None = None
    response_avg: float | None = None
    response_p90: int | None = None
    completion_avg: float | None = None
    completion_p90: int | None = None
    counts: dict[Progress, int] = field(default_factory=lambda: dict.fromkeys(Progress, 0))
    clocked: int = 0
    overdue: int = 0
    _response: list[int] = field(default_factory=list, repr=False)
    _completion: list[int] = field(default_factory=list, repr=False)

    @property
    def on_time_share(self) -> float | None:
        """Share (0..1) of the clocked reports with no clock past its due day."""
        return (self.clocked - self.overdue) / self.clocked if self.clocked else None

    def add(self, item: ReportOutcome) -> None:
        """Count one report in."""
        self.reports += 1
        if item.last_activity is not None and (
            self.last_activity is None or item.last_activity > self.last_activity
        ):
            self.last_activity = item.last_activity
        self.counts[item.progress] += 1
        if item.response_days is not None:
            self._response.append(item.response_days)
        if item.completion_days is not None:
            self._completion.append(item.completion_days)
        if item.clocked:
            self.clocked += 1
            self.overdue += item.overdue

    def absorb(self, other: TableRow) -> None:
        """Count another row's reports in too (for the total)."""
        self.reports += other.reports
        if other.last_activity is not None and (
            self.last_activity is None or other.last_activity > self.last_activity
        ):
            self.last_activity = other.last_activity
        for progress, count in other.counts.items():
            self.counts[progress] += count
        self._response += other._response
        self._completion += other._completion
        self.clocked += other.clocked
        self.overdue += other.overdue

    def finish(self) -> None:
        """Averages and percentiles, once every report is in."""
        for name, values in (("response", self._response), ("completion", self._completion)):
            values.sort()
            avg = sum(values) / len(values) if values else None
            setattr(self, f"{name}_avg", avg)
            setattr(self, f"{name}_p90", percentile(values, 0.9))


@dataclass
class CoordinationTable:
    """The rows (sorted by label) and the total over all of them, for one period."""

    by: GroupBy
    first: dt.date
    last: dt.date
    now: dt.datetime
    rows: list[TableRow]
    total: TableRow


def tabulate(
    timelines: Iterable[ReportTimeline],
    rules: SlaRules,
    now: dt.datetime,
    *,
    by: GroupBy = "agency",
    labels: Mapping[str, str] | None = None,
    first: dt.date | None = None,
    last: dt.date | None = None,
) -> CoordinationTable:
    """The table over these reports; every key in `labels` gets a row, even without reports."""
    labels = labels or {}
    rows = {key: TableRow(key, label) for key, label in labels.items()}
    total = TableRow("", "Jumlah")
    for timeline in timelines:
        item = outcome(timeline, rules, now)
        key = item.agency if by == "agency" else item.channel
        row = rows.get(key)
        if row is None:
            row = rows[key] = TableRow(key, labels.get(key, key))
        row.add(item)
    ordered = sorted(rows.values(), key=lambda r: (r.label.casefold(), r.key))
    for row in ordered:
        total.absorb(row)
    for row in [*ordered, total]:
        row.finish()
    today = rules.calendar.local_date(now)
    return CoordinationTable(by, first or today, last or today, now, ordered, total)


def period_bounds(
    cal: WorkingCalendar, first: dt.date, last: dt.date
) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in UTC of the local days first..last, both included."""
    return cal.end_of_day(first - dt.timedelta(days=1)), cal.end_of_day(last)


def coordination_table(
    session: Session,
    rules: SlaRules,
    first: dt.date,
    last: dt.date,
    *,
    by: GroupBy = "agency",
    labels: Mapping[str, str] | None = None,
    now: dt.datetime | None = None,
) -> CoordinationTable:
    """The table for reports received on local days first..last (one streamed query)."""
    start, end = period_bounds(rules.calendar, first, last)
    timelines = iter_timelines(session, received_from=start, received_until=end)
    moment = now or dt.datetime.now(dt.UTC)
    return tabulate(timelines, rules, moment, by=by, labels=labels, first=first, last=last)
