"""Sign in and out of the admin console (rate limited by address; every attempt audited)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from gateway.console.accounts import authenticate
from gateway.console.audit import audit
from gateway.web.pages import render, runtime, staff_required
from gateway.web.security import ConsoleUser

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path inside the console: never an open redirect."""
    if target and target.startswith("/admin") and not target.startswith("//"):
        return target
    return url_for("admin.dashboard")


@bp.route("/admin/login", methods=["GET", "POST"])
def login() -> tuple[str, int] | Response:
    """The sign-in form."""
    if current_user.is_authenticated:
        return redirect(url_for("admin.dashboard"))
    if request.method == "GET":
        return render("admin/login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "").strip().lower()[:64]
    password = request.form.get("password", "")[:1024]
    with runtime().sessions.begin() as db:
        user = authenticate(db, username, password) if username and password else None
        audit(db, username or "-", "login" if user else "login_failed", username or None)
        console_user = ConsoleUser(user) if user else None
    if console_user is None:
        flash("Nama pengguna atau kata sandi salah, atau akun nonaktif.", "error")
        return render("admin/login.html", 401, next=request.form.get("next", ""))
    session.clear()  # a fresh session at sign-in: no fixation
    login_user(console_user)
    session.permanent = True
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/admin/logout")
@staff_required
def logout() -> Response:
    """Sign out (a POST with the CSRF token, so no link can sign anyone out)."""
    with runtime().sessions.begin() as db:
        audit(db, str(current_user.username), "logout")
    logout_user()
    session.clear()
    flash("Anda sudah keluar.", "info")
    return redirect(url_for("auth.login"))
