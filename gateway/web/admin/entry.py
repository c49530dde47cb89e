"""`/admin/entry`: operators type in letters, phone calls, walk-ins and faxes.

Fill in -> preview (how the gateway reads it: kind, title, agency) -> submit -> a printable
receipt with the tracking id and the citizen's private status link. A scanned letter (PDF,
JPEG, PNG, size-capped) uploaded at preview is kept by its hash and carried to the submit
step in a signed field, so it cannot be swapped for another stored file.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, current_app, redirect, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from adapters.letter.adapter import LetterAdapter, LetterEntry
from forwarder.routing import RoutingFacts
from gateway.console.audit import audit
from gateway.console.labels import KIND_LABELS
from gateway.console.uploads import UploadRefused, read_upload
from gateway.web.admin import bp
from gateway.web.pages import (
    actor,
    agency_names,
    audit_refused,
    render,
    runtime,
    staff_required,
)
from normalizer.pipeline import normalize_draft
from store.models import Report
from store.status_tokens import status_url
from vocabulary.drafts import AttachmentData
from vocabulary.errors import PayloadInvalid

FIELDS = (
    "sender_name",
    "sender_organisation",
    "address",
    "phone",
    "email",
    "number",
    "date",
    "title",
    "body",
    "kind",
)


def entry_channels() -> list[LetterAdapter]:
    """The configured manual-entry channels (letter, phone, walk_in, fax)."""
    return [a for a in runtime().adapters.values() if isinstance(a, LetterAdapter)]


def _adapter(name: str) -> LetterAdapter:
    for adapter in entry_channels():
        if adapter.name == name:
            return adapter
    abort(404)


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(str(current_app.secret_key), salt="entry-attachments")


@bp.get("/entry")
@staff_required
def entry_index() -> tuple[str, int]:
    """Which kind of entry to make."""
    return render("admin/entry_index.html", channels=entry_channels())


def _entry_from_form(adapter: LetterAdapter, files: list[AttachmentData]) -> LetterEntry:
    form = request.form
    values = {k: (form.get(k) or "").strip() or None for k in FIELDS}
    date = None
    if values["date"]:
        try:
            date = dt.date.fromisoformat(str(values["date"]))
        except ValueError:
            raise PayloadInvalid("tanggal surat tidak sah (TTTT-BB-HH)", field="date") from None
    if values["kind"] and values["kind"] not in KIND_LABELS:
        raise PayloadInvalid("jenis laporan tidak dikenal", field="kind")
    return LetterEntry(
        body=values["body"] or "",
        received_at=dt.datetime.now(dt.UTC),
        sender_name=values["sender_name"],
        sender_organisation=values["sender_organisation"],
        address=values["address"],
        phone=values["phone"],
        email=values["email"],
        number=values["number"] if adapter.has_letter_details else None,
        date=date if adapter.has_letter_details else None,
        title=values["title"],
        kind=values["kind"],
        anonymous=form.get("anonymous") == "1",
        confidential=form.get("confidential") == "1",
        entered_by=actor(),
        attachments=tuple(files),
    )


def _files() -> list[AttachmentData]:
    """New uploads of this request, or those carried from the preview (signed)."""
    rt = runtime()
    limit = rt.config.model.admin.max_upload_bytes
    uploads = [f for f in request.files.getlist("scan") if f and f.filename]
    if uploads:
        return [read_upload(f.stream, f.filename or "scan", limit) for f in uploads[:5]]
    carried = request.form.get("carried", "")
    if not carried:
        return []
    try:
        refs = _signer().loads(carried)
    except BadSignature:
        raise UploadRefused("lampiran dari pratinjau tidak sah; unggah lagi") from None
    store = rt.intake.attachments
    return [AttachmentData(r["filename"], r["content_type"], store.get(r["sha256"])) for r in refs]


@bp.route("/entry/<name>", methods=["GET", "POST"])
@staff_required
def entry(name: str) -> Any:
    """The form; POST `action=preview` shows the preview, `action=submit` stores."""
    adapter = _adapter(name)
    if request.method == "GET":
        return _page(adapter)
    try:
        files = _files()
        record = _entry_from_form(adapter, files)
        message = adapter.message_from_entry(record)
    except (PayloadInvalid, UploadRefused) as exc:
        return _refused(adapter, exc)
    if request.form.get("action") != "submit":
        return _preview(adapter, message, files)
    rt = runtime()
    try:
        outcome = rt.intake.accept(adapter, [message])[0]
    except PayloadInvalid as exc:
        return _refused(adapter, exc)
    with rt.sessions.begin() as session:
        audit(
            session,
            actor(),
            "entry",
            outcome.report_id,
            channel=adapter.name,
            created=outcome.created,
        )
    return redirect(url_for("admin.receipt", report_id=outcome.report_id), code=303)


def _refused(adapter: LetterAdapter, exc: Exception) -> tuple[str, int]:
    """The form again with the problem; a refused submission is audited.

    A preview is not audited (it stores nothing). Only the field is kept: the message may
    quote what was typed.
    """
    if request.form.get("action") == "submit":
        field = getattr(exc, "field", None)
        audit_refused("entry", None, "isian ditolak", channel=adapter.name, field=field)
    return _page(adapter, 400, problems=[str(exc)])


def _page(adapter: LetterAdapter, status: int = 200, **context: Any) -> tuple[str, int]:
    return render(
        "admin/entry.html",
        status,
        adapter=adapter,
        kinds=KIND_LABELS,
        values=request.form if request.method == "POST" else {},
        max_mb=runtime().config.model.admin.max_upload_bytes // (1024 * 1024),
        **context,
    )


def _preview(adapter: LetterAdapter, message: Any, files: list[AttachmentData]) -> tuple[str, int]:
    rt = runtime()
    normalized = normalize_draft(message.draft, rt.intake.planner.settings_with_models(adapter))
    routing = rt.router.route(
        RoutingFacts(
            text=f"{normalized.title}\n{normalized.body}",
            kind=normalized.kind,
            channel=adapter.name,
            category=normalized.category,
            region=normalized.location.region_code if normalized.location else None,
        )
    )
    refs = [
        {
            "sha256": rt.intake.attachments.put(f.content),
            "filename": f.filename,
            "content_type": f.content_type,
        }
        for f in files
    ]
    return _page(
        adapter,
        preview=normalized,
        routing=routing,
        agency_name=agency_names().get(routing.agency, routing.agency),
        carried=_signer().dumps(refs) if refs else "",
        carried_files=refs,
    )


@bp.get("/receipt/<report_id>")
@staff_required
def receipt(report_id: str) -> tuple[str, int]:
    """The printable receipt for the citizen (refreshes until the tracking id is known)."""
    rt = runtime()
    with rt.reads() as session:
        report = session.scalar(select(Report).where(Report.id == report_id))
    if report is None:
        abort(404)
    link = status_url(rt.config.model.gateway.public_url, report.status_token)
    return render("admin/receipt.html", report=report, link=link)
