"""Channel health: each channel's source answering or failing, recorded without log floods.

A source that stays down (an IMAP server, a Kannel sendsms URL) would log one line per
retry. Only the first failure and the recovery are logged; every failure is counted (the
caller's metric) and kept in `channel_status`, which `/readyz` and the admin read.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from store.models import ChannelStatus, utcnow

log = logging.getLogger(__name__)

MAX_ERROR = 500


class ChannelHealth:
    """Records successes and failures of channel sources; the caller counts metrics."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._failing: dict[str, bool] = {}
        self._lock = threading.Lock()

    def ok(self, channel: str) -> None:
        """The channel's source answered."""
        if self._failing.get(channel) is False:
            return  # known healthy: no write per success
        recovered = self._write(channel, self._mark_ok)
        if recovered:
            log.info("channel %s: source reachable again after %d failure(s)", channel, recovered)
        self._failing[channel] = False

    def failed(self, channel: str, error: str) -> None:
        """The channel's source did not answer; logged once per outage."""
        first = self._write(channel, lambda row: self._mark_failed(row, error))
        self._failing[channel] = True
        if first:
            log.warning(
                "channel %s: source unavailable: %s (further failures are counted, not"
                " logged, until it recovers)",
                channel,
                error,
            )

    def _write(self, channel: str, change: Callable[[ChannelStatus], int]) -> int:
        """Apply `change` to the channel's row (made if missing); never fails its caller.

        Health is bookkeeping beside the real work (a poll, a reply): a race with another
        process over the first row is retried once, and a database error is logged, not
        raised into the job that reported.
        """
        with self._lock:
            for attempt in (1, 2):
                try:
                    with self.sessions.begin() as session:
                        row = session.get(ChannelStatus, channel)
                        if row is None:
                            row = ChannelStatus(channel=channel, failures=0)
                            session.add(row)
                        return change(row)
                except IntegrityError:
                    if attempt == 2:
                        break
                except SQLAlchemyError as exc:
                    log.error("channel %s: health not recorded: %s", channel, type(exc).__name__)
                    break
        return 0

    @staticmethod
    def _mark_ok(row: ChannelStatus) -> int:
        """Returns the failures it recovers from (0 when it was not failing)."""
        recovered = row.failures or 0 if row.failing_since is not None else 0
        row.failing_since, row.failures, row.last_ok_at = None, 0, utcnow()
        return recovered

    @staticmethod
    def _mark_failed(row: ChannelStatus, error: str) -> int:
        """Returns 1 for the first failure of an outage, else 0."""
        now = utcnow()
        first = row.failing_since is None
        row.failing_since = row.failing_since or now
        row.failures = (row.failures or 0) + 1
        row.last_error, row.last_error_at = error[:MAX_ERROR], now
        return 1 if first else 0


def failing_channels(session: Session) -> dict[str, ChannelStatus]:
    """The channels whose source is failing now, by name."""
    rows = session.scalars(select(ChannelStatus).where(ChannelStatus.failing_since.is_not(None)))
    return {row.channel: row for row in rows}
