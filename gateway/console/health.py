"""Per-channel health: traffic today and this week, last message, last error, state.

States: `alive`; `failing` (its source cannot be polled, or the channel could not start);
`silent` (nothing for longer than its `silence_alarm`); `idle` (nothing yet); `disabled`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adapters.registry import load_adapter_class
from config.loader import Config
from gateway.console.reports import local_midnight
from gateway.localtime import to_local
from store.health import failing_channels
from store.models import InboundMessage
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


def _counts_since(session: Session, since: dt.datetime) -> dict[str, int]:
    rows = session.execute(
        select(InboundMessage.channel, func.count())
        .where(InboundMessage.received_at >= since)
        .group_by(InboundMessage.channel)
    )
    return {channel: int(n) for channel, n in rows}


def _last_rejections(session: Session) -> dict[str, tuple[dt.datetime, str | None]]:
    newest = (
        select(InboundMessage.channel, func.max(InboundMessage.stored_at).label("at"))
        .where(InboundMessage.state == "rejected")
        .group_by(InboundMessage.channel)
        .subquery()
    )
    rows = session.execute(
        select(InboundMessage.channel, InboundMessage.stored_at, InboundMessage.error).join(
            newest,
            (newest.c.channel == InboundMessage.channel)
            & (newest.c.at == InboundMessage.stored_at),
        )
    )
    return {channel: (at, error) for channel, at, error in rows}


def channel_health(
    session: Session, config: Config, started: set[str], now: dt.datetime | None = None
) -> list[ChannelHealth]:
    """Every configured channel, in config order."""
    now = now or dt.datetime.now(dt.UTC)
    zone = config.model.gateway.timezone
    today = local_midnight(to_local(now, zone).date(), zone)
    today_counts = _counts_since(session, today)
    week_counts = _counts_since(session, today - dt.timedelta(days=6))
    last = dict(
        session.execute(
            select(InboundMessage.channel, func.max(InboundMessage.received_at)).group_by(
                InboundMessage.channel
            )
        ).all()
    )
    rejected = _last_rejections(session)
    failing = failing_channels(session)
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
            today=today_counts.get(options.name, 0),
            week=week_counts.get(options.name, 0),
            last_message_at=last.get(options.name),
            last_error=error,
            last_error_at=error_at,
            state="alive",
            silence_alarm=options.silence_alarm,
        )
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
