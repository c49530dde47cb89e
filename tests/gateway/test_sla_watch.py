"""The SLA watch end to end: clocks over the database, /metrics, the citizen's notice, the
daily digest through a real SMTP server (aiosmtpd), and `sla report`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import requests
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from adapters.email.smtp import SmtpSettings
from forwarder.sla.calendar import WorkingCalendar
from forwarder.sla.clocks import ClockState, SlaRules, Stage, StageClock
from forwarder.sla.digest import AgencyContact, DigestTemplates, SlaDigest, smtp_settings
from forwarder.sla.watch import WatchItem, WatchResult
from gateway.cli import main
from store import migrate
from store.db import make_engine, make_sessionmaker
from store.models import ReplyItem, Report
from tests.adapters.email.smtp_server import Recorder
from tests.conftest import GatewayHarness
from tests.helpers import WEB_SECRET, config_text, free_port, load_test_config

ENV = {"CENTRAL_TOKEN": "test-token", "WEB_SECRET": WEB_SECRET}


@pytest.fixture
def smtp() -> Iterator[tuple[Recorder, int]]:
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    yield recorder, port
    controller.stop()


def sla_config(db_url: str, central: str, smtp_port: int, data_dir: str) -> str:
    text = config_text(
        db_url,
        central,
        data_dir=data_dir,
        extra=f"""\
sla:
  digest: {{smtp_host: 127.0.0.1, smtp_port: {smtp_port}, smtp_tls: none,
           from_address: sla@kab-contoh.go.id, send_at: "07:00"}}
