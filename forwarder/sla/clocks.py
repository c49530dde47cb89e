"""Stage clocks per report, computed from its timeline: pure functions, no I/O.

The SP4N procedure gives every stage a time limit (`sla:` in the config). The statuses the
sync records (store.sla.ReportTimeline, each at the central's own time) are read as
milestones: received (0) -> verified (1) -> dispositioned (2) -> in_progress (3) ->
completed (4) -> closed (5). A stage runs from the first status at or past its start
milestone to the first status at or past its end milestone:

| stage (LAPOR! term) | runs from -> to | limit (`sla.*`) |
|---|---|---|
| `verification` (verifikasi, disposisi) | received -> dispositioned | working days |
| `first_response` (respon awal) | dispositioned -> in_progress | working days |
| `follow_up` (tindak lanjut) | in_progress -> completed | working days |
| `closure` (penutupan) | completed -> closed | working days |
| `resolution` (penyelesaian) | received -> completed | calendar days |

`returned` ends the running clocks of the agency that returned the report and starts a new
cycle (`cycle` + 1) whose verification clock starts at the next agency (at the `received`
the central records for it, else at the return). `resolution` is the citizen's clock: it
is never restarted. `archived` ends every running clock. A report whose status never came
back from the central is clocked from its forwarding.

Public API (used by the watch, the CLI report and the coordination table):

- `SlaRules` (`from_config(model)`): the limits and the calendar;
- `Stage`, `ClockState`, `StageClock` (one clock: stage, agency, start, due date and
  moment, end, working days used, state);
- `stage_clocks(timeline, rules, now) -> list[StageClock]`: every clock of one report,
  earlier cycles included, in order;
- `running(clocks)`: the clocks still running; `latest(clocks, stage)`: a stage's clock
  of the newest cycle;
- `STAGE_LABELS`, `STATE_LABELS`: Indonesian names for people.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from config.schema import ConfigModel
from forwarder.sla.calendar import WorkingCalendar, calendar_from_config
from store.sla import ReportTimeline, StatusEvent
from vocabulary.central import CentralStatus

MILESTONES: dict[str, int] = {
    CentralStatus.RECEIVED: 0,
    CentralStatus.VERIFIED: 1,
    CentralStatus.DISPOSITIONED: 2,
    CentralStatus.IN_PROGRESS: 3,
    CentralStatus.COMPLETED: 4,
    CentralStatus.CLOSED: 5,
}


class Stage(StrEnum):
    """A stage of the SP4N procedure with a clock of its own."""

    VERIFICATION = "verification"
    FIRST_RESPONSE = "first_response"
    FOLLOW_UP = "follow_up"
    CLOSURE = "closure"
    RESOLUTION = "resolution"


class ClockState(StrEnum):
    """Where a clock stands (a finished clock is on time or overdue, never due soon)."""

    ON_TIME = "on_time"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


STAGE_LABELS = {
    Stage.VERIFICATION: "verifikasi dan disposisi",
    Stage.FIRST_RESPONSE: "respon awal",
    Stage.FOLLOW_UP: "tindak lanjut",
    Stage.CLOSURE: "penutupan",
    Stage.RESOLUTION: "penyelesaian",
}
STATE_LABELS = {
    ClockState.ON_TIME: "tepat waktu",
    ClockState.DUE_SOON: "mendekati tenggat",
    ClockState.OVERDUE: "terlambat",
}
# Working-day stages: (stage, start milestone, end milestone).
WORKING_STAGES = (
    (Stage.VERIFICATION, 0, 2),
    (Stage.FIRST_RESPONSE, 2, 3),
    (Stage.FOLLOW_UP, 3, 4),
    (Stage.CLOSURE, 4, 5),
)


@dataclass(frozen=True)
class SlaRules:
    """Stage limits (working days; `resolution` in calendar days) and the calendar."""

    calendar: WorkingCalendar
    verification: int = 3
    first_response: int = 3
    follow_up: int = 5
    closure: int = 10
    resolution: int = 60
    due_soon: int = 1

    @classmethod
    def from_config(cls, model: ConfigModel) -> SlaRules:
        """The rules of a config's `sla:` section, on its calendar."""
        sla = model.sla
        return cls(
            calendar=calendar_from_config(model),
            verification=sla.verification,
            first_response=sla.first_response,
            follow_up=sla.follow_up,
            closure=sla.closure,
            resolution=sla.resolution,
            due_soon=sla.due_soon,
        )

    def limit(self, stage: Stage) -> int:
        """The stage's limit (days)."""
        return self.limits[stage]

    @property
    def limits(self) -> dict[Stage, int]:
        """Every stage's limit (days)."""
        found: dict[Stage, int] | None = self.__dict__.get("_limits")
        if found is None:
            found = {stage: int(getattr(self, stage.value)) for stage in Stage}
            object.__setattr__(self, "_limits", found)
        return found


@dataclass(slots=True)
class StageClock:
    """One stage's clock for one report (and one cycle of it)."""

    report_id: str
    stage: Stage
    cycle: int  # 0, then +1 after each `returned`
    agency: str | None  # whose clock it is
    started_at: dt.datetime
    due_on: dt.date  # the last day allowed (local date)
    due_at: dt.datetime  # when that day ends (UTC)
    ended_at: dt.datetime | None  # None while running
    allowed: int  # days allowed (working days; calendar days for resolution)
    used: int  # days used so far, or until it ended (same unit)
    state: ClockState

    @property
    def running(self) -> bool:
        """Whether the stage is still waiting for its end."""
        return self.ended_at is None

    @property
    def days_left(self) -> int:
        """Days left before the due day ends (negative: days late)."""
        return self.allowed - self.used


