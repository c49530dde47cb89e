"""Learning from corrections: training rows written when a report's agency turns out wrong.

Callers own the session (STYLE.md): the status sync records a reroute or the central's own
move of a report, the admin console records an admin's correction through
`record_correction(session, report, agency, CorrectionSource.ADMIN)`. `history_rows` gives the
pemda's history (text with personal data removed, final agency) for `routing export-history`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from normalizer.redact import replace_personal_data
from store.models import Report, TrainingRow, utcnow
from store.states import CorrectionSource
from store.timeline import record_event
from vocabulary.central import CentralStatus

# Central statuses that mean the agency took the report on (it did not bounce it).
ACCEPTED_STATUSES: Final = frozenset(
    {
        CentralStatus.DISPOSITIONED,
        CentralStatus.IN_PROGRESS,
        CentralStatus.COMPLETED,
        CentralStatus.CLOSED,
    }
)


def report_text(report: Report) -> str:
    """The report's title and body as a classifier reads them, without personal data."""
    payload = report.payload or {}
    text = f"{payload.get('title') or ''}\n{payload.get('body') or ''}".strip()
    return replace_personal_data(text)


def record_correction(
    session: Session,
    report: Report,
    agency: str,
    source: CorrectionSource = CorrectionSource.ADMIN,
) -> TrainingRow:
    """Record that `report` belongs to `agency` (a later correction replaces an earlier one).

    Also noted on the report's timeline (`agency_corrected`).
    """
    row = session.scalar(select(TrainingRow).where(TrainingRow.report_id == report.id))
    previous = report.agency if row is None else row.agency
    if row is None:
        row = TrainingRow(report_id=report.id, previous_agency=previous)
        session.add(row)
    row.text = report_text(report)
    row.agency = agency
    row.source = source
    row.updated_at = utcnow()
    record_event(
        session, report.id, "agency_corrected", agency=agency, previous=previous, source=source
    )
    return row


@dataclass(frozen=True)
class HistoryRow:
    """One exported row: the text (no personal data), the final agency, and where it came from."""

    text: str
    agency: str
    source: str  # reroute | central | admin | accepted
    at: dt.datetime


def history_rows(
    session: Session, *, since: dt.datetime | None = None, include_unconfirmed: bool = False
) -> Iterator[HistoryRow]:
    """Every report whose final agency is known, oldest first.

    Known means: corrected (a training row), or taken on by its agency at the central
    (ACCEPTED_STATUSES). With `include_unconfirmed`, every other submitted report counts
    with its current agency too.
    """
    corrected = select(TrainingRow).order_by(TrainingRow.id)
    if since is not None:
        corrected = corrected.where(TrainingRow.updated_at >= since)
    done: set[str] = set()
    for row in session.scalars(corrected):
        done.add(row.report_id)
        yield HistoryRow(row.text, row.agency, row.source, row.updated_at)
    reports = select(Report).where(Report.tracking_id.is_not(None)).order_by(Report.created_at)
    if since is not None:
        reports = reports.where(Report.created_at >= since)
    for report in session.scalars(reports.execution_options(yield_per=500)):
        if report.id in done:
            continue
        accepted = report.central_status in ACCEPTED_STATUSES
        if accepted or include_unconfirmed:
            source = "accepted" if accepted else "unconfirmed"
            yield HistoryRow(report_text(report), report.agency, source, report.created_at)