""",
    )
    agency = "parent: dinas-pupr}"
    assert agency in text
    return text.replace(agency, "parent: dinas-pupr, email: [upt@kab-contoh.go.id]}")


@pytest.fixture
def harness(
    db_url: str, sandbox: Any, tmp_path: Path, smtp: tuple[Recorder, int]
) -> Iterator[GatewayHarness]:
    from gateway.runtime import build_runtime

    text = sla_config(db_url, sandbox.url, smtp[1], str(tmp_path / "data"))
    runtime = build_runtime(load_test_config(text), base_dir=tmp_path)
    gateway = GatewayHarness(runtime, sandbox)
    yield gateway
    gateway.forwarder.close()
    runtime.close()


def metric(harness: GatewayHarness, name: str, agency: str, stage: str) -> float | None:
    text = harness.client.get("/metrics").get_data(as_text=True)
    prefix = f'{name}{{agency="{agency}",stage="{stage}"}} '
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix) :])
    return None


def local(rules: SlaRules, day: dt.date, hour: int) -> dt.datetime:
    moment = dt.datetime.combine(day, dt.time(hour), rules.calendar.zone)
    return moment.astimezone(dt.UTC)


def test_watch_metrics_notice_and_digest(
    harness: GatewayHarness, smtp: tuple[Recorder, int]
) -> None:
    recorder, _port = smtp
    harness.post("web", {"body": "Jalan rusak parah di Desa Maju", "external_id": "sla-1"})
    harness.post("web", {"body": "Lampu taman mati", "external_id": "sla-2"})
    harness.drain()
    reports = {r.external_id: r for r in harness.rows(Report)}
    late, done = reports["sla-1"], reports["sla-2"]
    assert late.agency == "upt-jalan"
    requests.post(
        f"{harness.sandbox.url}/sandbox/reports/{done.tracking_id}/status",
        json={"status": "completed"},
        timeout=5,
    ).raise_for_status()
    harness.runtime.status_sync().run_once()
    watch = harness.runtime.sla_watch()
    rules = watch.rules
    assert metric(harness, "sp4n_sla_overdue", "upt-jalan", "verification") is None

    # The due day itself: due soon, nobody told anything yet.
    received = rules.calendar.local_date(late.created_at)
    due = rules.calendar.add_working_days(received, 3)
    result = watch.run_once(local(rules, due, 12))
    assert [(i.clock.report_id, i.clock.stage, i.clock.state) for i in result.items] == [
        (late.id, Stage.VERIFICATION, "due_soon")
    ]
    assert metric(harness, "sp4n_sla_due_soon", "upt-jalan", "verification") == 1.0
    assert not [r for r in harness.rows(ReplyItem) if r.event.startswith("sla_")]
    # The digest of a due-soon report goes out on that day too (it is after 07:00).
    (first,) = recorder.received
    assert first["To"] == "upt@kab-contoh.go.id"
    assert "1 mendekati tenggat" in first["Subject"]
    recorder.received.clear()

    # The next working day, 09:00 WIB: overdue.
    after = rules.calendar.add_working_days(due, 1)
    result = watch.run_once(local(rules, after, 9))
    assert metric(harness, "sp4n_sla_overdue", "upt-jalan", "verification") == 1.0
    assert metric(harness, "sp4n_sla_due_soon", "upt-jalan", "verification") is None
    (notice,) = [r for r in harness.rows(ReplyItem) if r.event.startswith("sla_")]
    assert notice.event == "sla_overdue:verification" and notice.report_id == late.id
    assert late.tracking_id in notice.text and "Mohon maaf" in notice.text
    assert "verifikasi dan disposisi" in notice.text and "UPT Jalan Wilayah I" in notice.text
    (digest,) = recorder.received
    body = digest.get_content()
    assert digest["Subject"].startswith("Ringkasan SLA UPT Jalan Wilayah I: 1 terlambat")
    assert digest["Auto-Submitted"] == "auto-generated"
    assert "TERLAMBAT (1)" in body and late.tracking_id in body
    assert f"/admin/reports/{late.id}" in body
    assert done.tracking_id not in body
    # An hour later: the same day's digest and the notice are not sent again.
    watch.run_once(local(rules, after, 10))
    assert len(recorder.received) == 1
    assert len([r for r in harness.rows(ReplyItem) if r.event.startswith("sla_")]) == 1
    # The SMTP server refuses for a while: the day's digest is tried again later.
    nxt = rules.calendar.add_working_days(after, 1)
    recorder.data_answer = "451 4.3.0 coba lagi nanti"
    watch.run_once(local(rules, nxt, 8))
    assert len(recorder.received) == 1
    recorder.data_answer = "250 OK"
    watch.run_once(local(rules, nxt, 9))
    assert len(recorder.received) == 2
    assert len([r for r in harness.rows(ReplyItem) if r.event.startswith("sla_")]) == 1


def test_no_digest_before_send_at_or_on_a_holiday(
    harness: GatewayHarness, smtp: tuple[Recorder, int]
) -> None:
    recorder, _port = smtp
    harness.post("web", {"body": "Jalan rusak lagi", "external_id": "sla-3"})
    harness.drain()
    watch = harness.runtime.sla_watch()
    rules = watch.rules
    later = rules.calendar.add_working_days(dt.date.today(), 10)
    watch.run_once(local(rules, later, 6))  # before 07:00 WIB
    assert recorder.received == []
    sunday = later + dt.timedelta(days=(7 - later.isoweekday()))
    watch.run_once(local(rules, sunday, 12))
    assert recorder.received == []
    watch.run_once(local(rules, later, 7))
    assert len(recorder.received) == 1


def test_report_command(tmp_path: Path, sandbox: Any, smtp: tuple[Recorder, int]) -> None:
    from gateway.runtime import build_runtime

    db = f"sqlite:///{tmp_path / 'gateway.db'}"
    text = sla_config(db, sandbox.url, smtp[1], str(tmp_path / "data"))
    path = tmp_path / "gateway.yaml"
    path.write_text(text, encoding="utf-8")
    runtime = build_runtime(load_test_config(text), base_dir=tmp_path)
    try:
        gateway = GatewayHarness(runtime, sandbox)
        gateway.post("web", {"body": "Jembatan putus", "external_id": "cli-1"})
        gateway.drain()
        gateway.forwarder.close()
        (report,) = gateway.rows(Report)
    finally:
        runtime.close()
    rules = SlaRules.from_config(load_test_config(text).model)
    received = rules.calendar.local_date(report.created_at)
    due = rules.calendar.add_working_days(received, 3)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main, ["sla", "report", "--config", str(path), *args], env=ENV)
        assert result.exit_code == 0, result.output
        return result.stdout

    rows = json.loads(run("--agency", "upt-jalan", "--all", "--format", "json"))
    verification = next(r for r in rows if r["stage"] == "verification")
    assert verification["tracking_id"] == report.tracking_id
    assert verification["due_on"] == due.isoformat() and verification["state"] == "on_time"
    assert verification["started_at"].endswith("+07:00")  # WIB, never raw UTC
    table = list(csv.reader(io.StringIO(run("--all", "--format", "csv"))))
    assert table[0][:5] == ["nomor_lacak", "id_laporan", "instansi", "tahap", "keadaan"]
    assert [report.tracking_id, report.id, "upt-jalan", "verification"] == table[1][:4]
    text_out = run("--all", "--agency", "upt-jalan")
    assert "verifikasi dan disposisi" in text_out and "tepat waktu" in text_out
    assert "WIB" in text_out
    assert "Tidak ada laporan" in run("--agency", "nasional")
    bad = runner.invoke(main, ["sla", "report", "--config", str(path), "--agency", "x"], env=ENV)
    assert bad.exit_code != 0 and "tidak ada di konfigurasi" in bad.output


def test_the_runner_schedules_the_watch(harness: GatewayHarness) -> None:
    from gateway.runner import ScheduledJobs

    jobs = ScheduledJobs(harness.runtime)
    jobs.start()
    try:
        job = jobs.scheduler.get_job("sla")
        assert job is not None
        assert job.trigger.interval.total_seconds() == 900  # sla.watch_interval default
    finally:
        jobs.stop()


def test_digest_template_is_editable(tmp_path: Path) -> None:
    from forwarder.sla.digest import DigestTemplates

    (tmp_path / "sla_digest.email.txt").write_text(
        "Tenggat {{ agency_name }}: {{ overdue|length }}\nIsi buatan admin.\n", encoding="utf-8"
    )
    context: dict[str, Any] = {"agency_name": "Dinas PUPR", "overdue": [1, 2]}
    assert DigestTemplates(tmp_path).render(**context) == (
        "Tenggat Dinas PUPR: 2",
        "Isi buatan admin.\n",
    )
    subject, body = DigestTemplates().render(
        agency="dinas-pupr",
        agency_name="Dinas PUPR",
        day="Senin, 30 Nov 2026",
        computed_at="Senin, 30 Nov 2026 07:00 WIB",
        zone="Asia/Jakarta",
        overdue=[],
        due_soon=[],
        limits={"verification": 3, "first_response": 3, "follow_up": 5, "resolution": 60},
    )
    assert (
        subject == "Ringkasan SLA Dinas PUPR: 0 terlambat, 0 mendekati tenggat (Senin, 30 Nov 2026)"
    )
    assert "respon awal 3 hari kerja" in body


# --- the digest message itself (no SMTP server, no database) -------------------------------


def _clock(stage: Stage, state: ClockState, allowed: int, used: int, report_id: str) -> StageClock:
    return StageClock(
        report_id=report_id,
        stage=stage,
        cycle=0,
        agency="upt-jalan",
        started_at=dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC),  # Tuesday 01:00 WIB
        due_on=dt.date(2026, 11, 26),
        due_at=dt.datetime(2026, 11, 26, 17, 0, tzinfo=dt.UTC),
        ended_at=None,
        allowed=allowed,
        used=used,
        state=state,
    )


def _digest(
    templates: DigestTemplates | None = None,
    sessions: sessionmaker[Session] | None = None,
    send: Any = None,
) -> SlaDigest:
    return SlaDigest(
        sessions if sessions is not None else sessionmaker(),
        SmtpSettings(host="127.0.0.1", port=25, tls="none", from_address="sla@kab-contoh.go.id"),
        [AgencyContact("upt-jalan", "UPT Jalan Wilayah I", ("upt@kab-contoh.go.id",))],
        SlaRules(calendar=WorkingCalendar()),
        templates or DigestTemplates(),
        public_url="https://lapor.kab-contoh.go.id/",
        send=send or (lambda settings, message: None),
    )


@pytest.fixture
def machine_in_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's own zone is UTC: anything shown in it instead of WIB is visible."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_digest_message_headers_and_lines(machine_in_utc: None) -> None:
    items = [
        WatchItem("LPR0000001", "web", _clock(Stage.VERIFICATION, ClockState.OVERDUE, 3, 5, "r1")),
        WatchItem("LPR0000002", "sms", _clock(Stage.RESOLUTION, ClockState.OVERDUE, 60, 62, "r2")),
    ]
    computed = dt.datetime(2026, 11, 30, 1, 30, tzinfo=dt.UTC)  # Monday 08:30 WIB
    digest = _digest()
    contact = digest.agencies[0]
    message = digest.message(contact, items, WatchResult(computed_at=computed), computed)
    body = message.get_content()
    # The moment is shown in the configured zone (WIB), not in the machine's.
    assert "per Senin, 30 Nov 2026 08:30 WIB." in body
    # Working days for the working-day stages, calendar days for resolution.
    assert (
        "LPR0000001  verifikasi dan disposisi: tenggat Kamis, 26 Nov 2026, lewat 2 hari kerja;"
        in body
    )
    assert "lewat 2 hari; mulai Selasa, 24 Nov 2026" in body
    assert "https://lapor.kab-contoh.go.id/admin/reports/r2" in body
    assert body.rstrip().endswith("sp4n-gateway sla report --agency upt-jalan")
    assert message["From"] == "SP4N-LAPOR! <sla@kab-contoh.go.id>"
    assert message["Message-ID"].endswith("@kab-contoh.go.id>")
    assert message["Date"] is not None


def test_digest_row_fields_and_encoding(tmp_path: Path) -> None:
    # An admin's template may show any field of a row: a report not late is 0 days late.
    (tmp_path / "sla_digest.email.txt").write_text(
        "Ringkasan {{ agency }}\n{% for i in due_soon %}{{ i.tracking_id }} {{ i.left }}"
        " {{ i.late }} {{ i.unit }}\n{% endfor %}\n",
        encoding="utf-8",
    )
    clock = _clock(Stage.FOLLOW_UP, ClockState.DUE_SOON, 5, 4, "r3")
    computed = dt.datetime(2026, 11, 30, 1, 30, tzinfo=dt.UTC)
    digest = _digest(DigestTemplates(tmp_path))
    message = digest.message(
        digest.agencies[0], [WatchItem(None, "web", clock)], WatchResult(computed), computed
    )
    assert message["Subject"] == "Ringkasan upt-jalan"
    assert message.get_content() == "r3 1 0 hari kerja\n"
    # Short ASCII lines still go quoted-printable, as every digest does.
    assert message["Content-Transfer-Encoding"] == "quoted-printable"


def test_digest_counts_what_it_sent(sqlite_url: str, tmp_path: Path) -> None:
    engine = make_engine(sqlite_url, base_dir=tmp_path)
    migrate.upgrade(engine)
    sent: list[EmailMessage] = []
    digest = _digest(sessions=make_sessionmaker(engine), send=lambda s, m: sent.append(m))
    clock = _clock(Stage.VERIFICATION, ClockState.OVERDUE, 3, 4, "r4")
    now = dt.datetime(2026, 11, 30, 1, 30, tzinfo=dt.UTC)  # Monday 08:30 WIB, a working day
    result = WatchResult(computed_at=now, items=[WatchItem("LPR0000004", "web", clock)])
    try:
        assert digest(result, now) == 1
        assert digest(result, now) == 0  # once a day
        assert len(sent) == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize(("tls", "port"), [("starttls", 587), ("none", 587), ("ssl", 465)])
def test_digest_smtp_settings(tls: str, port: int) -> None:
    model = load_test_config(
        config_text(
            "sqlite://",
            "http://127.0.0.1:9",
            extra=f"""\
