"""`/admin/reports`: the filtered list, exports, the detail page, edit and replay."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, abort, flash, redirect, request, stream_with_context, url_for
from sqlalchemy import select

from gateway.console.actions import ActionRefused, edit_report, replay
from gateway.console.audit import audit
from gateway.console.detail import may_see_personal_data, report_detail
from gateway.console.export import csv_chunks, xlsx_bytes
from gateway.console.labels import KIND_LABELS, STATUS_CHOICES
from gateway.console.reports import ReportFilter, iter_export, list_reports
from gateway.web.admin import bp
from gateway.web.pages import (
    actor,
    admin_required,
    agency_names,
    audit_refused,
    render,
    role,
    runtime,
    staff_required,
    zone,
)
from store.models import Report


def _filter_choices() -> dict[str, Any]:
    rt = runtime()
    return {
        "channels": [c.name for c in rt.config.channels],
        "kinds": KIND_LABELS,
        "agencies": agency_names(),
        "statuses": STATUS_CHOICES,
    }


@bp.get("/reports")
@staff_required
def reports() -> tuple[str, int]:
    """The filtered, paged list (newest first)."""
    rt = runtime()
    admin_cfg = rt.config.model.admin
    flt = ReportFilter.from_args(request.args)
    with rt.reads() as session:
        page = list_reports(
            session,
            flt,
            zone=zone(),
            overdue_after=admin_cfg.overdue_after,
            page_size=admin_cfg.page_size,
            cursor=request.args.get("after"),
        )
    return render("admin/reports.html", page=page, args=flt.as_args(), **_filter_choices())


@bp.get("/reports/export.<fmt>")
@admin_required
def export(fmt: str) -> Response:
    """The filtered list as CSV or XLSX (audited)."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    rt = runtime()
    flt = ReportFilter.from_args(request.args)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    names = agency_names()
    with rt.sessions.begin() as session:
        audit(session, actor(), "export", None, format=fmt, filters=flt.as_args())
    overdue = rt.config.model.admin.overdue_after
    disposition = f'attachment; filename="laporan-{stamp}.{fmt}"'
    if fmt == "xlsx":
        with rt.reads() as session:
            rows = iter_export(session, flt, zone=zone(), overdue_after=overdue)
            data = xlsx_bytes(rows, zone(), names)
        return Response(
            data,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": disposition},
        )
    tz = zone()

    def generate() -> Any:
        with rt.reads() as session:
            yield from csv_chunks(
                iter_export(session, flt, zone=tz, overdue_after=overdue), tz, names
            )

    return Response(
        stream_with_context(generate()),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )


@bp.get("/reports/<ident>")
@staff_required
def report(ident: str) -> tuple[str, int]:
    """A report's whole story."""
    rt = runtime()
    with rt.reads() as session:
        detail = report_detail(session, ident, role())
    if detail is None:
        abort(404)
    if role() == "admin" and detail.payload.get("privacy", {}).get("confidential"):
        with rt.sessions.begin() as session:
            audit(session, actor(), "view_personal_data", detail.report.id)
    return render(
        "admin/report.html",
        d=detail,
        kinds=KIND_LABELS,
        agencies=agency_names(),
    )


@bp.post("/reports/<ident>/edit")
@admin_required
def edit(ident: str) -> Any:
    """Change the normalized fields of a report the central has not accepted, then replay."""
    rt = runtime()
    changes = {k: request.form[k] for k in request.form if k != "csrf_token"}
    try:
        with rt.sessions.begin() as session:
            row = session.get(Report, ident)
            if row is None:
                raise LookupError(ident)
            changed = edit_report(session, row, changes, actor(), set(agency_names()))
            if changed and request.form.get("replay") == "1":
                replay(session, row.id, actor())
    except LookupError:
        audit_refused("edit", ident, "laporan tidak ditemukan")
        abort(404)
    except ActionRefused as exc:
        audit_refused("edit", ident, str(exc))
        flash(str(exc), "error")
        return redirect(url_for("admin.report", ident=ident))
    flash(
        "Tidak ada yang berubah."
        if not changed
        else f"Tersimpan: {', '.join(changed)}"
        + ("; laporan diantrekan ulang." if request.form.get("replay") == "1" else "."),
        "info",
    )
    return redirect(url_for("admin.report", ident=ident))


@bp.post("/replay")
@admin_required
def replay_report() -> Any:
    """Replay by report id or tracking id (from the detail page or the repair page)."""
    ident = request.form.get("ident", "").strip()
    back = request.form.get("back") or url_for("admin.repair")
    try:
        with runtime().sessions.begin() as session:
            report_id = replay(session, ident, actor())
    except ActionRefused as exc:
        audit_refused("replay", None, str(exc), ident=ident)
        flash(str(exc), "error")
    else:
        flash(f"Laporan {report_id} diantrekan ulang ke LAPOR!.", "info")
    return redirect(back if back.startswith("/admin") else url_for("admin.repair"))


@bp.get("/files/<report_id>/<sha256>")
@staff_required
def attachment(report_id: str, sha256: str) -> Response:
    """An attachment of a report this user may read."""
    rt = runtime()
    with rt.reads() as session:
        row = session.scalar(select(Report).where(Report.id == report_id))
    if row is None:
        abort(404)
    if not may_see_personal_data(
        role(), row.payload, awaiting_models=row.awaiting_models is not None
    ):
        abort(403)  # a scanned letter or a photo may show who wrote it
    files = {a["sha256"]: a for a in row.payload.get("attachments") or []}
    if sha256 not in files:
        abort(404)
    meta = files[sha256]
    path = rt.intake.attachments.path_of(sha256)
    if not path.is_file():
        abort(404)
    return Response(
        path.read_bytes(),
        content_type=meta.get("content_type") or "application/octet-stream",
        headers={
            "Content-Disposition": f'inline; filename="{_ascii(meta.get("filename", sha256))}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


def _ascii(name: str) -> str:
    return name.encode("ascii", "replace").decode().replace('"', "'")