def _clock(
    rules: SlaRules,
    report_id: str,
    stage: Stage,
    cycle: int,
    agency: str | None,
    start: dt.datetime,
    end: dt.datetime | None,
    now: dt.datetime,
) -> StageClock:
    cal = rules.calendar
    allowed = rules.limit(stage)
    first = cal.local_date(start)
    last = cal.local_date(end if end is not None else now)
    if stage is Stage.RESOLUTION:
        due_on = first + dt.timedelta(days=allowed)
        used = max((last - first).days, 0)
    else:
        due_on = cal.add_working_days(first, allowed)
        used = cal.working_days_between(first, last)
    due_at = cal.end_of_day(due_on)
    if end is not None:
        state = ClockState.OVERDUE if end >= due_at else ClockState.ON_TIME
    elif now >= due_at:
        state = ClockState.OVERDUE
    elif allowed - used <= rules.due_soon:
        state = ClockState.DUE_SOON
    else:
        state = ClockState.ON_TIME
    return StageClock(
        report_id, stage, cycle, agency, start, due_on, due_at, end, allowed, used, state
    )


@dataclass
class _Cycle:
    start: dt.datetime
    agency: str | None
    # milestone -> (first time reached, agency of that status)
    reached: dict[int, tuple[dt.datetime, str | None]]
    stopped_at: dt.datetime | None = None  # returned or archived
    awaiting_received: bool = False  # just returned: the next `received` restarts here


def _first_cycle(timeline: ReportTimeline) -> _Cycle | None:
    """Clocked from the central's `received`, else from forwarding, else the first status."""
    statuses = timeline.statuses
    first = next((s for s in statuses if s.status == CentralStatus.RECEIVED), None)
    if first is not None:
        start, agency = first.at, first.agency
    elif timeline.forwarded_at is not None:
        start, agency = timeline.forwarded_at, timeline.agency
    elif statuses:
        start, agency = statuses[0].at, statuses[0].agency
    else:
        return None
    return _Cycle(start, agency or timeline.agency, {0: (start, agency)})


def _restart(cycle: _Cycle, event: StatusEvent) -> None:
    """The next agency's `received` after a return: its clock starts there."""
    cycle.start, cycle.reached[0] = event.at, (event.at, event.agency)
    cycle.agency = event.agency or cycle.agency
    cycle.awaiting_received = False


def _cycles(timeline: ReportTimeline) -> tuple[list[_Cycle], dt.datetime | None]:
    """Split the statuses at each `returned`; also the end of the resolution clock."""
    first = _first_cycle(timeline)
    if first is None:
        return [], None
    cycles = [first]
    resolved: dt.datetime | None = None
    for event in timeline.statuses:
        cycle = cycles[-1]
        if cycle.awaiting_received and event.status == CentralStatus.RECEIVED:
            _restart(cycle, event)
            continue
        cycle.awaiting_received = False
        if event.status == CentralStatus.RETURNED:
            cycle.stopped_at = event.at
            cycles.append(
                _Cycle(event.at, timeline.agency, {0: (event.at, None)}, awaiting_received=True)
            )
            continue
        if event.status == CentralStatus.ARCHIVED:
            cycle.stopped_at = event.at
            return cycles, resolved or event.at
        rank = MILESTONES.get(event.status)
        if rank is None or cycle.stopped_at is not None:
            continue
        for step in range(rank + 1):
            cycle.reached.setdefault(step, (event.at, event.agency))
        if rank >= MILESTONES[CentralStatus.COMPLETED]:
            resolved = resolved or event.at
    return cycles, resolved


def stage_clocks(timeline: ReportTimeline, rules: SlaRules, now: dt.datetime) -> list[StageClock]:
    """Every clock of one report, cycle by cycle, then the resolution clock."""
    cycles, resolved = _cycles(timeline)
    clocks: list[StageClock] = []
    for number, cycle in enumerate(cycles):
        for stage, begin, finish in WORKING_STAGES:
            started = cycle.reached.get(begin)
            if started is None:
                break
            ended = cycle.reached.get(finish)
            end = ended[0] if ended else cycle.stopped_at
            agency = (started[1] if begin else None) or cycle.agency
            clocks.append(
                _clock(rules, timeline.report_id, stage, number, agency, started[0], end, now)
            )
            if ended is None:
                break
    if cycles:
        clocks.append(
            _clock(
                rules,
                timeline.report_id,
                Stage.RESOLUTION,
                0,
                timeline.agency,
                cycles[0].start,
                resolved,
                now,
            )
        )
    return clocks


def running(clocks: Iterable[StageClock]) -> list[StageClock]:
    """The clocks still waiting for their stage to end."""
    return [c for c in clocks if c.ended_at is None]


def latest(clocks: Iterable[StageClock], stage: Stage) -> StageClock | None:
    """The stage's clock of the newest cycle that has one."""
    found = None
    for clock in clocks:
        if clock.stage is stage:
            found = clock
    return found


__all__ = [
    "STAGE_LABELS",
    "STATE_LABELS",
    "ClockState",
    "SlaRules",
    "Stage",
    "StageClock",
    "StatusEvent",
    "latest",
    "running",
    "stage_clocks",
]
