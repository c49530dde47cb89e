"""`/admin/`: channels' health, queues, latency, replies, and 30 days of reports."""

from __future__ import annotations

import datetime as dt

from flask import current_app

from gateway.console.chart import colour_of, stacked_bars
from gateway.console.dashboard import ClosedDays, queue_figures, reports_per_day
from gateway.console.health import channel_health
from gateway.web.admin import bp
from gateway.web.pages import render, runtime, staff_required, zone


@bp.get("/")
@staff_required
def dashboard() -> tuple[str, int]:
    """The first page after sign-in."""
    rt = runtime()
    now = dt.datetime.now(dt.UTC)
    with rt.reads() as session:
        channels = channel_health(session, rt.config, set(rt.adapters), now)
        figures = queue_figures(session, now)
        closed = current_app.extensions.setdefault("sp4n_closed_days", ClosedDays())
        dates, series = reports_per_day(session, zone(), now, closed=closed)
    return render(
        "admin/dashboard.html",
        channels=channels,
        figures=figures,
        chart=stacked_bars(dates, series),
        dates=dates,
        series=series,
        colours={name: colour_of(i) for i, name in enumerate(series)},
    )
