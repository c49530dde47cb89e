"""Channel health: each channel's source answering or failing, recorded without log floods.

A source that stays down (an IMAP server, a Kannel sendsms URL) would log one line per
retry. Only the first failure and the recovery are logged; every failure is counted (the
caller's metric) and kept in `channel_status`, which `/readyz` and the admin read.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store.models import ChannelStatus, utcnow

log = logging.getLogger(__name__)

MAX_ERROR = 500


class ChannelHealth:
    """Records successes and failures of channel sources; the caller counts metrics."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._failing: dict[str, bool] = {}

    def ok(self, channel: str) -> None:
        """The channel's source answered."""
        if self._failing.get(channel) is False:
            return  # known healthy: no write per success
        with self.sessions.begin() as session:
            row = session.get(ChannelStatus, channel)
            if row is None:
                row = ChannelStatus(channel=channel, failures=0)
                session.add(row)
            if row.failing_since is not None:
                log.info(
                    "channel %s: source reachable again after %d failure(s)",
                    channel,
                    row.failures,
                )
            row.failing_since, row.failures, row.last_ok_at = None, 0, utcnow()
        self._failing[channel] = False

    def failed(self, channel: str, error: str) -> None:
        """The channel's source did not answer; logged once per outage."""
        now = utcnow()
        with self.sessions.begin() as session:
            row = session.get(ChannelStatus, channel)
            if row is None:
                row = ChannelStatus(channel=channel, failures=0)
                session.add(row)
            first = row.failing_since is None
            row.failing_since = row.failing_since or now
            row.failures = (row.failures or 0) + 1
            row.last_error, row.last_error_at = error[:MAX_ERROR], now
        self._failing[channel] = True
        if first:
            log.warning(
                "channel %s: source unavailable: %s (further failures are counted, not"
                " logged, until it recovers)",
                channel,
                error,
            )


def failing_channels(session: Session) -> dict[str, ChannelStatus]:
    """The channels whose source is failing now, by name."""
    rows = session.scalars(select(ChannelStatus).where(ChannelStatus.failing_since.is_not(None)))
    return {row.channel: row for row in rows}
