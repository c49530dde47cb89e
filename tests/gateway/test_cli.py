"""The admin's command line: letters typed in, quarantine listed and released."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from gateway.cli import main
from gateway.runtime import build_runtime
from store.models import InboundMessage, Report
from tests.helpers import WEB_SECRET, config_text, load_test_config, validate_reports
from vocabulary.drafts import MessageDraft, RawMessage

ENV = {"CENTRAL_TOKEN": "test-token", "WEB_SECRET": WEB_SECRET}


def write_config(tmp_path: Path, sandbox: Any) -> Path:
    path = tmp_path / "gateway.yaml"
    path.write_text(
        config_text(
            f"sqlite:///{tmp_path / 'gateway.db'}", sandbox.url, data_dir=str(tmp_path / "data")
        ),
        encoding="utf-8",
    )
    return path


def forward_all(tmp_path: Path, config: Path) -> list[Report]:
    runtime = build_runtime(load_test_config(config.read_text()), base_dir=tmp_path)
    try:
        forwarder = runtime.forwarder()
        forwarder.drain(30)
        forwarder.close()
        with runtime.sessions() as session:
            return list(session.scalars(select(Report)))
    finally:
        runtime.close()


def test_letter_add_with_flags_and_body_file(tmp_path: Path, sandbox: Any) -> None:
    config = write_config(tmp_path, sandbox)
    body = tmp_path / "surat.txt"
    body.write_text(
        "Dengan hormat,\n\nKami warga RT 02 melaporkan jembatan yang retak.\n", encoding="utf-8"
    )
    args = [
        "letter",
        "add",
        "--config",
        str(config),
        "--sender-name",
        "Ketua RT 02",
        "--address",
        "Jl. Melati 2",
        "--phone",
        "0812-0000-0003",
        "--number",
        "005/RT02/XI/2026",
        "--date",
        "2026-11-20",
        "--body-file",
        str(body),
        "--entered-by",
        "admin1",
    ]
    first = CliRunner(env=ENV).invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "Surat dicatat sebagai laporan" in first.output
    again = CliRunner(env=ENV).invoke(main, args)
    assert again.exit_code == 0 and "sudah pernah dicatat" in again.output
    (report,) = forward_all(tmp_path, config)
    validate_reports([report.payload])
    assert report.payload["letter"] == {
        "number": "005/RT02/XI/2026",
        "date": "2026-11-20",
        "sender_organisation": None,
        "entered_by": "admin1",
    }
    assert report.payload["reporter"]["phone"] == "+6281200000003"
    assert report.payload["routing"]["agency"] == "upt-jalan"


def test_letter_add_refuses_bad_input(tmp_path: Path, sandbox: Any) -> None:
    config = write_config(tmp_path, sandbox)
    both = CliRunner(env=ENV).invoke(
        main, ["letter", "add", "--config", str(config), "--body", "x", "--body-file", str(config)]
    )
    assert both.exit_code == 2 and "tepat satu dari --body atau --body-file" in both.output
    empty = CliRunner(env=ENV).invoke(
        main, ["letter", "add", "--config", str(config), "--body", "   "]
    )
    assert empty.exit_code == 1 and "surat tidak dapat dicatat" in empty.output
    bad_date = CliRunner(env=ENV).invoke(
        main, ["letter", "add", "--config", str(config), "--body", "x", "--date", "20-11-2026"]
    )
    assert bad_date.exit_code == 2 and "--date" in bad_date.output


def test_quarantine_list_and_release(tmp_path: Path, sandbox: Any) -> None:
    config = write_config(tmp_path, sandbox)
    runtime = build_runtime(load_test_config(config.read_text()), base_dir=tmp_path)
    now = dt.datetime.now(dt.UTC)
    held = RawMessage(
        "auto-1",
        now,
        {"body": "raw"},
        MessageDraft(
            external_id="auto-1",
            received_at=now,
            body="Terima kasih, pesan Anda kami terima.",
            phone="081200000004",
        ),
        hold="auto-reply",
    )
    (outcome,) = runtime.intake.accept(runtime.adapters["web"], [held])
    runtime.close()
    listed = CliRunner(env=ENV).invoke(main, ["quarantine", "list", "--config", str(config)])
    assert listed.exit_code == 0, listed.output
    assert outcome.report_id in listed.output and "auto-reply" in listed.output
    assert "081200000004" not in listed.output and "Terima kasih" not in listed.output
    assert "1 pesan dalam karantina" in listed.output
    released = CliRunner(env=ENV).invoke(
        main, ["quarantine", "release", "--config", str(config), outcome.report_id]
    )
    assert released.exit_code == 0, released.output
    unknown = CliRunner(env=ENV).invoke(
        main, ["quarantine", "release", "--config", str(config), "01NOPE"]
    )
    assert unknown.exit_code == 1 and "tidak ada pesan karantina" in unknown.output
    (report,) = forward_all(tmp_path, config)
    assert report.state == "submitted"
    runtime = build_runtime(load_test_config(config.read_text()), base_dir=tmp_path)
    with runtime.sessions() as session:
        (row,) = session.scalars(select(InboundMessage))
    runtime.close()
    assert row.state == "released" and row.report_id == report.id
