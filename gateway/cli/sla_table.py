"""`sp4n-gateway sla table`: the coordination table per agency or channel, as CSV, XLSX or text."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from forwarder.sla.clocks import SlaRules
from forwarder.sla.table import GROUPINGS, coordination_table
from gateway.cli.base import CONFIG_OPTION, load_or_exit, open_runtime
from gateway.cli.sla import sla_group
from gateway.console.sla_table import csv_text, text_table, xlsx_bytes
from gateway.localtime import to_local

FORMATS = ("table", "csv", "xlsx")


def _date(_ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"tanggal {value!r} tidak dikenali; tulis TTTT-BB-HH") from None


@sla_group.command("table")
@CONFIG_OPTION
@click.option(
    "--from",
    "first",
    callback=_date,
    metavar="TTTT-BB-HH",
    help="Tanggal pertama laporan diterima, TTTT-BB-HH (bawaan: 1 Januari tahun ini).",
)
@click.option(
    "--to",
    "last",
    callback=_date,
    metavar="TTTT-BB-HH",
    help="Tanggal terakhir, ikut dihitung (bawaan: hari ini), di zona gateway.timezone.",
)
@click.option(
    "--by", type=click.Choice(GROUPINGS), default="agency", show_default=True, help="Per baris."
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Tulis ke berkas ini (wajib untuk xlsx); tanpa ini ke layar.",
)
def sla_table(
    config_path: Path,
    first: dt.date | None,
    last: dt.date | None,
    by: str,
    fmt: str,
    out: Path | None,
) -> None:
    """Tabel koordinasi per instansi atau kanal, untuk laporan yang diterima dalam periode.

    Jumlah laporan, aktivitas terakhir, rata-rata dan P90 hari kerja sampai RTL dan sampai
    selesai, belum ditindaklanjuti / sedang diproses / selesai, ketepatan waktu.
    """
    if fmt == "xlsx" and out is None:
        raise click.UsageError("format xlsx perlu --out BERKAS.xlsx")
    config = load_or_exit(config_path)
    model = config.model
    zone = model.gateway.timezone
    now = dt.datetime.now(dt.UTC)
    today = to_local(now, zone).date()
    first = first or today.replace(month=1, day=1)
    last = last or today
    if last < first:
        raise click.UsageError(f"--to ({last}) sebelum --from ({first})")
    if by == "agency":
        labels = {a.code: a.name for a in model.agencies}
    else:
        labels = {c.name: c.name for c in config.channels}
    rules = SlaRules.from_config(model)
    with open_runtime(config) as runtime, runtime.reads() as session:
        table = coordination_table(
            session,
            rules,
            first,
            last,
            by="agency" if by == "agency" else "channel",
            labels=labels,
            now=now,
        )
    if fmt == "xlsx":
        assert out is not None
        out.write_bytes(xlsx_bytes(table, zone))
    else:
        text = csv_text(table, zone) if fmt == "csv" else text_table(table, zone) + "\n"
        if out is None:
            sys.stdout.write(text.removeprefix("\ufeff"))
        else:
            out.write_text(text, encoding="utf-8", newline="")
    if out is not None:
        click.echo(
            f"{out}: {table.total.reports} laporan dalam {len(table.rows)} baris"
            f" ({first.isoformat()} s.d. {last.isoformat()}).",
            err=True,
        )
