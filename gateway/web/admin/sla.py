"""`/admin/sla`: the coordination table per agency or channel, its chart and its downloads."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, abort, request

from forwarder.sla.clocks import SlaRules
from forwarder.sla.table import (
    GROUPINGS,
    PROGRESS_LABELS,
    CoordinationTable,
    GroupBy,
    TableRow,
    coordination_table,
)
from gateway.console.audit import audit
from gateway.console.sla_table import (
    LEAD_HEADERS,
    PROGRESS_COLOURS,
    XLSX_TYPE,
    csv_text,
    period_text,
    progress_bars,
    text_cells,
    xlsx_bytes,
)
from gateway.localtime import to_local
from gateway.web.admin import bp
from gateway.web.pages import actor, agency_names, render, runtime, staff_required, zone

MAX_DAYS = 3 * 366  # one request computes every clock of the period: keep it bounded


def _table() -> CoordinationTable:
    """The table the query string asks for (bad dates fall back to this year so far)."""
    rt = runtime()
    now = dt.datetime.now(dt.UTC)
    today = to_local(now, zone()).date()

    def day(name: str, default: dt.date) -> dt.date:
        try:
            return dt.date.fromisoformat(request.args.get(name, ""))
        except ValueError:
            return default

    first = day("from", today.replace(month=1, day=1))
    last = day("to", today)
    if last < first:
        first, last = last, first
    first = max(first, last - dt.timedelta(days=MAX_DAYS))
    by: GroupBy = "channel" if request.args.get("by") == "channel" else "agency"
    labels = agency_names() if by == "agency" else {c.name: c.name for c in rt.config.channels}
    with rt.reads() as session:
        return coordination_table(
            session,
            SlaRules.from_config(rt.config.model),
            first,
            last,
            by=by,
            labels=labels,
            now=now,
        )


@bp.get("/sla")
@staff_required
def sla_table() -> tuple[str, int]:
    """The table on a page, with a chart of where each row's reports stand."""
    table = _table()
    tz = zone()
    lead = len(LEAD_HEADERS[table.by])

    def shown(row: TableRow) -> dict[str, Any]:
        return {
            "label": row.label,
            "key": row.key,
            "cells": text_cells(table, row, tz, comma=True)[lead:],
        }

    return render(
        "admin/sla.html",
        table=table,
        rows=[shown(row) for row in table.rows],
        total=shown(table.total),
        chart=progress_bars(table),
        colours={PROGRESS_LABELS[p]: i for p, i in PROGRESS_COLOURS.items()},
        period=period_text(table),
        groupings=GROUPINGS,
        args={"from": table.first.isoformat(), "to": table.last.isoformat(), "by": table.by},
    )


@bp.get("/sla/table.<fmt>")
@staff_required
def sla_download(fmt: str) -> Response:
    """The same table as CSV or XLSX (audited, like every export)."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    table = _table()
    with runtime().sessions.begin() as session:
        audit(
            session,
            actor(),
            "export_sla",
            None,
            format=fmt,
            by=table.by,
            first=table.first.isoformat(),
            last=table.last.isoformat(),
        )
    name = f"koordinasi-sla-{table.by}-{table.first:%Y%m%d}-{table.last:%Y%m%d}.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "xlsx":
        return Response(xlsx_bytes(table, zone()), content_type=XLSX_TYPE, headers=disposition)
    return Response(
        csv_text(table, zone()), content_type="text/csv; charset=utf-8", headers=disposition
    )
