"""The forward worker: claims due outbox rows and tells the central, per the contract.

The HTTP call happens outside any database transaction: claim (commit) -> call -> record the
outcome (commit). A crash between the call and the record leaves a leased row that is
claimed again later; the central recognises the repeat by its Idempotency-Key, so nothing
arrives twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, null, select, update
from sqlalchemy.orm import Session, sessionmaker

from config.schema import ForwarderSection
from forwarder import outbox
from forwarder.claiming import ClaimLoop
from forwarder.model_pass import ModelPass
from forwarder.replies import ReplyQueue
from forwarder.routing import NoHigherAgency, Router
from forwarder.targets.lapor import LaporClient, Receipt, SubmitError
from normalizer.report import Routing
from store.metrics import Metrics
from store.models import ForwardItem, Report, TimelineEvent, utcnow
from store.states import ForwardAction, ForwardState, ReportState
from store.timeline import record_event
from vocabulary.kinds import Kind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ForwardCall:
    """One claimed row with what the call to the central needs, read when it was claimed."""

    item_id: int
    action: str
    report_id: str
    payload: dict[str, Any] | None
    wire: dict[str, Any]
    tracking_id: str | None
    channel: str = ""
    awaiting_models: dict[str, Any] | None = None  # the report waits for the models


@dataclass
class CallResult:
    """What one call to the central produced, recorded in the database afterwards."""

    receipt: Receipt | None = None
    error: SubmitError | None = None
    seconds: float = 0.0


class Forwarder(ClaimLoop[ForwardCall]):
    """Drains the forward outbox with a pool of threads."""

    role = "forwarder"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        client: LaporClient,
        router: Router,
        replies: ReplyQueue,
        settings: ForwarderSection,
        metrics: Metrics | None = None,
        owner: str | None = None,
        model_pass: ModelPass | None = None,
    ) -> None:
        super().__init__(sessions, settings, metrics=metrics, owner=owner)
        self.client = client
        self.router = router
        self.replies = replies
        self.model_pass = model_pass

    def drain(self, max_seconds: float = 30.0) -> int:
        """Process batches until nothing is due (or time is up); returns rows handled."""
        handled, deadline = 0, time.monotonic() + max_seconds
        while not self.stopping.is_set() and time.monotonic() < deadline:
            count = self.run_once()
            handled += count
            if count == 0:
                break
        return handled

    def claim(self, session: Session) -> tuple[int, list[ForwardCall]]:
        """Lease due forward rows with what each call needs."""
        items = outbox.claim_due(
            session,
            ForwardItem,
            owner=self.owner,
            limit=self.settings.batch_size,
            lease_seconds=self.settings.lease,
        )
        calls = []
        for item in items:
            report = session.get(Report, item.report_id)
            assert report is not None  # a foreign key guarantees it
            calls.append(
                ForwardCall(
                    item.id,
                    item.action,
                    report.id,
                    item.payload,
                    dict(report.payload),
                    report.tracking_id,
                    report.channel,
                    report.awaiting_models if item.action == ForwardAction.SUBMIT else None,
                )
            )
        return len(calls), calls

    def prepare(self, batch: list[ForwardCall]) -> list[ForwardCall]:
        """Let the models decide the reports waiting for them, before the central hears of any.

        The batch is read outside any transaction (one round trip to the models' process),
        then every decision is stored in one short transaction. A crash in between leaves
        the rows leased and the reports waiting: they are claimed and read again.
        """
        waiting = [call for call in batch if call.awaiting_models is not None]
        if not waiting:
            return batch
        if self.model_pass is None:  # a process without models: send as intake decided
            log.warning("%d report(s) wait for models this process does not have", len(waiting))
            return batch
        self.model_pass.prepare([call.wire for call in waiting])
        decided = {
            call.item_id: self.model_pass.settle(call.channel, call.wire, call.awaiting_models)
            for call in waiting
            if call.awaiting_models is not None
        }
        settled: dict[int, dict[str, Any]] = {}
        updates: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        table = Report.__table__.c
        with self.sessions.begin() as session:
            conn = session.connection()  # one SELECT, one UPDATE (executemany), one INSERT
            rows = {
                row.id: row
                for row in conn.execute(
                    select(table.id, table.channel, table.payload, table.awaiting_models)
                    .where(table.id.in_([call.report_id for call in waiting]))
                    .with_for_update()
                )
            }
            now = utcnow()
            for call in waiting:
                row = rows[call.report_id]
                if row.awaiting_models is None:  # settled meanwhile (an interrupted pass)
                    settled[call.item_id] = dict(row.payload)
                    continue
                outcome = decided[call.item_id]
                if row.awaiting_models != call.awaiting_models or row.payload != call.wire:
                    # an admin edited it since the claim: decide on what is there now
                    outcome = self.model_pass.settle(
                        row.channel, dict(row.payload), row.awaiting_models
                    )
                updates.append(
                    {
                        "b_id": row.id,
                        "b_payload": outcome.wire,
                        "b_kind": Kind(outcome.kind),
                        "b_agency": outcome.agency,
                        "b_at": now,
                    }
                )
                events.extend(
                    {"report_id": row.id, "event": event, "detail": detail, "at": now}
                    for event, detail in outcome.events
                )
                settled[call.item_id] = outcome.wire
            if updates:
                conn.execute(
                    update(cast(Table, Report.__table__))
                    .where(table.id == bindparam("b_id"))
                    .values(
                        payload=bindparam("b_payload"),
                        kind=bindparam("b_kind"),
                        agency=bindparam("b_agency"),
                        updated_at=bindparam("b_at"),
                        awaiting_models=null(),
                    ),
                    updates,
                )
            if events:
                conn.execute(insert(cast(Table, TimelineEvent.__table__)), events)
        return [
            dataclasses.replace(call, wire=settled[call.item_id], awaiting_models=None)
            if call.item_id in settled
            else call
            for call in batch
        ]

    def work(self, batch: Sequence[ForwardCall]) -> None:
        """Call the central for each claimed row, concurrently."""
        list(self.pool.map(self._process, batch))

    def _process(self, job: ForwardCall) -> None:
        try:
            outcome = self._call(job)
            with self.sessions.begin() as session:
                self._record(session, job.item_id, job.action, outcome)
        except Exception:
            # The lease runs out and the row is tried again; never lose it over a bug here.
            log.exception(
                "forwarding outbox row %s (%s) failed unexpectedly", job.item_id, job.action
            )

    def _call(self, job: ForwardCall) -> CallResult:
        action, wire, tracking_id, payload = job.action, job.wire, job.tracking_id, job.payload
        started = time.monotonic()
        try:
            if action == ForwardAction.SUBMIT:
                receipt = self.client.submit(wire)
                return CallResult(receipt=receipt, seconds=time.monotonic() - started)
            if tracking_id is None:
                raise SubmitError(
                    "report has no tracking id yet", code="not_submitted", retryable=True
                )
            if action == ForwardAction.REROUTE:
                routing = wire["routing"]
                self.client.reroute(
                    tracking_id, routing["agency"], routing["reason"], routing.get("hops", [])
                )
            elif action == ForwardAction.FOLLOWUP:
                body = dict(payload or {})
                self.client.followup(tracking_id, str(body["id"]), body)
            else:
                raise SubmitError(
                    f"unknown outbox action {action}", code="bad_action", retryable=False
                )
            return CallResult(seconds=time.monotonic() - started)
        except SubmitError as exc:
            return CallResult(error=exc, seconds=time.monotonic() - started)

    def _record(self, session: Session, item_id: int, action: str, outcome: CallResult) -> None:
        item = session.get(ForwardItem, item_id)
        if item is None or not outbox.still_leased(item, self.owner):
            return  # our lease ran out and another worker took over; it will record
        report = session.get(Report, item.report_id)
        assert report is not None
        if self.metrics:
            self.metrics.call_latency.observe(outcome.seconds)
        err = outcome.error
        if err is None:
            self._succeeded(session, item, report, action, outcome.receipt)
        elif err.code == "out_of_authority":
            self._escalate(session, item, report, action, err)
        elif err.code == "not_submitted":
            # A follow-up or reroute waits for its report's submission: not a failure, so
            # no attempt is spent (a long outage must not dead-letter it).
            item.next_attempt_at = utcnow() + dt.timedelta(seconds=self.settings.interval)
            outbox.release(item)
        elif err.retryable and item.attempts + 1 < self.settings.max_attempts:
            delay = outbox.backoff_delay(
                item.attempts,
                base=self.settings.backoff_base,
                cap=self.settings.backoff_max,
                retry_after=err.retry_after,
            )
            outbox.schedule_retry(item, err.describe(), delay)
            self._count(action, "retry")
            log.warning(
                "central refused %s of report %s for now (%s); retry in %.1fs",
                action,
                report.id,
                err.describe(),
                delay,
            )
        else:
            self._dead(session, item, report, action, err.describe())

    def _count(self, action: str, result: str) -> None:
        if self.metrics:
            self.metrics.forwarded.labels(action, result).inc()

    def _succeeded(
        self,
        session: Session,
        item: ForwardItem,
        report: Report,
        action: str,
        receipt: Receipt | None,
    ) -> None:
        item.state, item.done_at = ForwardState.DONE, utcnow()
        item.attempts += 1  # the successful call is an attempt too (shown to admins)
        outbox.release(item)
        self._count(action, "ok")
        if action == ForwardAction.SUBMIT and receipt is not None:
            report.tracking_id = receipt.tracking_id
            report.central_status = receipt.status
            if receipt.status is None:
                log.warning(
                    "report %s: the central's receipt has a status the contract does not know",
                    report.id,
                )
            report.state = ReportState.SUBMITTED
            record_event(
                session,
                report.id,
                "forwarded",
                tracking_id=receipt.tracking_id,
                agency=report.agency,
                attempts=item.attempts,
                replayed=receipt.replayed,
            )
            self.replies.acknowledge(session, report)
            if self.metrics:
                self.metrics.forward_latency.observe((utcnow() - report.created_at).total_seconds())
            log.info("report %s accepted by the central as %s", report.id, receipt.tracking_id)
        else:
            record_event(session, report.id, f"{action}_sent", agency=report.agency)

    def _escalate(
        self, session: Session, item: ForwardItem, report: Report, action: str, err: SubmitError
    ) -> None:
        current = Routing.model_validate(report.payload["routing"])
        try:
            routing = self.router.escalate(current)
        except NoHigherAgency as exc:
            self._dead(session, item, report, action, f"{err.describe()}; {exc}")
            return
        apply_routing(report, routing)
        record_event(
            session,
            report.id,
            "rerouted",
            agency=routing.agency,
            reason=routing.reason,
            hops=routing.hops,
        )
        # Only a 2xx binds the idempotency key: the same key may now go to the parent.
        item.next_attempt_at = utcnow()
        outbox.release(item)
        self._count(action, "out_of_authority")
        log.info(
            "report %s returned by %s; sent on to %s", report.id, current.agency, routing.agency
        )

    def _dead(
        self, session: Session, item: ForwardItem, report: Report, action: str, reason: str
    ) -> None:
        outbox.bury(item, reason)
        if action == ForwardAction.SUBMIT:
            report.state = ReportState.DEAD
        record_event(session, report.id, "dead_letter", action=action, error=reason)
        self._count(action, "dead")
        if self.metrics:
            self.metrics.dead_letters.labels("forward").inc()
        log.error("report %s: %s dead-lettered: %s", report.id, action, reason)


def apply_routing(report: Report, routing: Routing) -> None:
    """Store a new routing on the report row and inside the payload sent to the central."""
    payload = dict(report.payload)
    payload["routing"] = routing.model_dump(mode="json")
    report.payload = payload
    report.agency = routing.agency
    report.hops = list(routing.hops)
