"""Sends queued citizen replies through the channel each report came from, with retries.

A per-recipient limit (per hour and per day, counted per channel) holds back replies to a
recipient who has had too many already: an auto-responder answering every acknowledgement
cannot make the gateway send without end. Held replies wait as `limited` for an admin.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from adapters.base import Adapter, OutgoingReply
from adapters.errors import SendError
from config.schema import ForwarderSection, RepliesSection
from forwarder import outbox
from forwarder.worker import worker_identity
from gateway.metrics import Metrics
from gateway.store.models import ReplyItem, Report, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Job:
    reply: OutgoingReply
    channel: str
    recipient: str | None


class ReplySender:
    """Drains the reply outbox one batch at a time."""

    def __init__(self, sessions: sessionmaker[Session], adapters: Mapping[str, Adapter],
                 settings: ForwarderSection, replies: RepliesSection | None = None, *,
                 metrics: Metrics | None = None, owner: str | None = None) -> None:
        self.sessions = sessions
        self.adapters = adapters
        self.settings = settings
        self.limits = replies or RepliesSection()
        self.max_attempts = self.limits.max_attempts
        self.metrics = metrics
        self.owner = owner or worker_identity("replies")
        self.stopping = threading.Event()

    def run_once(self) -> int:
        """Claim due replies, send each, record the outcome; returns how many were tried."""
        with self.sessions.begin() as session:
            items = outbox.claim_due(session, ReplyItem, owner=self.owner,
                                     limit=self.settings.batch_size,
                                     lease_seconds=self.settings.lease)
            jobs = []
            for item in items:
                report = session.get(Report, item.report_id) if item.report_id else None
                reply_to = item.reply_to if item.reply_to is not None else (
                    report.reply_to if report else {})
                jobs.append(_Job(OutgoingReply(
                    reply_id=item.id, report_id=item.report_id or "",
                    tracking_id=report.tracking_id if report else None,
                    event=item.event, text=item.text, reply_to=dict(reply_to or {}),
                    external_id=report.external_id if report else ""), item.channel,
                    item.recipient))
        for job in jobs:
            if self.stopping.is_set():
                break
            if self._over_limit(job):
                continue
            self._send(job)
        return len(jobs)

    def _over_limit(self, job: _Job) -> bool:
        """Hold the reply (state `limited`) when its recipient has had too many already."""
        if job.recipient is None:
            return False
        now = utcnow()
        with self.sessions.begin() as session:
            def sent_since(hours: int) -> int:
                return int(session.scalar(select(func.count()).select_from(ReplyItem).where(
                    ReplyItem.channel == job.channel, ReplyItem.recipient == job.recipient,
                    ReplyItem.state == "sent",
                    ReplyItem.sent_at >= now - dt.timedelta(hours=hours))) or 0)

            hour, day = sent_since(1), sent_since(24)
            if hour < self.limits.max_per_recipient_hour \
                    and day < self.limits.max_per_recipient_day:
                return False
            item = session.get(ReplyItem, job.reply.reply_id)
            if item is None or not outbox.still_leased(item, self.owner):
                return True
            item.state = "limited"
            item.last_error = (f"recipient limit reached: {hour} in the last hour,"
                               f" {day} in the last day")
            outbox.release(item)
        self._count(job.channel, "limited")
        log.warning("reply %s on %s held: its recipient reached the reply limit",
                    job.reply.reply_id, job.channel)
        return True

    def _send(self, job: _Job) -> None:
        adapter = self.adapters.get(job.channel)
        provider_id: str | None = None
        error: SendError | None = None
        if adapter is None:
            error = SendError(f"channel {job.channel} is not configured or not enabled",
                              retryable=True, code="no_channel")
        else:
            try:
                provider_id = adapter.send_reply(job.reply)
            except SendError as exc:
                error = exc
        with self.sessions.begin() as session:
            item = session.get(ReplyItem, job.reply.reply_id)
            if item is None or not outbox.still_leased(item, self.owner):
                return
            if error is None:
                item.state, item.sent_at, item.provider_id = "sent", utcnow(), provider_id
                item.attempts += 1
                outbox.release(item)
                self._count(job.channel, "sent")
            elif error.retryable and item.attempts + 1 < self.max_attempts:
                delay = outbox.backoff_delay(item.attempts, base=self.settings.backoff_base,
                                             cap=self.settings.backoff_max)
                outbox.schedule_retry(item, str(error), delay)
                self._count(job.channel, "retry")
                log.warning("reply %s on %s failed (%s); retry in %.1fs", item.id, job.channel,
                            error, delay)
            else:
                outbox.bury(item, f"{error.code or 'error'}: {error}")
                self._count(job.channel, "dead")
                if self.metrics:
                    self.metrics.dead_letters.labels("reply").inc()
                log.error("reply %s on %s dead-lettered: %s", item.id, job.channel, error)

    def _count(self, channel: str, result: str) -> None:
        if self.metrics:
            self.metrics.replies.labels(channel, result).inc()
