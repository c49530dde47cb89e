"""Sends queued citizen replies through the channel each report came from, with retries.

A per-recipient limit (per hour and per day, counted per channel) holds back replies to a
recipient who has had too many already: an auto-responder answering every acknowledgement
cannot make the gateway send without end. Held replies wait as `limited` for an admin.

A batch is sent by a pool of threads, one recipient's replies in order by one thread: an
acknowledgement is never overtaken by the status change that follows it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from adapters.base import Adapter, OutgoingReply
from config.schema import ForwarderSection, RepliesSection
from forwarder import outbox
from forwarder.claiming import ClaimLoop
from forwarder.replies import recipient_hash
from store.contacts import last_contacts
from store.health import REPLIES, ChannelHealth
from store.metrics import Metrics
from store.models import ReplyItem, Report, utcnow
from store.states import ReplyState
from vocabulary.errors import SendError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplyJob:
    """One claimed reply with where it goes, read when it was claimed."""

    reply: OutgoingReply
    channel: str
    recipient: str | None


class ReplySender(ClaimLoop[list[ReplyJob]]):
    """Drains the reply outbox one batch at a time; a recipient's replies go in order."""

    role = "replies"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        adapters: Mapping[str, Adapter[Any]],
        settings: ForwarderSection,
        replies: RepliesSection | None = None,
        *,
        metrics: Metrics | None = None,
        owner: str | None = None,
        health: ChannelHealth | None = None,
    ) -> None:
        super().__init__(sessions, settings, metrics=metrics, owner=owner)
        self.health = health
        self.adapters = adapters
        self.limits = replies or RepliesSection()
        self.max_attempts = self.limits.max_attempts

    def claim(self, session: Session) -> tuple[int, list[list[ReplyJob]]]:
        """Lease due replies; those over a recipient's limit are held, the rest grouped.

        Each group is one recipient on one channel, in order, so one thread sends them and
        an acknowledgement is never overtaken by the status change that follows it.
        """
        items = outbox.claim_due(
            session,
            ReplyItem,
            owner=self.owner,
            limit=self.settings.batch_size,
            lease_seconds=self.settings.lease,
        )
        jobs = self._with_last_contact(session, [self._job(session, item) for item in items])
        groups: dict[tuple[str, str], list[ReplyJob]] = {}
        for job in self._within_limits(session, items, jobs):
            groups.setdefault((job.channel, job.recipient or job.reply.reply_id), []).append(job)
        return len(jobs), list(groups.values())

    @staticmethod
    def _job(session: Session, item: ReplyItem) -> ReplyJob:
        report = session.get(Report, item.report_id) if item.report_id else None
        reply_to = (
            item.reply_to if item.reply_to is not None else (report.reply_to if report else {})
        )
        reply = OutgoingReply(
            reply_id=item.id,
            report_id=item.report_id or "",
            tracking_id=report.tracking_id if report else None,
            event=item.event,
            text=item.text,
            reply_to=dict(reply_to or {}),
            external_id=report.external_id if report else "",
            choices=tuple((str(c[0]), str(c[1])) for c in item.choices or ()),
            confidential=_confidential(report),
            window_closed=bool(item.window_closed),
        )
        return ReplyJob(reply, item.channel, item.recipient)

    def _with_last_contact(self, session: Session, jobs: list[ReplyJob]) -> list[ReplyJob]:
        """The jobs, each told when its recipient last wrote (channels with a reply window).

        A reply's own `reply_to` says when the message it answers came; a later message of
        the citizen (a follow-up, a conversation turn, a status question) reopens the
        window, and only `store.contacts` knows of it.
        """
        keys: dict[int, tuple[str, str]] = {}
        for index, job in enumerate(jobs):
            adapter = self.adapters.get(job.channel)
            if adapter is None or not adapter.reply_window:
                continue
            recipient = recipient_hash(adapter.recipient_key(job.reply.reply_to))
            if recipient is not None:
                keys[index] = (job.channel, recipient)
        found = last_contacts(session, keys.values())
        for index, key in keys.items():
            if key in found:
                reply = dataclasses.replace(jobs[index].reply, last_contact=found[key])
                jobs[index] = dataclasses.replace(jobs[index], reply=reply)
        return jobs

    def work(self, batch: Sequence[list[ReplyJob]]) -> None:
        """Send each recipient's group in order, groups concurrently."""
        list(self.pool.map(self._send_in_order, batch))

    def _within_limits(
        self, session: Session, items: Sequence[ReplyItem], jobs: Sequence[ReplyJob]
    ) -> list[ReplyJob]:
        """The jobs that may go; the others are held as `limited` in the claim's transaction.

        Counts come from one query per window for the whole batch; a reply let through in
        this batch counts at once, so one batch cannot overshoot a limit either.
        """
        recipients = {job.recipient for job in jobs if job.recipient}
        if not recipients:
            return list(jobs)
        now = utcnow()

        def sent_since(hours: int) -> dict[tuple[str, str], int]:
            rows = session.execute(
                select(ReplyItem.channel, ReplyItem.recipient, func.count())
                .where(
                    ReplyItem.recipient.in_(recipients),
                    ReplyItem.state == ReplyState.SENT,
                    ReplyItem.sent_at >= now - dt.timedelta(hours=hours),
                )
                .group_by(ReplyItem.channel, ReplyItem.recipient)
            )
            return {(str(c), str(r)): int(n) for c, r, n in rows}

        hour, day = sent_since(1), sent_since(24)
        allowed = []
        for item, job in zip(items, jobs, strict=True):
            if job.recipient is None:
                allowed.append(job)
                continue
            key = (job.channel, job.recipient)
            in_hour, in_day = hour.get(key, 0), day.get(key, 0)
            if (
                in_hour < self.limits.max_per_recipient_hour
                and in_day < self.limits.max_per_recipient_day
            ):
                hour[key], day[key] = in_hour + 1, in_day + 1
                allowed.append(job)
                continue
            item.state = ReplyState.LIMITED
            item.last_error = (
                f"recipient limit reached: {in_hour} in the last hour, {in_day} in the last day"
            )
            outbox.release(item)
            self._count(job.channel, "limited")
            log.warning(
                "reply %s on %s held: its recipient reached the reply limit", item.id, job.channel
            )
        return allowed

    def _send_in_order(self, jobs: Sequence[ReplyJob]) -> None:
        for job in jobs:
            if self.stopping.is_set():
                return  # the lease runs out and the row is sent after the restart
            try:
                self._send(job)
            except Exception:
                # Never lose a reply over a bug here: its lease runs out and it is retried.
                log.exception("sending reply %s failed unexpectedly", job.reply.reply_id)

    def _send(self, job: ReplyJob) -> None:
        adapter = self.adapters.get(job.channel)
        provider_id: str | None = None
        error: SendError | None = None
        if adapter is None:
            error = SendError(
                f"kanal {job.channel} tidak diatur atau tidak aktif",
                retryable=True,
                code="no_channel",
            )
        else:
            try:
                provider_id = adapter.send_reply(job.reply)
            except SendError as exc:
                error = exc
        self._note_health(job.channel, error)
        with self.sessions.begin() as session:
            item = session.get(ReplyItem, job.reply.reply_id)
            if item is None or not outbox.still_leased(item, self.owner):
                return
            if error is None:
                item.state, item.sent_at, item.provider_id = ReplyState.SENT, utcnow(), provider_id
                # Statuses describe this send (a reply sent again starts afresh).
                item.delivery_status = item.delivery_at = item.delivery_error = None
                item.attempts += 1
                outbox.release(item)
                self._count(job.channel, "sent")
            elif error.retryable and item.attempts + 1 < self.max_attempts:
                delay = outbox.backoff_delay(
                    item.attempts, base=self.settings.backoff_base, cap=self.settings.backoff_max
                )
                outbox.schedule_retry(item, str(error), delay)
                self._count(job.channel, "retry")
                # One line per outage, not per retry: the channel's health logs the first
                # failure and the recovery; every retry is counted in the metrics.
                log.debug(
                    "reply %s on %s failed (%s); retry in %.1fs", item.id, job.channel, error, delay
                )
            else:
                outbox.bury(item, f"{error.code or 'error'}: {error}")
                self._count(job.channel, "dead")
                if self.metrics:
                    self.metrics.dead_letters.labels("reply").inc()
                log.error("reply %s on %s dead-lettered: %s", item.id, job.channel, error)

    def _note_health(self, channel: str, error: SendError | None) -> None:
        """A retryable failure says the channel's gateway is down; a success that it is up.

        A refusal for one recipient (a bad number) says nothing about the channel, and a
        success says nothing about reading it (its poll keeps its own failure).
        """
        if self.health is None:
            return
        if error is None:
            self.health.ok(channel, REPLIES)
        elif error.retryable:
            self.health.failed(channel, f"reply not sent: {error}", REPLIES)

    def _count(self, channel: str, result: str) -> None:
        if self.metrics:
            self.metrics.replies.labels(channel, result).inc()


def _confidential(report: Report | None) -> bool:
    """Whether the report must be answered privately (confidential, or whistleblowing)."""
    if report is None:
        return False
    privacy = (report.payload or {}).get("privacy") or {}
    return bool(privacy.get("confidential")) or report.kind == "whistleblowing"
