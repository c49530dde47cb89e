"""The filtered reports list as CSV or XLSX (no personal data: the list holds none)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from openpyxl import Workbook

from gateway.console.labels import kind_label, status_label
from gateway.console.reports import ReportRow
from gateway.localtime import format_local

HEADER = (
    "ID laporan",
    "Nomor lacak",
    "Diterima",
    "Kanal",
    "Jenis",
    "Instansi",
    "Status",
    "Judul",
    "Rahasia",
)


def _cells(row: ReportRow, zone: str, agency_names: dict[str, str]) -> list[str]:
    return [
        row.id,
        row.tracking_id or "",
        format_local(row.created_at, zone, seconds=True),
        row.channel,
        kind_label(row.kind),
        agency_names.get(row.agency, row.agency),
        status_label(row.status),
        _no_formula(row.title or ""),
        "ya" if row.confidential else "tidak",
    ]


def _no_formula(text: str) -> str:
    """A cell a spreadsheet will never run: leading = + - @ are quoted (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_chunks(rows: Iterable[ReportRow], zone: str, agency_names: dict[str, str]) -> Iterator[str]:
    """CSV text in chunks, for a streamed download (UTF-8 with BOM for spreadsheet apps)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(HEADER)
    for index, row in enumerate(rows, 1):
        writer.writerow(_cells(row, zone, agency_names))
        if index % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_bytes(rows: Iterable[ReportRow], zone: str, agency_names: dict[str, str]) -> bytes:
    """An XLSX workbook with one sheet, written in openpyxl's streaming mode."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Laporan")
    sheet.append(list(HEADER))
    for row in rows:
        sheet.append(_cells(row, zone, agency_names))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
