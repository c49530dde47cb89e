"""`/status`: where a report stands, for citizens; the whole story only through the private link.

- `/status/<tracking id or report id>`: that the report exists and a coarse status
  (diterima / diproses / selesai), nothing else: tracking ids can be guessed.
- `/s/<token>` (or `/status/<id>?token=...`): the private link from the acknowledgement: the
  status history and the agencies' responses. Never the reporter's personal data.
- HTML by default, JSON for `Accept: application/json`. Rate limited by client address.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, jsonify, redirect, request, url_for
from sqlalchemy import or_, select

from gateway.console.labels import COARSE_LABELS, COARSE_STATUS, kind_label, status_label
from gateway.web.errors import json_error
from gateway.web.pages import agency_names, render, runtime
from store.models import Report
from store.states import ReportState
from store.timeline import events_of

bp = Blueprint("status", __name__)

# Timeline events the private page shows, and the details of each it may show.
_PRIVATE_EVENTS: dict[str, tuple[str, ...]] = {
    "received": ("channel",),
    "routed": ("agency",),
    "forwarded": ("tracking_id", "agency"),
    "status": ("status", "agency", "note"),
    "response": ("agency", "text"),
    "rerouted": ("agency",),
    "followup": ("attachments",),
    "released": (),
    "dead_letter": (),
    "replayed": (),
}


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _status_of(report: Report) -> str:
    shown = report.central_status if report.state == ReportState.SUBMITTED else report.state
    return shown or ReportState.QUEUED


@bp.get("/status")
def lookup() -> Any:
    """The form where a citizen types a tracking id."""
    ident = request.args.get("id", "").strip().upper()
    if ident:
        return redirect(url_for("status.coarse", ident=ident))
    return render("citizen/status_lookup.html")


@bp.get("/status/<ident>")
def coarse(ident: str) -> Any:
    """Exists + coarse status; the private view when a valid `token` is given."""
    ident = ident.strip()
    with runtime().reads() as session:
        report = session.scalar(
            select(Report).where(or_(Report.tracking_id == ident.upper(), Report.id == ident))
        )
    if report is None:
        if _wants_json():
            return json_error(404, "not_found", "tidak ada laporan dengan nomor itu")
        return render("citizen/status_missing.html", 404, ident=ident)
    token = request.args.get("token", "")
    if token and report.status_token and hmac.compare_digest(token, report.status_token):
        return _private(report)
    coarse_status = COARSE_STATUS.get(_status_of(report), "diterima")
    if _wants_json():
        return jsonify(
            {
                "tracking_id": report.tracking_id,
                "status": coarse_status,
                "status_label": COARSE_LABELS[coarse_status],
            }
        )
    return render(
        "citizen/status_coarse.html",
        tracking_id=report.tracking_id or ident,
        coarse=coarse_status,
        coarse_label=COARSE_LABELS[coarse_status],
    )


@bp.get("/s/<token>")
def private(token: str) -> Any:
    """The private link: the whole story of one report."""
    if len(token) > 64:
        return json_error(404, "not_found", "tautan tidak dikenal")
    with runtime().reads() as session:
        report = session.scalar(select(Report).where(Report.status_token == token))
    if report is None:
        if _wants_json():
            return json_error(404, "not_found", "tautan tidak dikenal")
        return render("citizen/status_missing.html", 404, ident=None)
    return _private(report)


def private_view(report: Report) -> dict[str, Any]:
    """What the private page shows: status history and responses, no personal data."""
    names = agency_names()
    with runtime().reads() as session:
        events = events_of(session, report.id)
    timeline = []
    for event in events:
        allowed = _PRIVATE_EVENTS.get(event.event)
        if allowed is None:
            continue
        detail = {k: v for k, v in event.detail.items() if k in allowed and v not in (None, "")}
        if "agency" in detail:
            detail["agency_name"] = names.get(detail["agency"], detail["agency"])
        timeline.append({"at": event.at, "event": event.event, **detail})
    status = _status_of(report)
    return {
        "id": report.id,
        "tracking_id": report.tracking_id,
        "status": status,
        "status_label": status_label(status),
        "kind": report.kind,
        "kind_label": kind_label(report.kind),
        "agency": report.agency,
        "agency_name": names.get(report.agency, report.agency),
        "channel": report.channel,
        "received_at": report.payload.get("received_at"),
        "timeline": timeline,
    }


def _private(report: Report) -> Any:
    view = private_view(report)
    if _wants_json():
        return jsonify(
            {
                **{k: v for k, v in view.items() if k != "timeline"},
                "timeline": [
                    {**e, "at": e["at"].isoformat().replace("+00:00", "Z")}
                    for e in view["timeline"]
                ],
            }
        )
    return render("citizen/status_private.html", view=view)
