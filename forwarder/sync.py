"""Status sync: reads the central's changes feed and brings each report's timeline up to date.

Every entry of a report's `history` in the feed (status, `at`, agency, note) lands on its
timeline once, in order, at the central's own time, so SLA clocks measure what the agencies
did and when; a status that came and went between two passes is recorded too. The citizen
is told once per pass that changed the report's status (its newest status), and once per
agency response. A `returned` status sends the report one level up the agency tree
through the contract's `reroute` call, so the tracking id stays the same. Both a reroute and
the central moving a report to another configured agency are recorded as training rows
(store.training), so the routing model can learn from them.

Statuses are read here, at the boundary, as `CentralStatus`: one outside the contract (a
newer central) is logged as a warning and recorded nowhere; the report keeps its last known
status, and the rest of the item (other history entries, agency responses) still applies.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from forwarder.replies import ReplyQueue
from forwarder.routing import NoHigherAgency, Router
from forwarder.targets.lapor import LaporClient
from forwarder.worker import apply_routing
from normalizer.report import Routing
from store.models import ForwardItem, Report, SyncState, TimelineEvent
from store.states import CorrectionSource, ForwardAction
from store.timeline import central_key, record_central_status, record_event
from store.training import record_correction
from vocabulary.central import CentralStatus

log = logging.getLogger(__name__)

CURSOR_KEY = "central.changes.updated_since"
EPOCH = "1970-01-01T00:00:00Z"
OVERLAP = dt.timedelta(seconds=2)  # re-read a sliver: changes stamped in the same instant


def _parse_time(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _status(value: Any, report_id: str) -> CentralStatus | None:
    """The contract's status, or None (logged) for a value outside it."""
    status = CentralStatus.parse(value)
    if status is None:
        log.warning(
            "report %s: the central sent status %r, which the contract does not know; ignored",
            report_id,
            str(value)[:40],
        )
    return status


