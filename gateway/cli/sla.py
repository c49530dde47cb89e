"""SLA commands: the working-day calendar an admin checks against the SKB, and the report."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import click

from config.loader import Config
from forwarder.sla.calendar import calendar_from_config, format_day
from forwarder.sla.clocks import STAGE_LABELS, STATE_LABELS, ClockState, SlaRules, Stage
from forwarder.sla.watch import WatchItem, watch
from gateway.cli.base import CONFIG_OPTION, load_or_exit, main, open_runtime
from gateway.localtime import format_local, to_local
from store.sla import iter_timelines
from vocabulary.dates import DAY_NAMES, MONTHS

OPTIONAL_CONFIG = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="SP4N_CONFIG",
    default=None,
    help="Berkas konfigurasi YAML gateway (tanpa ini: kalender bawaan, WIB, Senin-Jumat).",
)


@main.group("sla")
def sla_group() -> None:
    """Tenggat SLA per tahap pada kalender hari kerja Indonesia."""


def _date_text(day: dt.date) -> str:
    return f"{DAY_NAMES[day.isoweekday()]:6} {day.day:02d} {MONTHS[day.month - 1]} {day.year}"


@sla_group.command("calendar")
@click.option("--year", type=click.IntRange(1990, 2100), required=True, help="Tahun, mis. 2026.")
@OPTIONAL_CONFIG
def sla_calendar(year: int, config_path: Path | None) -> None:
    """Hari libur dan cuti bersama setahun (hari tidak bekerja), untuk dicocokkan dengan SKB."""
    config: Config | None = load_or_exit(config_path) if config_path else None
    calendar = calendar_from_config(config.model if config else None)
    off = sorted(set(range(1, 8)) - calendar.working_weekdays)
    click.echo(
        f"Hari tidak bekerja {year} (zona {calendar.zone.key};"
        f" libur mingguan: {', '.join(DAY_NAMES[d] for d in off) or 'tidak ada'})"
    )
    rows = calendar.non_working_days(year)
    for day, name in rows:
        click.echo(f"  {_date_text(day)}  {name}")
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    working = calendar.working_days_between(first - dt.timedelta(days=1), last)
    click.echo(f"{len(rows)} hari libur; {working} hari kerja dalam setahun.")


REPORT_FIELDS = (
    ("tracking_id", "nomor_lacak"),
    ("report_id", "id_laporan"),
    ("agency", "instansi"),
    ("stage", "tahap"),
    ("state", "keadaan"),
    ("started_at", "mulai"),
    ("due_on", "tenggat"),
    ("used", "terpakai"),
    ("allowed", "batas"),
    ("unit", "satuan"),
    ("channel", "kanal"),
)


def _rows(items: list[WatchItem], zone: str) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        clock = item.clock
        rows.append(
            {
                "tracking_id": item.tracking_id or "",
                "report_id": clock.report_id,
                "agency": clock.agency or "",
                "stage": clock.stage.value,
                "state": clock.state.value,
                "started_at": to_local(clock.started_at, zone).isoformat(timespec="seconds"),
                "due_on": clock.due_on.isoformat(),
                "used": clock.used,
                "allowed": clock.allowed,
                "unit": "hari" if clock.stage is Stage.RESOLUTION else "hari_kerja",
                "channel": item.channel,
            }
        )
    return rows


def _table(items: list[WatchItem], zone: str) -> None:
    header = ("Nomor lacak", "Instansi", "Tahap", "Keadaan", "Mulai", "Tenggat", "Hari")
    lines = [header]
    for item in items:
        clock = item.clock
        unit = "" if clock.stage is Stage.RESOLUTION else " kerja"
        lines.append(
            (
                item.tracking_id or clock.report_id,
                clock.agency or "-",
                STAGE_LABELS[clock.stage],
                STATE_LABELS[clock.state],
                format_local(clock.started_at, zone),
                format_day(clock.due_on),
                f"{clock.used}/{clock.allowed}{unit}",
            )
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    for row in lines:
        click.echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())


@sla_group.command("report")
@CONFIG_OPTION
@click.option("--agency", default=None, help="Kode instansi (tanpa ini: semua instansi).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="Bentuk keluaran.",
)
@click.option("--all", "include_all", is_flag=True, help="Juga tahap yang masih tepat waktu.")
def sla_report(config_path: Path, agency: str | None, fmt: str, include_all: bool) -> None:
    """Laporan yang tenggat tahapnya sudah dekat atau terlewat, per instansi."""
    config = load_or_exit(config_path)
    model = config.model
    if agency is not None and agency not in {a.code for a in model.agencies}:
        raise click.UsageError(f"instansi {agency!r} tidak ada di konfigurasi")
    rules = SlaRules.from_config(model)
    zone = model.gateway.timezone
    with open_runtime(config) as runtime, runtime.reads() as session:
        result = watch(
            iter_timelines(session, open_only=True),
            rules,
            dt.datetime.now(dt.UTC),
            agency=agency,
            include_on_time=include_all,
        )
    items = [item for group in result.by_agency().values() for item in group]
    if fmt == "json":
        click.echo(json.dumps(_rows(items, zone), ensure_ascii=False, indent=2))
    elif fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([label for _, label in REPORT_FIELDS])
        for row in _rows(items, zone):
            writer.writerow([row[key] for key, _ in REPORT_FIELDS])
        click.echo(out.getvalue(), nl=False)
    elif not items:
        click.echo("Tidak ada laporan yang mendekati atau melewati tenggat.")
    else:
        _table(items, zone)
        overdue = sum(1 for i in items if i.clock.state is ClockState.OVERDUE)
        click.echo(f"{len(items)} tahap; {overdue} terlambat.")
