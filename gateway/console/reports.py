"""The reports list (filters, keyset paging) and what a report's detail page shows."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import Select, String, and_, func, not_, or_, select, type_coerce
from sqlalchemy.orm import Session

from gateway.console.labels import DONE_STATUSES, STATUS_CHOICES
from store.models import Report
from store.search import SQLITE_MATCHES, searchable, text_matches
from store.states import ReportState
from vocabulary.kinds import KIND_NAMES

LOCAL_STATES = (ReportState.QUEUED, ReportState.DEAD)
# Control characters (NUL above all) are never in a report and break both databases' queries.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Filters over enum columns take only their values: another one would fail the query.
_CHOICES: dict[str, Collection[str]] = {"status": STATUS_CHOICES, "kind": KIND_NAMES}


@dataclass
class ReportFilter:
    """What the admin picked above the list; every field optional."""

    channel: str = ""
    kind: str = ""
    agency: str = ""
    status: str = ""
    date_from: str = ""  # YYYY-MM-DD in the gateway's zone
    date_to: str = ""
    overdue: bool = False
    q: str = ""

    @classmethod
    def from_args(cls, args: Any) -> ReportFilter:
        """Read the query string (unknown or malformed values are ignored)."""
        values: dict[str, Any] = {}
        for item in fields(cls):
            raw = _CONTROL.sub("", args.get(item.name) or "").strip()
            if item.name == "overdue":
                values["overdue"] = raw in ("1", "on", "true")
            elif item.name.startswith("date_"):
                values[item.name] = raw if _date(raw) else ""
            elif item.name in _CHOICES:
                values[item.name] = raw if raw in _CHOICES[item.name] else ""
            else:
                values[item.name] = raw[:200]
        return cls(**values)

    def as_args(self) -> dict[str, str]:
        """The filter as query-string arguments (empty ones left out)."""
        out: dict[str, str] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value:
                out[item.name] = "1" if value is True else str(value)
        return out


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def local_midnight(day: dt.date, zone: str) -> dt.datetime:
    """Midnight of `day` in `zone`, as an aware UTC time."""
    import zoneinfo  # noqa: PLC0415

    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=zoneinfo.ZoneInfo(zone)).astimezone(
        dt.UTC
    )


def status_expr() -> Any:
    """The status shown for a report: the central's once submitted, else the local state.

    Read as a plain string: the two columns are of two enums.
    """
    from sqlalchemy import case  # noqa: PLC0415

    shown = case((Report.state == ReportState.SUBMITTED, Report.central_status), else_=Report.state)
    return type_coerce(shown, String())


def apply_filter(
    query: Select[Any],
    flt: ReportFilter,
    zone: str,
    overdue_after: float,
    now: dt.datetime,
    *,
    dialect: str,
) -> Select[Any]:
    """The WHERE clauses of a filter (each one served by an index, see the migrations).

    `dialect` picks how text search reaches its index (store/search.py).
    """
    conditions: list[Any] = []
    if flt.channel:
        conditions.append(Report.channel == flt.channel)
    if flt.kind:
        conditions.append(Report.kind == flt.kind)
    if flt.agency:
        conditions.append(Report.agency == flt.agency)
    if flt.status:
        if flt.status in LOCAL_STATES:
            conditions.append(Report.state == flt.status)
        else:
            conditions.append(
                and_(Report.state == ReportState.SUBMITTED, Report.central_status == flt.status)
            )
    start, end = _date(flt.date_from), _date(flt.date_to)
    if start:
        conditions.append(Report.created_at >= local_midnight(start, zone))
    if end:
        conditions.append(Report.created_at < local_midnight(end + dt.timedelta(days=1), zone))
    if flt.overdue:
        conditions.append(Report.created_at < now - dt.timedelta(seconds=overdue_after))
        conditions.append(
            not_(
                and_(
                    Report.state == ReportState.SUBMITTED,
                    Report.central_status.in_(DONE_STATUSES),
                )
            )
        )
    if flt.q:
        text = flt.q.strip()
        content = text_matches(text, dialect)
        conditions.append(
            or_(
                Report.tracking_id == text.upper(),
                Report.id == text.upper(),
                *([] if content is None else [content]),
            )
        )
    return query.where(*conditions) if conditions else query


@dataclass
class ReportRow:
    """One line of the list (no personal data: the list never shows any)."""

    id: str
    tracking_id: str | None
    created_at: dt.datetime
    channel: str
    channel_type: str
    kind: str
    agency: str
    status: str | None
    title: str
    confidential: bool


@dataclass
class ReportPage:
    """One page of the list and where the next one starts."""

    rows: list[ReportRow]
    total: int
    next_cursor: str | None
    filters: ReportFilter = field(default_factory=ReportFilter)

    # SQLite: the text was found in more reports than are listed (store/search.py).
    matches_capped: bool = False

    @property
    def text_too_short(self) -> bool:
        """Typed text too short to look for in titles and bodies (ids only)."""
        return bool(self.filters.q) and not searchable(self.filters.q)


LIST_COLUMNS = (
    Report.id,
    Report.tracking_id,
    Report.created_at,
    Report.channel,
    Report.channel_type,
    Report.kind,
    Report.agency,
    status_expr().label("status"),
    Report.payload["title"].as_string().label("title"),
    Report.payload["privacy"]["confidential"].as_boolean().label("confidential"),
)


def list_reports(
    session: Session,
    flt: ReportFilter,
    *,
    zone: str,
    overdue_after: float,
    page_size: int,
    cursor: str | None = None,
    now: dt.datetime | None = None,
) -> ReportPage:
    """Newest first, `page_size` at a time; `cursor` is the last row of the page before."""
    now = now or dt.datetime.now(dt.UTC)
    dialect = session.get_bind().dialect.name
    base = apply_filter(select(*LIST_COLUMNS), flt, zone, overdue_after, now, dialect=dialect)
    query = base
    after = _parse_cursor(cursor)
    if after is not None:
        stamp, last_id = after
        query = query.where(
            or_(Report.created_at < stamp, and_(Report.created_at == stamp, Report.id < last_id))
        )
    query = query.order_by(Report.created_at.desc(), Report.id.desc()).limit(page_size + 1)
    rows = [ReportRow(**row._mapping) for row in session.execute(query)]
    count_query = apply_filter(
        select(func.count()).select_from(Report), flt, zone, overdue_after, now, dialect=dialect
    )
    total = int(session.scalar(count_query) or 0)
    next_cursor = None
    if len(rows) > page_size:
        rows = rows[:page_size]
        last = rows[-1]
        next_cursor = f"{last.created_at.isoformat()}|{last.id}"
    capped = dialect == "sqlite" and searchable(flt.q) and total >= SQLITE_MATCHES
    return ReportPage(rows, total, next_cursor, flt, matches_capped=capped)


def _parse_cursor(cursor: str | None) -> tuple[dt.datetime, str] | None:
    if not cursor or "|" not in cursor:
        return None
    stamp, _, last_id = cursor.partition("|")
    try:
        when = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)), last_id


def iter_export(
    session: Session,
    flt: ReportFilter,
    *,
    zone: str,
    overdue_after: float,
    limit: int = 100_000,
) -> Iterator[ReportRow]:
    """Every row the filter selects, newest first (for CSV and XLSX), up to `limit`."""
    now = dt.datetime.now(dt.UTC)
    query = (
        apply_filter(
            select(*LIST_COLUMNS),
            flt,
            zone,
            overdue_after,
            now,
            dialect=session.get_bind().dialect.name,
        )
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(limit)
        .execution_options(yield_per=1000)
    )
    for row in session.execute(query):
        yield ReportRow(**row._mapping)
