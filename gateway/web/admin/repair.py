"""`/admin/repair`: dead letters, quarantine, rejected input, manual and held replies."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for

from gateway.console.actions import ActionRefused, mark_sent_by_hand, release_limited, repair_lists
from gateway.console.audit import audit, recent
from gateway.web.admin import bp
from gateway.web.pages import actor, admin_required, audit_refused, render, runtime
from store.models import InboundMessage, Report
from store.timeline import record_event
from vocabulary.errors import PayloadInvalid


@bp.get("/repair")
@admin_required
def repair() -> tuple[str, int]:
    """Everything waiting for an admin."""
    with runtime().reads() as session:
        lists = repair_lists(session)
    return render("admin/repair.html", lists=lists)


@bp.post("/inbound/<inbound_id>/release")
@admin_required
def release(inbound_id: str) -> Any:
    """Turn a quarantined message into a report."""
    rt = runtime()
    try:
        with rt.sessions.begin() as session:
            row = session.get(InboundMessage, inbound_id)
            adapter = rt.adapters.get(row.channel) if row else None
            if row is None or adapter is None:
                raise ActionRefused("pesan tidak ditemukan atau kanalnya tidak aktif")
            report_id = rt.intake.release(session, inbound_id, adapter)
            audit(session, actor(), "release", report_id, inbound=inbound_id)
    except (ActionRefused, LookupError, PayloadInvalid) as exc:
        audit_refused("release", None, str(exc), inbound=inbound_id)
        flash(f"Tidak dapat dilepas: {exc}", "error")
    else:
        flash(f"Pesan dilepas sebagai laporan {report_id}.", "info")
    return redirect(url_for("admin.repair"))


@bp.post("/inbound/<inbound_id>/reprocess")
@admin_required
def reprocess(inbound_id: str) -> Any:
    """Read rejected input again with today's config (e.g. after fixing a date format)."""
    rt = runtime()
    with rt.reads() as session:
        row = session.get(InboundMessage, inbound_id)
        channel = row.channel if row else None
    adapter = rt.adapters.get(channel or "")
    try:
        if adapter is None:
            raise ActionRefused("masukan tidak ditemukan atau kanalnya tidak aktif")
        outcomes = rt.intake.reprocess(inbound_id, adapter)
    except (ActionRefused, LookupError, NotImplementedError, PayloadInvalid) as exc:
        reason = (
            "kanal ini tidak dapat membaca ulang masukannya"
            if isinstance(exc, NotImplementedError)
            else str(exc)
        )
        audit_refused("reprocess", inbound_id, reason)
        flash(f"Masih ditolak: {reason}", "error")
        return redirect(url_for("admin.repair"))
    with rt.sessions.begin() as session:
        audit(
            session,
            actor(),
            "reprocess",
            inbound_id,
            ok=True,
            reports=[o.report_id for o in outcomes],
        )
        for outcome in outcomes:
            if session.get(Report, outcome.report_id) is not None:
                record_event(
                    session, outcome.report_id, "reprocessed", inbound_id=inbound_id, by=actor()
                )
    flash(f"Masukan diproses ulang: {len(outcomes)} pesan tersimpan.", "info")
    return redirect(url_for("admin.repair"))


@bp.post("/replies/<reply_id>/sent")
@admin_required
def reply_sent(reply_id: str) -> Any:
    """A reply delivered by hand (post, phone): never sent again."""
    try:
        with runtime().sessions.begin() as session:
            mark_sent_by_hand(session, reply_id, actor())
    except ActionRefused as exc:
        audit_refused("reply_sent_by_hand", None, str(exc), reply=reply_id)
        flash(str(exc), "error")
    else:
        flash("Balasan ditandai terkirim manual.", "info")
    back = request.form.get("back", "")
    return redirect(back if back.startswith("/admin/") else url_for("admin.repair"))


@bp.post("/replies/<reply_id>/release")
@admin_required
def reply_release(reply_id: str) -> Any:
    """Let a held or failed reply go out again."""
    try:
        with runtime().sessions.begin() as session:
            release_limited(session, reply_id, actor())
    except ActionRefused as exc:
        audit_refused("reply_release", None, str(exc), reply=reply_id)
        flash(str(exc), "error")
    else:
        flash("Balasan diantrekan untuk dikirim.", "info")
    return redirect(url_for("admin.repair"))


@bp.get("/audit")
@admin_required
def audit_log() -> tuple[str, int]:
    """The newest admin actions."""
    with runtime().reads() as session:
        entries = recent(session, 300)
    return render("admin/audit.html", entries=entries)
