"""`/healthz` (alive), `/readyz` (database and scheduler), `/metrics` (Prometheus)."""

from __future__ import annotations

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
    channels = _channels(runtime) if ready else {}
    status = "ok" if ready else "unavailable"
    if ready and any(v != "ok" for v in channels.values()):
        status = "degraded"  # a channel's source is down: the gateway itself still works
    answer = {"status": status, "checks": checks, "channels": channels}
    if ready:  # a warning degrades nothing: the channel works, an admin should look
        answer["warnings"] = _warnings(runtime)
    return jsonify(answer), 200 if ready else 503


def _channels(runtime: Runtime) -> dict[str, str]:
    """Each enabled channel: ok, or failing with its last error and since when."""
    with runtime.reads() as session:
        failing = failing_channels(session)
    view: dict[str, str] = {}
    for name in runtime.adapters:
        row = failing.get(name)
        if row is None:
            view[name] = "ok"
            continue
        since = row.failing_since.isoformat().replace("+00:00", "Z") if row.failing_since else "?"
        view[name] = f"failing since {since} ({row.failures}x): {row.last_error}"
    return view


def _warnings(runtime: Runtime) -> dict[str, str]:
    """Each enabled channel's newest warning on record, with its time (UTC)."""
    with runtime.reads() as session:
        warned = channel_warnings(session)
    view: dict[str, str] = {}
    for name in runtime.adapters:
        row = warned.get(name)
        if row is not None and row.last_warning_at is not None:
            at = row.last_warning_at.isoformat().replace("+00:00", "Z")
            view[name] = f"{at}: {row.last_warning}"
    return view


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format."""
    return Response(generate_latest(_runtime().metrics.registry), content_type=CONTENT_TYPE_LATEST)
