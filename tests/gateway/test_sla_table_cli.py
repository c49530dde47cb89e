"""`sp4n-gateway sla table`: the XLSX opened again and every figure checked against the events."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from gateway.cli import main
from gateway.runtime import build_runtime
from tests import sla_data
from tests.helpers import AGENCIES, WEB_SECRET, config_text, free_port, load_test_config

ENV = {"CENTRAL_TOKEN": "test-token", "WEB_SECRET": WEB_SECRET}
AGENCY_NAMES = {a["code"]: a["name"] for a in AGENCIES}
CHANNELS = ("web", "web-signed", "surat")


@pytest.fixture
def seeded(db_url: str, tmp_path: Path) -> tuple[Path, list[sla_data.Scenario]]:
    """A config on a database holding the scenarios of the last ten weeks."""
    text = config_text(db_url, f"http://127.0.0.1:{free_port()}", data_dir=str(tmp_path / "d"))
    path = tmp_path / "gateway.yaml"
    path.write_text(text, encoding="utf-8")
    runtime = build_runtime(load_test_config(text), base_dir=tmp_path)
    items = sla_data.scenarios(sla_data.local(dt.datetime.now(dt.UTC)))
    try:
        with runtime.sessions.begin() as session:
            sla_data.seed(session, items)
    finally:
        runtime.close()
    return path, items


def run(*args: str) -> Any:
    result = CliRunner(env=ENV).invoke(main, ["sla", "table", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def local_naive(moment: dt.datetime | None) -> dt.datetime | None:
    return moment.astimezone(sla_data.WIB).replace(tzinfo=None) if moment else None


def test_xlsx_figures_match_the_database(
    seeded: tuple[Path, list[sla_data.Scenario]], tmp_path: Path
) -> None:
    config, items = seeded
    now = dt.datetime.now(dt.UTC)
    first, last = sla_data.period(sla_data.local(now))
    out = tmp_path / "koordinasi.xlsx"
    run("--config", str(config), "--from", str(first), "--to", str(last), "--format", "xlsx",
        "--out", str(out))  # fmt: skip
    want = sla_data.expected_rows(items, first, last, now, "agency")
    book = load_workbook(out)
    assert book.sheetnames == ["Koordinasi SLA", "Keterangan"]
    sheet = book["Koordinasi SLA"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "Instansi",
        "Kode instansi",
        "Aktivitas terakhir",
        "Jumlah laporan",
        "Rata-rata hari kerja RTL",
        "P90 hari kerja RTL",
        "Rata-rata hari kerja selesai",
        "P90 hari kerja selesai",
        "Belum ditindaklanjuti",
        "Sedang diproses",
        "Selesai",
        "Diarsipkan",
        "Terlambat",
        "Persentase tepat waktu",
    )
    body, total = rows[1:-1], rows[-1]
    assert [r[1] for r in body] == sorted(AGENCY_NAMES, key=lambda c: AGENCY_NAMES[c].casefold())
    for name, code, *figures in body:
        assert name == AGENCY_NAMES[code]
        w = want.get(str(code), sla_data.Expected())
        assert figures[0] == local_naive(w.last_activity), code
        assert figures[1] == w.reports, code
        assert figures[2] == pytest.approx(w.avg(w.response)), code
        assert figures[3] == w.p90(w.response), code
        assert figures[4] == pytest.approx(w.avg(w.completion)), code
        assert figures[5] == w.p90(w.completion), code
        assert figures[6:10] == [w.not_followed_up, w.in_process, w.completed, w.archived], code
        assert figures[10] == w.overdue, code
        assert figures[11] == pytest.approx(w.share), code
    assert total[0] == "Jumlah"
    assert total[3] == sum(w.reports for w in want.values()) == len(items) - 2
    everything = [d for w in want.values() for d in w.response]
    assert total[4] == pytest.approx(sum(everything) / len(everything))
    assert total[5] == sla_data.Expected.p90(everything)
    # Numbers are numbers, times local, shown the way coordinators read them.
    assert sheet["E2"].number_format == "0.0" and sheet["N2"].number_format == "0.0%"
    notes = dict(book["Keterangan"].iter_rows(values_only=True))
    assert notes["Periode laporan diterima"].startswith(f"{first.day} ")
    assert "WIB" in notes["Dibuat"] and "UTC" not in notes["Dibuat"]


def test_csv_and_table_per_channel(
    seeded: tuple[Path, list[sla_data.Scenario]], tmp_path: Path
) -> None:
    config, items = seeded
    now = dt.datetime.now(dt.UTC)
    first, last = sla_data.period(sla_data.local(now))
    span = ("--from", str(first), "--to", str(last), "--by", "channel")
    out = tmp_path / "kanal.csv"
    run("--config", str(config), *span, "--format", "csv", "--out", str(out))
    raw = out.read_text(encoding="utf-8")
    assert raw.startswith("\ufeffKanal,Aktivitas terakhir,Jumlah laporan,")
    rows = list(csv.reader(io.StringIO(raw.removeprefix("\ufeff"))))
    want = sla_data.expected_rows(items, first, last, now, "channel")
    assert [r[0] for r in rows[1:]] == [*sorted(CHANNELS), "Jumlah"]
    for name, last_seen, reports, avg, p90, *rest in rows[1:-1]:
        w = want.get(name, sla_data.Expected())
        assert int(reports) == w.reports
        assert avg == (f"{w.avg(w.response):.1f}" if w.response else "")
        assert p90 == (str(w.p90(w.response)) if w.response else "")
        assert [int(x) for x in rest[2:7]] == [
            w.not_followed_up, w.in_process, w.completed, w.archived, w.overdue,
        ]  # fmt: skip
        assert last_seen.endswith(" WIB") or (not last_seen and w.last_activity is None)
    shown = run("--config", str(config), *span).stdout
    assert "Tabel koordinasi SLA per kanal" in shown
    head = shown.splitlines()[1:4]  # long names over a few lines, to fit a terminal
    assert "Rata-rata" in head[0] and "hari kerja" in head[1] and "RTL" in head[2]
    assert "Belum" in head[1] and "ditindaklanjuti" in head[2]
    assert head[2].startswith("Kanal") and head[2].endswith("tepat waktu")
    assert "Jumlah" in shown
    total = sla_data.Expected()
    for w in want.values():
        total.response += w.response
    assert f"{total.avg(total.response):.1f}".replace(".", ",") in shown


def test_refuses_what_it_cannot_do(seeded: tuple[Path, list[sla_data.Scenario]]) -> None:
    config, _ = seeded
    runner = CliRunner(env=ENV)
    no_out = runner.invoke(main, ["sla", "table", "--config", str(config), "--format", "xlsx"])
    assert no_out.exit_code == 2 and "perlu --out" in no_out.output
    bad = runner.invoke(main, ["sla", "table", "--config", str(config), "--from", "31/12/2026"])
    assert bad.exit_code == 2 and "TTTT-BB-HH" in bad.output
    backwards = runner.invoke(
        main,
        ["sla", "table", "--config", str(config), "--from", "2026-12-01", "--to", "2026-11-01"],
    )
    assert backwards.exit_code == 2 and "sebelum" in backwards.output
