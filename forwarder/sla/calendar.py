"""The Indonesian working-day calendar the SLA clocks count on.

Non-working days are the weekdays outside `sla.working_days` (Saturday and Sunday by
default), the national public holidays of the `holidays` package, its *cuti bersama* (the
package's "government" category, `sla.cuti_bersama`), and the yearly list in
`sla.extra_holidays` (regional holidays, a changed SKB). Days are dates in
`gateway.timezone`: a report that arrives at 23:30 WIB on a Thursday arrived on Thursday,
although it is 16:30 UTC.

Counting rule (the usual reading of "dalam N hari kerja"): the day a clock starts does not
count, whatever the hour; day 1 is the first working day after it. So a report received
on a Friday evening or on a holiday has its first working day on the next working day.

Public: `WorkingCalendar` (`is_working_day`, `add_working_days`, `working_days_between`,
`local_date`, `end_of_day`, `non_working_days`), `calendar_from_config` and `format_day`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import threading
import zoneinfo
from collections.abc import Iterable, Mapping

import holidays

from config.schema import ConfigModel
from vocabulary.dates import DAY_NAMES, MONTHS

DEFAULT_ZONE = "Asia/Jakarta"


class WorkingCalendar:
    """Working days in one time zone; built once, safe to share between threads."""

    def __init__(
        self,
        *,
        zone: str = DEFAULT_ZONE,
        working_days: Iterable[int] = (1, 2, 3, 4, 5),
        extra_holidays: Mapping[dt.date, str] | None = None,
        cuti_bersama: bool = True,
    ) -> None:
        self.zone = zoneinfo.ZoneInfo(zone)
        self.working_weekdays = frozenset(working_days)
        if not self.working_weekdays:
            raise ValueError("a calendar needs at least one working weekday")
        self.extra = dict(extra_holidays or {})
        self.categories = ("public", "government") if cuti_bersama else ("public",)
        self._lock = threading.Lock()
        self._holidays: dict[int, dict[dt.date, str]] = {}
        # Ordinals of every working day in [_first_year, _last_year], sorted: counting and
        # adding working days are two bisects, not a walk over the days.
        self._ordinals: list[int] = []
        self._first_year = 0
        self._last_year = -1
        # Memos: many reports share their start and due days.
        self._ends: dict[dt.date, dt.datetime] = {}
        self._added: dict[tuple[dt.date, int], dt.date] = {}

    # --- days -----------------------------------------------------------------------------

    def holidays_in(self, year: int) -> dict[dt.date, str]:
        """Holidays of a year (package and config) with their Indonesian names."""
        cached = self._holidays.get(year)
        if cached is not None:
            return cached
        found = holidays.country_holidays(
            "ID", years=year, categories=self.categories, language="id"
        )
        names: dict[dt.date, str] = {day: str(name) for day, name in found.items()}
        for day, name in self.extra.items():
            if day.year == year:
                names[day] = f"{names[day]}; {name}" if day in names else name
        self._holidays[year] = names
        return names

    def is_working_day(self, day: dt.date) -> bool:
        """Whether the date is a working day (weekday worked and no holiday)."""
        return day.isoweekday() in self.working_weekdays and day not in self.holidays_in(day.year)

    def non_working_days(self, year: int) -> list[tuple[dt.date, str]]:
        """Every holiday of the year with its name; one falling on a day off says so.

        The weekly days off themselves are not listed one by one (104 lines of "Sabtu").
        """
        rows = []
        for day, name in sorted(self.holidays_in(year).items()):
            off = day.isoweekday() not in self.working_weekdays
            shown = f"{name} (jatuh pada hari {DAY_NAMES[day.isoweekday()]})" if off else name
            rows.append((day, shown))
        return rows

    # --- time -----------------------------------------------------------------------------

    def local_date(self, moment: dt.datetime) -> dt.date:
        """The date of an aware moment in the calendar's zone (naive is taken as UTC)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(self.zone).date()

    def end_of_day(self, day: dt.date) -> dt.datetime:
        """The moment a local day ends (the next local midnight), in UTC."""
        found = self._ends.get(day)
        if found is None:
            midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), self.zone)
            found = self._ends[day] = midnight.astimezone(dt.UTC)
        return found

    # --- counting -------------------------------------------------------------------------

    def _cover(self, first: int, last: int) -> None:
        if self._first_year <= first and last <= self._last_year:
            return
        with self._lock:
            lo = min(first, self._first_year) if self._last_year >= 0 else first
            hi = max(last, self._last_year)
            ordinals = []
            day = dt.date(lo, 1, 1)
            end = dt.date(hi, 12, 31)
            while day <= end:
                if self.is_working_day(day):
                    ordinals.append(day.toordinal())
                day += dt.timedelta(days=1)
            self._ordinals = ordinals
            self._first_year, self._last_year = lo, hi

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The `days`-th working day after `start` (`start` itself never counts)."""
        if days < 1:
            raise ValueError("days must be at least 1")
        found = self._added.get((start, days))
        if found is not None:
            return found
        # Enough years ahead for the longest stretch a config allows (365 working days).
        need = start.year + 2 + days // 200
        self._cover(start.year, need)
        index = bisect.bisect_right(self._ordinals, start.toordinal()) + days - 1
        while index >= len(self._ordinals):
            self._cover(self._first_year, self._last_year + 1)
            index = bisect.bisect_right(self._ordinals, start.toordinal()) + days - 1
        found = self._added[(start, days)] = dt.date.fromordinal(self._ordinals[index])
        return found

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (0 when end <= start)."""
        if end <= start:
            return 0
        self._cover(start.year, end.year)
        ordinals = self._ordinals
        return bisect.bisect_right(ordinals, end.toordinal()) - bisect.bisect_right(
            ordinals, start.toordinal()
        )


def format_day(day: dt.date) -> str:
    """`Rabu, 02 Des 2026`: a due day as people read it."""
    return f"{DAY_NAMES[day.isoweekday()]}, {day.day:02d} {MONTHS[day.month - 1]} {day.year}"


def calendar_from_config(model: ConfigModel | None) -> WorkingCalendar:
    """The calendar a config describes (the defaults without one)."""
    if model is None:
        return WorkingCalendar()
    sla = model.sla
    return WorkingCalendar(
        zone=model.gateway.timezone,
        working_days=sla.working_days,
        extra_holidays={h.date: h.name for h in sla.extra_holidays},
        cuti_bersama=sla.cuti_bersama,
    )
