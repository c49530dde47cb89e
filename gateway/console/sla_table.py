"""The coordination table as people read it: Indonesian headers, CSV, XLSX, text and a chart.

The figures come from forwarder.sla.table; here they only get their column names (as
coordinators write them in the sheets they send each pemda), local times and formats.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import textwrap
from html import escape

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from forwarder.sla.table import PROGRESS_LABELS, CoordinationTable, Progress, TableRow
from gateway.console.chart import PALETTE
from gateway.localtime import MONTHS, format_local, to_local

LEAD_HEADERS = {"agency": ("Instansi", "Kode instansi"), "channel": ("Kanal",)}
FIGURE_HEADERS = (
    "Aktivitas terakhir",
    "Jumlah laporan",
    "Rata-rata hari kerja RTL",
    "P90 hari kerja RTL",
    "Rata-rata hari kerja selesai",
    "P90 hari kerja selesai",
    *(PROGRESS_LABELS[p] for p in Progress),
    "Terlambat",
    "Persentase tepat waktu",
)
# Palette index per progress (the dashboard's CSS classes c0..c7 colour the legend).
PROGRESS_COLOURS = {
    Progress.NOT_FOLLOWED_UP: 5,
    Progress.IN_PROCESS: 1,
    Progress.COMPLETED: 2,
    Progress.ARCHIVED: 4,
}
GROUP_LABELS = {"agency": "instansi", "channel": "kanal"}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Cell = str | int | float | dt.datetime | None


def headers(table: CoordinationTable) -> list[str]:
    """The column names, the grouping's first."""
    return [*LEAD_HEADERS[table.by], *FIGURE_HEADERS]


def _lead(table: CoordinationTable, row: TableRow) -> list[Cell]:
    if table.by == "channel":
        return [row.label]
    return [row.label, row.key]


def cells(table: CoordinationTable, row: TableRow) -> list[Cell]:
    """A row's values, typed (None where there is no figure)."""
    return [
        *_lead(table, row),
        row.last_activity,
        row.reports,
        row.response_avg,
        row.response_p90,
        row.completion_avg,
        row.completion_p90,
        *(row.counts[p] for p in Progress),
        row.overdue,
        row.on_time_share,
    ]


def decimal(value: float | None, places: int = 1, comma: bool = True) -> str:
    """`2,5` for people (`2.5` for machines); `-` for no value."""
    if value is None:
        return "-"
    text = f"{value:.{places}f}"
    return text.replace(".", ",") if comma else text


def _text(value: Cell, zone: str, *, comma: bool, share: bool = False) -> str:
    if value is None:
        return "-" if comma else ""
    if isinstance(value, dt.datetime):
        return format_local(value, zone)
    if share and isinstance(value, float):
        return decimal(value * 100, comma=comma) + (" %" if comma else "")
    if isinstance(value, float):
        return decimal(value, comma=comma)
    return str(value)


def text_cells(table: CoordinationTable, row: TableRow, zone: str, *, comma: bool) -> list[str]:
    """A row as text: local times, one decimal, the share in percent."""
    values = cells(table, row)
    last = len(values) - 1
    return [_text(v, zone, comma=comma, share=i == last) for i, v in enumerate(values)]


def _no_formula(text: str) -> str:
    """A cell a spreadsheet will never run (an agency name is config, but still)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_text(table: CoordinationTable, zone: str) -> str:
    """CSV (UTF-8 with BOM for spreadsheet apps; decimal point, share in percent)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(headers(table))
    for row in [*table.rows, table.total]:
        values = text_cells(table, row, zone, comma=False)
        writer.writerow([_no_formula(values[0]), *values[1:]])
    return buffer.getvalue()


def period_text(table: CoordinationTable) -> str:
    """`1 Jan 2026 - 31 Des 2026`."""

    def day(d: dt.date) -> str:
        return f"{d.day} {MONTHS[d.month - 1]} {d.year}"

    return f"{day(table.first)} - {day(table.last)}"


