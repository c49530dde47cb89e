"""`/lapor`: a plain, accessible complaint form for a pemda without one of its own.

Enabled by a channel of type `public_form`. A hidden honeypot field catches simple bots
(answered like a success, nothing stored); each address may post a few times per window
(`admin.lapor_rate_limit`). The answer page gives the tracking id (as soon as the central
assigned it) and the citizen's private status link.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any

from flask import Blueprint, abort, redirect, request, url_for
from sqlalchemy import select

from adapters.webform.public_form import CitizenSubmission, PublicFormAdapter
from gateway.console.labels import KIND_LABELS
from gateway.console.uploads import UploadRefused, read_upload
from gateway.web.pages import render, runtime
from store.models import Report
from store.status_tokens import status_url
from vocabulary.errors import PayloadInvalid

bp = Blueprint("lapor", __name__)
log = logging.getLogger(__name__)
MAX_PHOTOS = 3
HONEYPOT = "website"


def _channel() -> PublicFormAdapter | None:
    for adapter in runtime().adapters.values():
        if isinstance(adapter, PublicFormAdapter):
            return adapter
    return None


def _form_page(status: int = 200, **context: Any) -> tuple[str, int]:
    return render(
        "citizen/lapor.html",
        status,
        kinds=KIND_LABELS,
        nonce=context.pop("nonce", None) or secrets.token_urlsafe(16),
        values=context.pop("values", {}),
        max_mb=runtime().config.model.admin.max_upload_bytes // (1024 * 1024),
        **context,
    )


@bp.get("/lapor")
def form() -> tuple[str, int]:
    """The empty form."""
    if _channel() is None:
        abort(404)
    return _form_page()


@bp.post("/lapor")
def submit() -> Any:
    """Store the complaint, then show the answer page."""
    adapter = _channel()
    if adapter is None:
        abort(404)
    values = {
        k: request.form.get(k, "").strip()
        for k in ("body", "kind", "name", "phone", "email", "location")
    }
    nonce = request.form.get("nonce", "")
    if request.form.get(HONEYPOT):
        log.info("lapor: honeypot filled; nothing stored")
        return redirect(url_for("lapor.thanks_bot"))
    problems: list[str] = []
    photos = []
    limit = runtime().config.model.admin.max_upload_bytes
    files = [f for f in request.files.getlist("photos") if f and f.filename]
    if len(files) > MAX_PHOTOS:
        problems.append(f"paling banyak {MAX_PHOTOS} foto")
    for upload in files[:MAX_PHOTOS]:
        try:
            photos.append(read_upload(upload.stream, upload.filename or "foto", limit))
        except UploadRefused as exc:
            problems.append(str(exc))
    if values["kind"] and values["kind"] not in KIND_LABELS:
        values["kind"] = ""
    submission = CitizenSubmission(
        nonce=nonce,
        received_at=dt.datetime.now(dt.UTC),
        body=values["body"],
        kind=values["kind"] or None,
        name=values["name"][:200] or None,
        phone=values["phone"][:40] or None,
        email=values["email"][:254] or None,
        location=values["location"][:500] or None,
        anonymous=request.form.get("anonymous") == "1",
        confidential=request.form.get("confidential") == "1",
        attachments=tuple(photos),
    )
    if not problems:
        try:
            message = adapter.message_from(submission)
            outcome = runtime().intake.accept(adapter, [message])[0]
        except PayloadInvalid as exc:
            problems.append(str(exc))
    if problems:
        return _form_page(400, problems=problems, values=values, nonce=nonce)
    with runtime().reads() as session:
        token = session.scalar(select(Report.status_token).where(Report.id == outcome.report_id))
    return redirect(url_for("lapor.sent", token=token), code=303)


@bp.get("/lapor/terkirim/<token>")
def sent(token: str) -> tuple[str, int]:
    """The answer page: tracking id (once known) and the private link; refreshes till then."""
    with runtime().reads() as session:
        report = session.scalar(select(Report).where(Report.status_token == token[:64]))
    if report is None:
        abort(404)
    link = status_url(runtime().config.model.gateway.public_url, report.status_token)
    return render("citizen/lapor_sent.html", report=report, link=link)


@bp.get("/lapor/terima-kasih")
def thanks_bot() -> tuple[str, int]:
    """What a bot that filled the honeypot sees."""
    return render("citizen/lapor_thanks.html")
