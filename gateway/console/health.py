"""Per-channel health: traffic today and this week, last message, last error, state.

States: `alive`; `failing` (its source cannot be polled, or the channel could not start);
`silent` (nothing for longer than its `silence_alarm`); `idle` (nothing yet); `disabled`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal, select, type_coerce, union_all
from sqlalchemy.orm import Session

from adapters.registry import load_adapter_class
from config.loader import Config
from gateway.console.reports import local_midnight
from gateway.localtime import to_local
from store.health import channel_warnings, failing_channels
from store.models import InboundMessage, UTCDateTime
from store.states import InboundState
from vocabulary.errors import AdapterUnavailable


@dataclass
class ChannelHealth:
    """What the dashboard, the channels page and /readyz say about one channel."""

    name: str
    type: str
    modes: tuple[str, ...]
    enabled: bool
    started: bool
    description: str | None
    webhook_url: str | None
    today: int
    week: int
    last_message_at: dt.datetime | None
    last_error: str | None
    last_error_at: dt.datetime | None
    state: str
    silence_alarm: float | None
    last_warning: str | None = None  # a gap after an outage, say: it works, but look
    last_warning_at: dt.datetime | None = None


@dataclass
class Traffic:
    """Messages of one channel today and in 7 days, and the newest one's time."""

    today: int = 0
    week: int = 0
    last: dt.datetime | None = None


def _traffic(
    session: Session, names: list[str], today: dt.datetime, week: dt.datetime
) -> dict[str, Traffic]:
    """Per channel, each figure an index range of `ix_inbound_channel_received`.

    Asked channel by channel (`channel = ?` then a time range, or the index's last entry
    for the newest time), never grouped over every message of the week.
    """
    if not names:
        return {}
    parts = []
    for name in names:
        mine = InboundMessage.channel == name

        def count(since: dt.datetime, mine: Any = mine) -> Any:
            return (
                select(func.count())
                .where(mine, InboundMessage.received_at >= since)
                .scalar_subquery()
            )

        newest = type_coerce(  # keeps the column's type (aware UTC) through the union
            select(func.max(InboundMessage.received_at)).where(mine).scalar_subquery(),
            UTCDateTime(),
        )
        parts.append(
            select(
                literal(name).label("channel"),
                count(today).label("today"),
                count(week).label("week"),
                newest.label("last"),
            )
        )
    rows = session.execute(union_all(*parts)).all()
    return {
        str(channel): Traffic(int(n_today or 0), int(n_week or 0), last)
        for channel, n_today, n_week, last in rows
    }


def _last_rejections(
    session: Session, names: list[str]
) -> dict[str, tuple[dt.datetime, str | None]]:
    """Each channel's newest rejected input.

    Asked channel by channel: the last entry of its range of
    `ix_inbound_state_channel_stored`.
    """
    found = {}
    for name in names:
        row = session.execute(
            select(InboundMessage.stored_at, InboundMessage.error)
            .where(InboundMessage.state == InboundState.REJECTED, InboundMessage.channel == name)
            .order_by(InboundMessage.stored_at.desc())
            .limit(1)
        ).first()
        if row is not None:
            found[name] = (row[0], row[1])
    return found


def channel_health(
    session: Session, config: Config, started: set[str], now: dt.datetime | None = None
) -> list[ChannelHealth]:
    """Every configured channel, in config order."""
    now = now or dt.datetime.now(dt.UTC)
    zone = config.model.gateway.timezone
    today = local_midnight(to_local(now, zone).date(), zone)
    names = [c.name for c in config.channels]
    traffic = _traffic(session, names, today, today - dt.timedelta(days=6))
    rejected = _last_rejections(session, names)
    failing = failing_channels(session)
    warned = channel_warnings(session)
    result = []
    for options in config.channels:
        try:
            cls = load_adapter_class(options.type)
            modes = tuple(sorted(cls.modes))
            url = cls.inbound_url_for(config.model.gateway.public_url, options.name)
        except AdapterUnavailable:
            modes, url = (), ""
        down = failing.get(options.name)
        error, error_at = None, None
        if options.name in rejected:
            error_at, error = rejected[options.name]
            error = f"masukan ditolak: {error}"
        if down is not None and (
            error_at is None or (down.last_error_at and down.last_error_at >= error_at)
        ):
            error, error_at = f"sumber tidak terjangkau: {down.last_error}", down.last_error_at
        item = ChannelHealth(
            name=options.name,
            type=options.type,
            modes=modes,
            enabled=options.enabled,
            started=options.name in started,
            description=options.description,
            webhook_url=url if "push" in modes else None,
            today=traffic[options.name].today,
            week=traffic[options.name].week,
            last_message_at=traffic[options.name].last,
            last_error=error,
            last_error_at=error_at,
            state="alive",
            silence_alarm=options.silence_alarm,
        )
        if (warning := warned.get(options.name)) is not None:
            item.last_warning, item.last_warning_at = warning.last_warning, warning.last_warning_at
        item.state = _state(item, down is not None, now)
        result.append(item)
    return result


def _state(item: ChannelHealth, failing: bool, now: dt.datetime) -> str:
    if not item.enabled:
        return "disabled"
    if not item.started or failing:
        return "failing"
    if item.silence_alarm is not None and (
        item.last_message_at is None
        or (now - item.last_message_at).total_seconds() > item.silence_alarm
    ):
        return "silent"
    if item.last_message_at is None:
        return "idle"
    return "alive"