def xlsx_bytes(table: CoordinationTable, zone: str) -> bytes:
    """A workbook: the table (numbers as numbers, local times), and a sheet explaining it."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = "Koordinasi SLA"
    names = headers(table)
    sheet.append(names)
    lead = len(LEAD_HEADERS[table.by])
    for row in [*table.rows, table.total]:
        values = cells(table, row)
        moment = values[lead]
        if isinstance(moment, dt.datetime):
            values[lead] = to_local(moment, zone).replace(tzinfo=None)
        sheet.append(values)
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    formats = {
        lead: "yyyy-mm-dd hh:mm",
        lead + 2: "0.0",
        lead + 4: "0.0",
        len(names) - 1: "0.0%",
    }
    for index, fmt in formats.items():
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index + 1, max_col=index + 1):
            cell.number_format = fmt
    for index, name in enumerate(names, 1):
        width = 36 if index == 1 else max(12, min(len(name), 18) + 2)
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(names))}{sheet.max_row - 1}"
    notes = book.create_sheet("Keterangan")
    tz = to_local(table.now, zone).tzname() or zone
    for line in (
        ("Periode laporan diterima", period_text(table)),
        ("Per", GROUP_LABELS[table.by]),
        ("Dibuat", format_local(table.now, zone)),
        ("Zona waktu", f"{zone} ({tz}); Aktivitas terakhir dalam waktu setempat"),
        ("RTL", "respon pertama (tindak lanjut): status pertama sedang diproses atau sesudahnya"),
        (
            "Hari kerja",
            "menurut kalender gateway: tanpa libur mingguan, libur nasional, cuti bersama dan"
            " libur daerah; hari laporan diterima instansi tidak dihitung",
        ),
        (
            "P90",
            "90% laporan mendapat RTL (atau selesai) dalam sekian hari kerja atau kurang"
            " (peringkat terdekat)",
        ),
        (
            "Terlambat",
            "laporan yang salah satu tenggatnya sudah lewat: tahap di instansi yang kini"
            " memegangnya, atau batas penyelesaian bagi pelapor",
        ),
    ):
        notes.append(line)
    notes.column_dimensions["A"].width = 26
    notes.column_dimensions["B"].width = 90
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def text_table(table: CoordinationTable, zone: str) -> str:
    """Fixed-width columns for a terminal, the total last."""
    body = [text_cells(table, row, zone, comma=True) for row in [*table.rows, table.total]]
    lead = len(LEAD_HEADERS[table.by])
    # Long names over a few lines, so the table fits a terminal (the names stay whole).
    wrapped = [
        textwrap.wrap(name, 12, break_long_words=False) if i >= lead else [name]
        for i, name in enumerate(headers(table))
    ]
    depth = max(len(w) for w in wrapped)
    head = [[*([""] * (depth - len(w))), *w] for w in wrapped]
    widths = [max(*map(len, head[i]), *(len(r[i]) for r in body)) for i in range(len(head))]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.ljust(w) if i < lead else v.rjust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    names = [line([h[k] for h in head]) for k in range(depth)]
    rule = "-" * max(map(len, [*names, *map(line, body)]))
    title = (
        f"Tabel koordinasi SLA per {GROUP_LABELS[table.by]}, laporan diterima"
        f" {period_text(table)} (dibuat {format_local(table.now, zone)})"
    )
    return "\n".join([title, *names, rule, *map(line, body[:-1]), rule, line(body[-1])])


def progress_bars(table: CoordinationTable) -> str:
    """Horizontal stacked bars, one per row: where its reports stand (inline SVG)."""
    rows = [r for r in table.rows if r.reports]
    width, left, right, top, bar_h, gap = 720, 220, 40, 8, 18, 8
    height = top + len(rows) * (bar_h + gap) + 24
    plot_w = width - left - right
    peak = max([r.reports for r in rows] + [1])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img"'
        ' aria-labelledby="sla-chart-title sla-chart-desc" class="chart">',
        f'<title id="sla-chart-title">Keadaan laporan per {GROUP_LABELS[table.by]}</title>',
        f'<desc id="sla-chart-desc">{table.total.reports} laporan; angka lengkap ada di tabel'
        " di bawah grafik.</desc>",
    ]
    for tick in (0, peak // 2, peak):
        tx = left + plot_w * tick / peak
        parts.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{top}" y2="{height - 20}" class="grid"/>'
            f'<text x="{tx:.1f}" y="{height - 6}" text-anchor="middle" class="axis">{tick}</text>'
        )
    for i, row in enumerate(rows):
        y = top + i * (bar_h + gap)
        name = row.label if len(row.label) <= 34 else row.label[:33] + "…"
        parts.append(
            f'<text x="{left - 6}" y="{y + bar_h - 5}" text-anchor="end" class="axis">'
            f"{escape(name)}</text>"
        )
        x: float = left
        for progress in Progress:
            count = row.counts[progress]
            if not count:
                continue
            w = plot_w * count / peak
            label = f"{row.label}, {PROGRESS_LABELS[progress].lower()}: {count}"
            colour = PALETTE[PROGRESS_COLOURS[progress]]
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}"'
                f' fill="{colour}"><title>{escape(label)}</title></rect>'
            )
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + bar_h - 5}" class="axis">{row.reports}</text>')
    parts.append("</svg>")
    return "".join(parts)