class StatusSync:
    """One pass over the changes feed per call of `run_once`."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        client: LaporClient,
        router: Router,
        replies: ReplyQueue,
        page_size: int = 100,
    ) -> None:
        self.sessions = sessions
        self.client = client
        self.router = router
        self.replies = replies
        self.page_size = page_size

    def run_once(self) -> int:
        """Read every page of changes since the last pass; returns the items applied."""
        with self.sessions() as session:
            state = session.get(SyncState, CURSOR_KEY)
            since = state.value if state else EPOCH
        newest: dt.datetime | None = None
        waiting: dt.datetime | None = None  # the oldest change of a report still in flight
        cursor: str | None = None
        applied = 0
        while True:
            page = self.client.changes(since, cursor, self.page_size)
            with self.sessions.begin() as session:
                for item in page.items:
                    stamp = _parse_time(str(item["updated_at"]))
                    result = self.apply(session, item)
                    if result is None:
                        waiting = stamp if waiting is None or stamp < waiting else waiting
                    elif result:
                        applied += 1
                    newest = stamp if newest is None or stamp > newest else newest
            cursor = page.next_cursor
            if not cursor or not page.items:
                break
        if waiting is not None:
            # Read this change again next time, once the forwarder has recorded the receipt.
            newest = waiting if newest is None else min(newest, waiting)
        if newest is not None:
            with self.sessions.begin() as session:
                state = session.get(SyncState, CURSOR_KEY)
                value = _iso(max(newest - OVERLAP, _parse_time(since)))
                if state is None:
                    session.add(SyncState(key=CURSOR_KEY, value=value))
                else:
                    state.value = value
        return applied

    def apply(self, session: Session, item: dict[str, Any]) -> bool | None:
        """Apply one ReportStatus; returns whether anything was new (None: not yet).

        A report whose submission is still in flight (the central accepted it, the forwarder
        has not recorded the receipt) is left alone: its local status is still empty, so
        `received` would look like a change and the citizen would be told of a report
        without its tracking id. The change is read again at the next pass.
        """
        report = None
        if item.get("gateway_id"):
            report = session.get(Report, item["gateway_id"])
        if report is None:
            report = session.scalar(select(Report).where(Report.tracking_id == item["tracking_id"]))
        if report is None:
            return False  # submitted by someone else, or not ours
        if report.tracking_id is None:
            return None
        updated_at = _parse_time(str(item["updated_at"]))
        status = _status(item["status"], report.id)
        changed = self._record_history(session, report, item)
        responses = [
            r
            for r in item.get("responses") or []
            if self._new_response(session, report.id, str(r["id"]))
        ]
        told: str | None = None  # a response told within the completion message
        if (
            status is not None
            and status != report.central_status
            and (report.central_updated_at is None or updated_at >= report.central_updated_at)
        ):
            changed = True
            report.central_status = status
            report.central_updated_at = updated_at
            told = self._tell_status(session, report, item, status, responses, _iso(updated_at))
            if status == CentralStatus.RETURNED:
                self._reroute(session, report, item.get("agency"))
            else:
                self._note_central_move(session, report, item.get("agency"))
        for response in responses:
            changed = True
            # The text is kept for the reporter's own status queries; the public
            # status page shows only whitelisted details, never this one.
            record_event(
                session,
                report.id,
                "response",
                id=str(response["id"]),
                agency=response.get("agency"),
                text=str(response["text"]),
            )
            if str(response["id"]) != told:
                self.replies.agency_response(
                    session,
                    report,
                    str(response["id"]),
                    response.get("agency"),
                    str(response["text"]),
                )
        return changed

    def _tell_status(
        self,
        session: Session,
        report: Report,
        item: dict[str, Any],
        status: CentralStatus,
        responses: list[dict[str, Any]],
        at: str,
    ) -> str | None:
        """Tell the citizen the new status; returns the id of a response told with it.

        A report completed together with a new agency response is told once, as the
        completion carrying that response (issue 12.6); a response told before is not
        repeated, and one that comes later is told on its own.
        """
        note = self._latest_note(item, status)
        if status == CentralStatus.COMPLETED and responses:
            latest = responses[-1]
            self.replies.completed(
                session,
                report,
                str(latest["id"]),
                latest.get("agency") or item.get("agency"),
                str(latest["text"]),
                note,
            )
            return str(latest["id"])
        self.replies.status_changed(session, report, status, at, item.get("agency"), note)
        return None

    @staticmethod
    def _record_history(session: Session, report: Report, item: dict[str, Any]) -> bool:
        """Record each history entry not recorded yet, in order; whether any was new.

        A feed item without a history counts as one entry: its status at `updated_at`; an
        entry without its own time (the contract requires one) is taken at `updated_at` too,
        so one off-contract entry never stops the pass. Status events recorded before entries
        carried their key (by the sync of an older version, stamped with the time it saw them)
        cover everything up to the report's `central_updated_at`: entries up to then are not
        recorded a second time.
        """
        history = item.get("history") or [
            {"status": item["status"], "at": item["updated_at"], "agency": item.get("agency")}
        ]
        details = session.scalars(
            select(TimelineEvent.detail).where(
                TimelineEvent.report_id == report.id, TimelineEvent.event == "status"
            )
        ).all()
        seen = {str(d["central"]) for d in details if d.get("central")}
        legacy_until = (
            report.central_updated_at if any(not d.get("central") for d in details) else None
        )
        new = False
        for entry in history:
            when = entry.get("at") or item["updated_at"]
            status, at = _status(entry["status"], report.id), _parse_time(str(when))
            if status is None:
                continue
            key = central_key(status, at)
            if key in seen or (legacy_until is not None and at <= legacy_until):
                continue
            seen.add(key)
            note = entry.get("note")
            record_central_status(
                session,
                report.id,
                status=status,
                at=at,
                agency=entry.get("agency"),
                note=str(note) if note is not None else None,
            )
            new = True
        return new

    def _note_central_move(self, session: Session, report: Report, agency: str | None) -> None:
        """The central handed the report to another configured agency: a training row."""
        if agency and agency != report.agency and agency in self.router.parents:
            record_correction(session, report, agency, CorrectionSource.CENTRAL)

    @staticmethod
    def _latest_note(item: dict[str, Any], status: CentralStatus) -> str | None:
        for entry in reversed(item.get("history") or []):
            if entry.get("status") == status:
                note = entry.get("note")
                return str(note) if note is not None else None
        return None

    @staticmethod
    def _new_response(session: Session, report_id: str, response_id: str) -> bool:
        seen = session.scalars(
            select(TimelineEvent.detail).where(
                TimelineEvent.report_id == report_id, TimelineEvent.event == "response"
            )
        )
        return all(detail.get("id") != response_id for detail in seen)

    def _reroute(self, session: Session, report: Report, returned_by: str | None) -> None:
        current = Routing.model_validate(report.payload["routing"])
        try:
            routing = self.router.escalate(current, returned_by)
        except NoHigherAgency as exc:
            record_event(session, report.id, "reroute_impossible", reason=str(exc))
            log.error("report %s returned at the top of the agency tree: %s", report.id, exc)
            return
        record_correction(session, report, routing.agency, CorrectionSource.REROUTE)
        apply_routing(report, routing)
        record_event(
            session,
            report.id,
            "rerouted",
            agency=routing.agency,
            reason=routing.reason,
            hops=routing.hops,
        )
        session.add(ForwardItem(report_id=report.id, action=ForwardAction.REROUTE))
