"""`GET /status/<id>`: where a report stands, by gateway or tracking id, without personal data."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import or_, select

from forwarder.replies import STATUS_LABELS
from gateway.web.errors import json_error
from store.models import Report
from store.timeline import events_of

bp = Blueprint("status", __name__)

# Timeline details that are safe to show anyone holding the id.
_PUBLIC_DETAIL = ("agency", "reason", "tracking_id", "status", "hops", "kind", "channel")


@bp.get("/status/<ident>")
def report_status(ident: str) -> tuple[Response, int] | Response:
    """The report's state, its agency and its timeline."""
    runtime = current_app.extensions["sp4n"]
    with runtime.reads() as session:
        report = session.scalar(
            select(Report).where(or_(Report.id == ident, Report.tracking_id == ident))
        )
        if report is None:
            return json_error(404, "not_found", "no report with that id or tracking id")
        events = events_of(session, report.id)
    names = {a.code: a.name for a in runtime.config.model.agencies}
    status = report.central_status if report.state == "submitted" else report.state
    return jsonify(
        {
            "id": report.id,
            "tracking_id": report.tracking_id,
            "status": status,
            "status_label": STATUS_LABELS.get(
                status or "",
                {
                    "queued": "sedang diteruskan ke LAPOR!",
                    "dead": "tertahan, sedang diperiksa petugas",
                }.get(status or "", status),
            ),
            "kind": report.kind,
            "agency": report.agency,
            "agency_name": names.get(report.agency, report.agency),
            "channel": report.channel,
            "received_at": report.payload.get("received_at"),
            "timeline": [
                {
                    "at": e.at.isoformat().replace("+00:00", "Z"),
                    "event": e.event,
                    **{k: v for k, v in e.detail.items() if k in _PUBLIC_DETAIL},
                }
                for e in events
            ],
        }
    )
