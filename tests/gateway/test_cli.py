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
from vocabulary.holds import HoldReason

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
        hold=HoldReason.AUTO_REPLY,
    )
    (outcome,) = runtime.intake.accept(runtime.adapters["web"], [held])
    runtime.close()
    listed = CliRunner(env=ENV).invoke(main, ["quarantine", "list", "--config", str(config)])
    assert listed.exit_code == 0, listed.output
    # The reason in words, never the message.
    assert outcome.report_id in listed.output and "balasan otomatis" in listed.output
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


def test_rejected_input_is_read_again_after_a_config_fix(tmp_path: Path, sandbox: Any) -> None:
    """Issue 8.7: input refused because of the config can be re-processed once it is fixed.

    A legacy site's table is polled with a mapping that points `body` at a column that does
    not exist, so every row is refused; after the fix `quarantine reprocess --rejected`
    turns the kept rows into reports, exactly once.
    """
    import sqlite3

    site = tmp_path / "situs.db"
    with sqlite3.connect(site) as conn:
        conn.execute("CREATE TABLE aduan (id INTEGER PRIMARY KEY, isi TEXT, hp TEXT)")
        conn.execute("INSERT INTO aduan VALUES (1, 'Jalan rusak di RT 3', '081200000009')")
        conn.execute("INSERT INTO aduan VALUES (2, 'Lampu mati di gang 2', '081200000010')")
    channel = (
        '- {{name: situs, type: legacy_db, database: "${{LEGACY_DB_URL}}", table: aduan,'
        " fields: {{body: {column}, phone: hp}}}}\n"
    )
    db_url = f"sqlite:///{tmp_path / 'gateway.db'}"
    config = tmp_path / "gateway.yaml"
    env = {**ENV, "LEGACY_DB_URL": f"sqlite:///{site}"}

    def write(column: str) -> None:
        text = config_text(db_url, sandbox.url, channels=channel.format(column=column))
        config.write_text(text.replace('data_dir: "data"', f'data_dir: "{tmp_path}"'))

    write("isi_aduan")  # the mistake: the site's column is `isi`
    runtime = build_runtime(load_test_config(config.read_text(), **env), base_dir=tmp_path)
    try:
        (poller,) = runtime.pollers()
        assert poller.run_once() == 2
        with runtime.sessions() as session:
            rejected = list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))
    finally:
        runtime.close()
    assert [r.state for r in rejected] == ["rejected", "rejected"]
    ids = [r.id for r in rejected]
    still = CliRunner(env=env).invoke(
        main, ["quarantine", "reprocess", "--config", str(config), "--rejected", ids[0]]
    )
    assert still.exit_code == 1 and "masih ditolak" in still.output
    write("isi")  # the fix
    fixed = CliRunner(env=env).invoke(
        main, ["quarantine", "reprocess", "--config", str(config), "--rejected", *ids]
    )
    assert fixed.exit_code == 0, fixed.output
    assert fixed.output.count("dibaca ulang: laporan") == 2
    again = CliRunner(env=env).invoke(
        main, ["quarantine", "reprocess", "--config", str(config), ids[0]]
    )
    assert again.exit_code == 1 and "bukan masukan yang ditolak" in again.output
    runtime = build_runtime(load_test_config(config.read_text(), **env), base_dir=tmp_path)
    try:
        (poller,) = runtime.pollers()
        assert poller.run_once() == 0  # the cursor moved past both rows long ago
        with runtime.sessions() as session:
            reports = list(session.scalars(select(Report)))
            rows = {r.id: r for r in session.scalars(select(InboundMessage))}
    finally:
        runtime.close()
    assert sorted(r.payload["body"] for r in reports) == [
        "Jalan rusak di RT 3",
        "Lampu mati di gang 2",
    ]
    assert {rows[i].state for i in ids} == {"reprocessed"}
    assert {rows[i].report_id for i in ids} == {r.id for r in reports}
    validate_reports([r.payload for r in reports])
