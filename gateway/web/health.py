"""`/healthz` (alive), `/readyz` (database and scheduler), `/metrics` (Prometheus)."""

from __future__ import annotations

import datetime as dt
import time

from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from gateway.runtime import Runtime
from store.db import READ_ONLY
from store.health import channel_warnings, failing_channels
from store.migrate import is_current

bp = Blueprint("health", __name__)


def _runtime() -> Runtime:
    runtime: Runtime = current_app.extensions["sp4n"]
    return runtime


@bp.get("/healthz")
def healthz() -> Response:
    """The process answers."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Ready when the database answers at the current schema and the scheduler ticks."""
    runtime = _runtime()
    checks: dict[str, str] = {}
    try:
        with runtime.reads() as session:
            session.execute(text("SELECT 1"))
        reader = runtime.engine.execution_options(**{READ_ONLY: True})
        checks["database"] = "ok" if is_current(reader) else "schema not migrated"
    except SQLAlchemyError as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    limit = current_app.config.get("SP4N_SCHEDULER_STALE_AFTER")
    if limit is not None:
        beat = runtime.heartbeats.get("scheduler")
        if beat is None:
            checks["scheduler"] = "not started"
        elif time.monotonic() - beat > limit:
            checks["scheduler"] = f"no tick for {time.monotonic() - beat:.0f}s"
        else:
            checks["scheduler"] = "ok"
    ready = all(v == "ok" for v in checks.values())
    channels, warnings = _channel_views(runtime) if ready else ({}, {})
    status = "ok" if ready else "unavailable"
    if ready and any(v != "ok" for v in channels.values()):
        status = "degraded"  # a channel's source is down: the gateway itself still works
    answer = {"status": status, "checks": checks, "channels": channels}
    if ready:  # a warning degrades nothing: the channel works, an admin should look
        answer["warnings"] = warnings
    return jsonify(answer), 200 if ready else 503


def _channel_views(runtime: Runtime) -> tuple[dict[str, str], dict[str, str]]:
    """Each enabled channel: ok or failing (last error, since when); its newest warning."""
    with runtime.reads() as session:
        failing, warned = failing_channels(session), channel_warnings(session)
    channels: dict[str, str] = {}
    warnings: dict[str, str] = {}
    for name in runtime.adapters:
        row = failing.get(name)
        if row is None:
            channels[name] = "ok"
        else:
            since = _utc(row.failing_since)
            channels[name] = f"failing since {since} ({row.failures}x): {row.last_error}"
        noted = warned.get(name)
        if noted is not None and noted.last_warning_at is not None:
            warnings[name] = f"{_utc(noted.last_warning_at)}: {noted.last_warning}"
    return channels, warnings


def _utc(moment: dt.datetime | None) -> str:
    """A stored time for machines: ISO 8601 in UTC with a Z ("?" when missing)."""
    return moment.isoformat().replace("+00:00", "Z") if moment else "?"


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format."""
    return Response(generate_latest(_runtime().metrics.registry), content_type=CONTENT_TYPE_LATEST)