sla:
  digest: {{smtp_host: 127.0.0.1, smtp_tls: {tls}, smtp_user: sla,
           smtp_password: "${{SLA_PASSWORD}}", from_address: sla@kab-contoh.go.id}}
""",
        ),
        SLA_PASSWORD="rahasia",
    ).model
    settings = smtp_settings(model)
    assert settings is not None
    assert settings.port == port
    assert (settings.user, settings.password) == ("sla", "rahasia")


def test_a_notice_names_the_clock_it_is_about(harness: GatewayHarness, tmp_path: Path) -> None:
    from forwarder.replies import ReplyTemplates

    harness.post("web", {"body": "Jalan rusak parah di Desa Maju", "external_id": "sla-9"})
    harness.drain()
    (report,) = harness.rows(Report)
    assert report.agency == "upt-jalan" and report.tracking_id
    # An admin's notice template may use every value a notice is given.
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "sla_overdue.txt").write_text(
        "{{ agency }}|{{ agency_name }}|{{ stage }}|{{ started_day }}\n", encoding="utf-8"
    )
    watch = harness.runtime.sla_watch()
    watch.replies.templates = ReplyTemplates(tmp_path / "tpl")
    # The clock waits on another agency than the report's own (it was handed on).
    clock = _clock(Stage.FIRST_RESPONSE, ClockState.OVERDUE, 3, 5, report.id)
    clock.agency = "dinas-pupr"
    with harness.runtime.sessions.begin() as session:
        row = session.get(Report, report.id)
        assert row is not None
        assert watch._notice(session, row, clock)
    (notice,) = [r for r in harness.rows(ReplyItem) if r.event.startswith("sla_")]
    assert notice.event == "sla_overdue:first_response"
    assert notice.text == "dinas-pupr|Dinas PUPR|first_response|Selasa, 24 Nov 2026"


def test_the_watch_snapshot_says_when_it_was_computed() -> None:
    now = dt.datetime(2026, 11, 30, 1, 30, tzinfo=dt.UTC)
    result = WatchResult(computed_at=now)
    result.overdue[("upt-jalan", "verification")] += 2
    assert result.snapshot() == {
        "computed_at": "2026-11-30T01:30:00+00:00",
        "overdue": [["upt-jalan", "verification", 2]],
        "due_soon": [],
    }


def test_a_report_the_central_closed_is_not_watched(harness: GatewayHarness) -> None:
    harness.post("web", {"body": "Jalan rusak parah di Desa Maju", "external_id": "sla-c"})
    harness.drain()
    (report,) = harness.rows(Report)
    watch = harness.runtime.sla_watch()
    rules = watch.rules
    later = rules.calendar.add_working_days(rules.calendar.local_date(report.created_at), 10)
    assert [i.clock.report_id for i in watch.run_once(local(rules, later, 9)).items] == [report.id]
    # The central says closed (its history lacked the closing entry): no clock to watch.
    with harness.runtime.sessions.begin() as session:
        row = session.get(Report, report.id)
        assert row is not None
        row.central_status = "closed"
    assert watch.run_once(local(rules, later, 10)).items == []
