"""Sessions, sign-in, CSRF, rate limits and security headers for the HTML pages.

- The signing key is `admin.secret_key` (`${ADMIN_SECRET_KEY}`) or, when not set, made on
  first start and kept in the database, so every process of one gateway shares it.
- Cookies are HTTP-only, SameSite=Lax, and Secure when the gateway is served over https.
- A session names the user and a stamp of their password: changing the password or
  disabling the account ends every session at once.
- Every form carries a CSRF token (Flask-WTF); webhooks, signed by their providers, do not.
- Rate limits (flask-limiter) by client address: sign-in, `/status`, `/lapor`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session, sessionmaker

from gateway.console.accounts import session_stamp
from gateway.runtime import Runtime
from store.models import User
from store.state import shared_value
from store.states import Role

SECRET_STATE_KEY = "admin.secret_key"  # noqa: S105 (the name of its row in sync_state)

# No script, style or image from anywhere but the gateway itself; never framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class ConsoleUser(UserMixin):
    """The signed-in user as Flask-Login sees it (a detached copy of the row)."""

    def __init__(self, row: User) -> None:
        self.user_id = row.id
        self.username = row.username
        self.display_name = row.display_name or row.username
        self.role = row.role
        self.stamp = session_stamp(row)

    def get_id(self) -> str:
        """Id plus password stamp: a changed password invalidates the session."""
        return f"{self.user_id}:{self.stamp}"

    @property
    def is_admin(self) -> bool:
        """Whether the user may do everything."""
        return self.role == Role.ADMIN


def load_or_create_secret_key(sessions: sessionmaker[Session]) -> str:
    """The session signing key kept in the database, made on first use."""
    return shared_value(sessions, SECRET_STATE_KEY)


def init_security(app: Flask, runtime: Runtime) -> Limiter:
    """Bind sessions, Flask-Login, CSRF and the limiter to the app; returns the limiter."""
    admin = runtime.config.model.admin
    public_url = runtime.config.model.gateway.public_url
    app.secret_key = (
        admin.secret_key.get_secret_value()
        if admin.secret_key is not None
        else load_or_create_secret_key(runtime.sessions)
    )
    secure = admin.secure_cookies
    if secure is None:
        secure = public_url.startswith("https://")
    app.config.update(
        SESSION_COOKIE_NAME="sp4n_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(seconds=admin.session_lifetime),
        WTF_CSRF_TIME_LIMIT=int(admin.session_lifetime),
        WTF_CSRF_SSL_STRICT=secure,
    )
    _init_login(app, runtime)
    CSRFProtect(app)
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=admin.rate_limit_storage,
        default_limits=[],
        headers_enabled=True,
        strategy="fixed-window",
    )
    app.after_request(_security_headers)
    return limiter


def _init_login(app: Flask, runtime: Runtime) -> None:
    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.login_message = "Silakan masuk untuk membuka halaman ini."
    manager.login_message_category = "info"
    manager.session_protection = "basic"

    @manager.user_loader
    def _load(ident: str) -> ConsoleUser | None:
        user_id, _, stamp = ident.partition(":")
        if not user_id.isdigit():
            return None
        with runtime.reads() as session:
            row = session.get(User, int(user_id))
            if row is None or not row.active or session_stamp(row) != stamp:
                return None
            return ConsoleUser(row)


def _security_headers(response: Response) -> Response:
    headers = response.headers
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Frame-Options", "DENY")
        # A private status link must not leak through Referer to another site.
        headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.path.startswith(("/admin", "/s/", "/status", "/lapor")):
        headers.setdefault("Cache-Control", "no-store")
    return response


def limit(app: Flask, limiter: Limiter, endpoint: str, rate: str, **options: Any) -> None:
    """Put a rate limit on a registered view (the factory knows the rate, not the module)."""
    view: Any = app.view_functions[endpoint]
    app.view_functions[endpoint] = limiter.limit(rate, **options)(view)
