"""What every HTML page shares: the runtime, the signed-in user, template helpers, roles."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, abort, current_app, render_template
from flask_login import current_user, login_required

from gateway.console.audit import ACTION_LABELS, audit
from gateway.console.labels import (
    EVENT_LABELS,
    HEALTH_LABELS,
    HOLD_LABELS,
    INBOUND_STATE_LABELS,
    REPLY_STATE_LABELS,
    kind_label,
    status_label,
)
from gateway.localtime import format_local
from gateway.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])


def runtime() -> Runtime:
    """The runtime the app was built on."""
    found: Runtime = current_app.extensions["sp4n"]
    return found


def zone() -> str:
    """The zone times are shown in."""
    return runtime().config.model.gateway.timezone


def actor() -> str:
    """Who is acting, for the audit log."""
    return str(current_user.username)


def audit_refused(action: str, target: str | None, reason: str, **detail: Any) -> None:
    """Audit an action that was refused, in its own transaction (the action's rolled back).

    Every console form that acts writes an audit row, done or not: who tried what is worth
    keeping too. `reason` is the Indonesian message the admin saw (ids, never personal data).
    """
    with runtime().sessions.begin() as session:
        audit(session, actor(), action, target, ok=False, reason=reason, **detail)


def role() -> str:
    """The signed-in user's role."""
    return str(current_user.role)


def admin_required(view: F) -> F:
    """Only for `admin` (others signed in get 403; anonymous users go to the sign-in page)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return cast(F, login_required(wrapped))


def staff_required(view: F) -> F:
    """For every signed-in user (admin and operator)."""
    return cast(F, login_required(view))


def render(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    """A page with the shared context."""
    return render_template(template, **context), status


def agency_names() -> dict[str, str]:
    """Agency code -> name, from the config."""
    return {a.code: a.name for a in runtime().config.model.agencies}


def register_template_helpers(app: Flask) -> None:
    """Filters and globals the templates use."""

    @app.template_filter("waktu")
    def _time(value: Any, seconds: bool = False) -> str:
        return format_local(value, zone(), seconds=seconds) if value else "-"

    @app.template_filter("durasi")
    def _duration(seconds: float | None) -> str:
        if seconds is None:
            return "-"
        if seconds < 60:
            return f"{seconds:.1f} detik"
        if seconds < 3600:
            return f"{seconds / 60:.0f} menit"
        if seconds < 86400:
            return f"{seconds / 3600:.1f} jam"
        return f"{seconds / 86400:.1f} hari"

    @app.context_processor
    def _zone() -> dict[str, str]:
        return {"config_zone": zone()}

    app.jinja_env.globals.update(
        kind_label=kind_label,
        status_label=status_label,
        EVENT_LABELS=EVENT_LABELS,
        REPLY_STATE_LABELS=REPLY_STATE_LABELS,
        INBOUND_STATE_LABELS=INBOUND_STATE_LABELS,
        HOLD_LABELS=HOLD_LABELS,
        HEALTH_LABELS=HEALTH_LABELS,
        agency_names=agency_names,
        ACTION_LABELS=ACTION_LABELS,
    )
