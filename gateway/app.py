"""Flask app factory: one blueprint per area, the runtime bound as an extension."""

from __future__ import annotations

from flask import Flask

from gateway.runtime import Runtime
from gateway.web import auth, files, health, lapor, status, webhooks
from gateway.web.admin import bp as admin_bp
from gateway.web.errors import register_error_handlers
from gateway.web.pages import register_template_helpers
from gateway.web.security import init_security, limit

# The largest body any channel may accept; each channel's own cap is checked in the route.
MAX_REQUEST_BYTES = 64 * 1024 * 1024


def create_app(runtime: Runtime, *, scheduler_stale_after: float | None = None) -> Flask:
    """The web app for a runtime; `scheduler_stale_after` makes /readyz watch the scheduler."""
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        SP4N_SCHEDULER_STALE_AFTER=scheduler_stale_after,
        JSON_SORT_KEYS=False,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["sp4n"] = runtime
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(status.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(files.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(lapor.bp)
    app.register_blueprint(admin_bp)
    limiter = init_security(app, runtime)
    app.extensions["csrf"].exempt(webhooks.bp)
    admin = runtime.config.model.admin
    limit(app, limiter, "auth.login", admin.login_rate_limit, methods=["POST"])
    for endpoint in ("status.lookup", "status.coarse", "status.private"):
        limit(app, limiter, endpoint, admin.status_rate_limit)
    limit(app, limiter, "lapor.submit", admin.lapor_rate_limit)
    register_template_helpers(app)
    register_error_handlers(app)
    return app
