"""SLA commands: the working-day calendar an admin checks against the SKB, and the report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from config.loader import Config
from forwarder.sla.calendar import DAY_NAMES, calendar_from_config
from gateway.cli.base import load_or_exit, main
from gateway.localtime import MONTHS

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
