"""Channel health: each channel's source answering or failing, recorded without log floods.

A source that stays down (an IMAP server, a Kannel sendsms URL) would log one line per
retry. Only the first failure and the recovery are logged; every failure is counted (the
caller's metric) and kept in `channel_status`, which `/readyz` and the admin read.

A channel has two parts that fail apart: its source (a poll reading it) and its replies
(sending through it). A success of one never clears a failure of the other: an X account
whose tier cannot read mentions stays failing while its DMs go out, until a poll succeeds.
`channel_status.failing_parts` names the parts failing now; the channel is failing while
any part is.

A channel warning is not a failure: the channel works, but something needs an admin's eyes
(an outage longer than X keeps mentions for, so some may be missing). The newest one is kept
with its time (`last_warning`) until a newer one replaces it, across restarts.
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
SOURCE = "source"  # reading the channel: a poll of IMAP, Gammu, X...
REPLIES = "replies"  # sending replies through the channel


def _parts(row: ChannelStatus) -> set[str]:
    return {p for p in (row.failing_parts or "").split(",") if p}


class ChannelHealth:
    """Records successes and failures of channel sources; the caller counts metrics."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._failing: dict[tuple[str, str], bool] = {}
        self._lock = threading.Lock()

    def ok(self, channel: str, part: str = SOURCE) -> None:
        """The channel's source (or `part`) answered."""
        if self._failing.get((channel, part)) is False:
            return  # known healthy: no write per success
        recovered = self._write(channel, lambda row: self._mark_ok(row, part))
        if recovered:
            log.info("channel %s: source reachable again after %d failure(s)", channel, recovered)
        self._failing[(channel, part)] = False

    def failed(self, channel: str, error: str, part: str = SOURCE) -> None:
        """The channel's source (or `part`) did not answer; logged once per outage."""
        first = self._write(channel, lambda row: self._mark_failed(row, error, part))
        self._failing[(channel, part)] = True
        if first:
            log.warning(
                "channel %s: source unavailable: %s (further failures are counted, not"
                " logged, until it recovers)",
                channel,
                error,
            )

    def warned(self, channel: str, message: str) -> None:
        """Keep the channel's newest warning (Indonesian, no personal data) for the admin."""
        self._write(channel, lambda row: self._mark_warned(row, message))

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
    def _mark_ok(row: ChannelStatus, part: str) -> int:
        """Returns the failures the channel recovers from (0 while another part still fails).

        A row failing without named parts (written before parts were kept) is cleared by
        any success, as it was then.
        """
        row.last_ok_at = utcnow()
        if row.failing_since is None:
            return 0
        left = _parts(row) - {part}
        if left:
            row.failing_parts = ",".join(sorted(left))
            return 0
        recovered = row.failures or 0
        row.failing_since, row.failures, row.failing_parts = None, 0, None
        return recovered

    @staticmethod
    def _mark_failed(row: ChannelStatus, error: str, part: str) -> int:
        """Returns 1 for the first failure of this part in an outage, else 0."""
        now = utcnow()
        parts = _parts(row)
        first = row.failing_since is None or part not in parts
        row.failing_since = row.failing_since or now
        row.failing_parts = ",".join(sorted(parts | {part}))
        row.failures = (row.failures or 0) + 1
        row.last_error, row.last_error_at = error[:MAX_ERROR], now
        return 1 if first else 0

    @staticmethod
    def _mark_warned(row: ChannelStatus, message: str) -> int:
        row.last_warning, row.last_warning_at = message[:MAX_ERROR], utcnow()
        return 0


def channel_warnings(session: Session) -> dict[str, ChannelStatus]:
    """The channels that have a warning on record, by name."""
    rows = session.scalars(select(ChannelStatus).where(ChannelStatus.last_warning_at.is_not(None)))
    return {row.channel: row for row in rows}


def failing_channels(session: Session) -> dict[str, ChannelStatus]:
    """The channels whose source is failing now, by name."""
    rows = session.scalars(select(ChannelStatus).where(ChannelStatus.failing_since.is_not(None)))
    return {row.channel: row for row in rows}
