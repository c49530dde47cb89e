"""`/healthz` (alive), `/readyz` (database, scheduler, channels), `/metrics` (Prometheus).

`/readyz` answers 503 `down` when the database or the scheduler fails, and 200 `degraded`
when only channels fail (a poll source out of reach, a channel that could not start) or fall
silent: the gateway still takes everything else in.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from gateway.console.health import channel_health
from gateway.runtime import Runtime
from store.db import READ_ONLY
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
    channels = _channels(runtime) if checks.get("database") == "ok" else {}
    troubled = sorted(n for n, c in channels.items() if c["state"] in ("failing", "silent"))
    status = "down" if not ready else "degraded" if troubled else "ok"
    body: dict[str, Any] = {"status": status, "checks": checks, "channels": channels}
    if troubled:
        body["degraded"] = troubled
    return jsonify(body), 200 if ready else 503


def _channels(runtime: Runtime) -> dict[str, dict[str, Any]]:
    now = dt.datetime.now(dt.UTC)
    try:
        with runtime.reads() as session:
            health = channel_health(session, runtime.config, set(runtime.adapters), now)
    except SQLAlchemyError:
        return {}
    return {
        h.name: {
            "state": h.state,
            "last_message_at": h.last_message_at.isoformat() if h.last_message_at else None,
            "failing_since": h.last_error_at.isoformat()
            if h.state == "failing" and h.last_error_at
            else None,
        }
        for h in health
    }


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format."""
    return Response(generate_latest(_runtime().metrics.registry), content_type=CONTENT_TYPE_LATEST)
