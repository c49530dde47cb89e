"""The reply queue on real databases: which text each citizen gets, for whom, and when not.

An admin may edit every template (`replies.templates_dir`); a template given every variable
its README names, in both branches of a status answer, shows exactly what each one holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from forwarder.replies import (
    LOCAL_LABELS,
    STATUS_LABELS,
    ReplyQueue,
    ReplyTemplates,
    recipient_hash,
)
from store import migrate
from store.db import make_engine, make_sessionmaker
from store.models import ReplyItem, Report, TimelineEvent, utcnow
from store.states import ReportState
from vocabulary.central import CentralStatus

EVERYTHING = (
    "found={{ found }} id={{ tracking_id }} status={{ status }} label={{ status_label }}"
    " agency={{ agency }} name={{ agency_name }} kind={{ kind }} note={{ note }}"
    " text={{ text }} url={{ status_url }} private={{ include_response }}"
)
TEMPLATES = {
    "status_query": EVERYTHING,
    "ack": "id={{ tracking_id }} agency={{ agency }} name={{ agency_name }} kind={{ kind }}"
    " url={{ status_url }}",
    "status": "id={{ tracking_id }} status={{ status }} label={{ status_label }}"
    " agency={{ agency }} name={{ agency_name }} note={{ note }}",
    "response": "id={{ tracking_id }} agency={{ agency }} name={{ agency_name }} text={{ text }}",
}
NAMES = {"upt-jalan": "UPT Jalan Wilayah I", "dinas-pupr": "Dinas PUPR"}
REPORTER = {"phone": "+6281200000001"}
STRANGER = {"phone": "+6281200000009"}


@pytest.fixture
def sessions(db_url: str, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url, base_dir=tmp_path)
    migrate.upgrade(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def queue(templates: ReplyTemplates) -> ReplyQueue:
    """Replies on `hp` (SMS, repliable) and `kertas` (letters: answered by hand)."""
    return ReplyQueue(
        templates,
        NAMES,
        lambda channel, reply_to: channel == "hp" and "phone" in reply_to,
        {"hp": "sms", "kertas": "letter"},
        lambda channel, reply_to: reply_to.get("phone"),
        public_url="https://aduan.contoh.go.id/",
    )


@pytest.fixture
def admin_queue(tmp_path: Path) -> ReplyQueue:
    """Templates edited by an admin to print every variable they are given."""
    edited = tmp_path / "templates"
    edited.mkdir()
    for name, text in TEMPLATES.items():
        (edited / f"{name}.txt").write_text(text, encoding="utf-8")
        (edited / f"{name}.sms.txt").write_text(text, encoding="utf-8")
    return queue(ReplyTemplates(edited))


def add_report(
    session: Session,
    n: int,
    *,
    state: ReportState = ReportState.SUBMITTED,
    tracking_id: str | None = None,
    central_status: str | None = None,
) -> Report:
    report = Report(
        id=f"01TESTREPORT{n:014d}",
        channel="hp",
        channel_type="test_phone",
        external_id=str(n),
        kind="pengaduan",
        agency="upt-jalan",
        hops=[],
        payload={},
        reply_to=REPORTER,
        state=state,
        tracking_id=tracking_id,
        central_status=central_status,
        status_token=f"token{n:03d}" if tracking_id else None,
    )
    session.add(report)
    session.flush()
    return report


def respond(session: Session, report: Report, text: str | None) -> None:
    session.add(TimelineEvent(report_id=report.id, event="response", detail={"text": text}))
    session.flush()


def test_status_answers_hold_what_each_asker_may_know(
    sessions: sessionmaker[Session], admin_queue: ReplyQueue
) -> None:
    with sessions.begin() as s:
        report = add_report(s, 1, tracking_id="LPR1234567", central_status="in_progress")
        other = add_report(s, 2, tracking_id="LPR2222222", central_status="verified")
        respond(s, report, "Tim dijadwalkan Senin.")
        respond(s, report, "Tim dijadwalkan Kamis.")  # the latest answer is the one told
        s.add(TimelineEvent(report_id=report.id, event="status", detail={"text": "bukan ini"}))
        respond(s, other, "Jawaban untuk laporan lain.")
        own = admin_queue.answer_query(
            s, "hp", REPORTER, "in-1", "LPR1234567", report, include_response=True
        )
        seen = admin_queue.answer_query(
            s, "hp", STRANGER, "in-2", report.id, report, include_response=False
        )
        unknown = admin_queue.answer_query(
            s, "hp", STRANGER, "in-3", "LPR0000000", None, include_response=False
        )
    assert own.text == (
        "found=True id=LPR1234567 status=in_progress label=sedang ditindaklanjuti"
        " agency=upt-jalan name=UPT Jalan Wilayah I kind=pengaduan note= text=Tim"
        " dijadwalkan Kamis. url=https://aduan.contoh.go.id/s/token001 private=True"
    )
    assert seen.text == (
        "found=True id=LPR1234567 status=in_progress label=sedang ditindaklanjuti"
        " agency=upt-jalan name=UPT Jalan Wilayah I kind=pengaduan note= text= url="
        " private=False"
    )
    assert unknown.text == (
        "found=False id=LPR0000000 status= label= agency= name= kind= note= text= url="
        " private=False"
    )
    assert (own.report_id, seen.report_id, unknown.report_id) == (report.id, report.id, None)
    assert [own.event, seen.event, unknown.event] == ["query:in-1", "query:in-2", "query:in-3"]
    # An answer goes to whoever asked, not to the report's reporter.
    assert (own.reply_to, seen.reply_to) == (REPORTER, STRANGER)
    assert seen.recipient == recipient_hash(STRANGER["phone"])
    assert {own.state, seen.state, unknown.state} == {"pending"}


@pytest.mark.parametrize(
    ("state", "label"),
    [
        (ReportState.QUEUED, "sedang diteruskan ke LAPOR!"),
        (ReportState.DEAD, "tertahan, sedang diperiksa petugas"),
    ],
)
def test_a_report_not_yet_at_the_central_tells_its_own_state(
    sessions: sessionmaker[Session], admin_queue: ReplyQueue, state: ReportState, label: str
) -> None:
    with sessions.begin() as s:
        report = add_report(s, 1, state=state)
        answer = admin_queue.answer_query(
            s, "hp", REPORTER, "in-1", report.id, report, include_response=True
        )
    assert answer.text == (
        f"found=True id={report.id} status={state.value} label={label} agency=upt-jalan"
        " name=UPT Jalan Wilayah I kind=pengaduan note= text= url= private=True"
    )


def test_every_status_is_told_in_words_and_an_empty_answer_is_none(
    sessions: sessionmaker[Session], admin_queue: ReplyQueue
) -> None:
    # Every status of the contract has its words; one outside it never gets this far (the
    # sync ignores it: tests/gateway/test_sync_history.py).
    assert set(STATUS_LABELS) == set(CentralStatus)
    assert set(LOCAL_LABELS) == {ReportState.QUEUED, ReportState.DEAD}
    with sessions.begin() as s:
        report = add_report(s, 1, tracking_id="LPR1234567", central_status=CentralStatus.ARCHIVED)
        respond(s, report, "")  # an empty answer is no answer
        answer = admin_queue.answer_query(
            s, "kertas", {}, "in-1", "LPR1234567", report, include_response=True
        )
    assert "status=archived label=diarsipkan " in answer.text and " text= " in answer.text
    assert answer.state == "manual" and answer.recipient is None


def test_the_channel_kind_picks_the_template(sessions: sessionmaker[Session]) -> None:
    replies = queue(ReplyTemplates())
    with sessions.begin() as s:
        report = add_report(s, 1, tracking_id="LPR1234567", central_status="verified")
        sms = replies.answer_query(s, "hp", REPORTER, "in-1", "x", report, include_response=True)
        plain = replies.answer_query(s, "web", {}, "in-2", "x", report, include_response=True)
    assert sms.text == "LAPOR! Status laporan LPR1234567: sudah diverifikasi (UPT Jalan Wilayah I)."
    assert plain.text == (
        "SP4N-LAPOR!: Status laporan LPR1234567: sudah diverifikasi (UPT Jalan Wilayah I)."
    )


def test_an_admin_template_wins_over_every_packaged_one(tmp_path: Path) -> None:
    """An admin's generic `ack.txt` reaches SMS too, before the packaged `ack.sms.txt`;
    an admin's own `ack.sms.txt` wins over the admin's `ack.txt` for SMS."""
    (tmp_path / "ack.txt").write_text("Pemkab Contoh: laporan {{ tracking_id }} diterima.")
    templates = ReplyTemplates(tmp_path)
    for variant in ("sms", "email", None):
        said = templates.render("ack", variant, tracking_id="LPR1234567")
        assert said == "Pemkab Contoh: laporan LPR1234567 diterima.", variant
    (tmp_path / "ack.sms.txt").write_text("SMS {{ tracking_id }}")
    assert templates.render("ack", "sms", tracking_id="LPR1") == "SMS LPR1"
    assert templates.render("ack", "email", tracking_id="LPR1") == (
        "Pemkab Contoh: laporan LPR1 diterima."
    )
    # Without an admin directory the packaged channel variant is used.
    packaged = ReplyTemplates().render("ack", "sms", tracking_id="LPR1", agency_name="Dinas")
    assert packaged.startswith("LAPOR! Laporan Anda diterima") and "LPR1" in packaged


def test_an_admin_generic_template_never_replaces_a_public_one(tmp_path: Path) -> None:
    """On X the acknowledgement is a public post: an admin's `ack.txt` naming the agency
    stays off it; only the admin's own `ack.twitter.txt` replaces the packaged one."""
    (tmp_path / "ack.txt").write_text("Laporan {{ tracking_id }} diteruskan ke {{ agency_name }}.")
    templates = ReplyTemplates(tmp_path)
    context = {"tracking_id": "LPR1234567", "agency_name": "Inspektorat"}
    public = templates.render("ack", "twitter", **context)
    assert "LPR1234567" in public and "DM" in public and "Inspektorat" not in public
    assert "Inspektorat" in templates.render("ack", "sms", **context)  # not public: it wins
    (tmp_path / "ack.twitter.txt").write_text("Nomor lacak {{ tracking_id }}; lanjut lewat DM.")
    own = ReplyTemplates(tmp_path).render("ack", "twitter", **context)  # read at start
    assert own == "Nomor lacak LPR1234567; lanjut lewat DM."


def test_each_event_is_queued_once_and_only_with_a_tracking_id(
    sessions: sessionmaker[Session], admin_queue: ReplyQueue
) -> None:
    with sessions.begin() as s:
        waiting = add_report(s, 1, state=ReportState.QUEUED)
        report = add_report(s, 2, tracking_id="LPR1234567", central_status="received")
        assert admin_queue.acknowledge(s, waiting) is None
        ack = admin_queue.acknowledge(s, report)
        assert ack is not None
        assert admin_queue.acknowledge(s, report) is None  # a repeat queues nothing
        status = admin_queue.status_changed(
            s,
            report,
            CentralStatus.COMPLETED,
            "2026-11-30T01:00:00Z",
            "dinas-pupr",
            "Sudah diaspal.",
        )
        response = admin_queue.agency_response(s, report, "r-9", "dinas-pupr", "Terima kasih.")
        other = admin_queue.agency_response(s, report, "r-10", None, "Sama-sama.")
        assert other is not None and "agency=upt-jalan name=UPT Jalan Wilayah I" in other.text
        assert status is not None and response is not None
        rows = list(s.scalars(select(ReplyItem).order_by(ReplyItem.event)))
        assert [r.event for r in rows] == [
            "ack",
            "response:r-10",
            "response:r-9",
            "status:completed:2026-11-30T01:00:00Z",
        ]
        assert ack.text == (
            "id=LPR1234567 agency=upt-jalan name=UPT Jalan Wilayah I kind=pengaduan"
            " url=https://aduan.contoh.go.id/s/token002"
        )
        assert status.text == (
            "id=LPR1234567 status=completed label=selesai ditindaklanjuti agency=dinas-pupr"
            " name=Dinas PUPR note=Sudah diaspal."
        )
        assert response.text == (
            "id=LPR1234567 agency=dinas-pupr name=Dinas PUPR text=Terima kasih."
        )
        # The report's own channel and reply address; no copy kept on the row.
        assert {(r.channel, r.report_id, r.state) for r in rows} == {("hp", report.id, "pending")}
        assert all(r.reply_to is None for r in rows)
        assert {r.recipient for r in rows} == {recipient_hash(REPORTER["phone"])}


def test_a_prompt_goes_to_the_asker_with_its_buttons(
    sessions: sessionmaker[Session], admin_queue: ReplyQueue
) -> None:
    before = utcnow()
    with sessions.begin() as s:
        asked = admin_queue.prompt(
            s, "hp", REPORTER, "chat:kind", "Pilih jenis laporan:", [["1", "Pengaduan"]]
        )
        by_hand = admin_queue.prompt(s, "kertas", {"name": "Budi"}, "chat:describe", "Isi?", [])
    assert (asked.state, by_hand.state) == ("pending", "manual")
    assert asked.choices == [["1", "Pengaduan"]] and by_hand.choices is None
    assert (asked.reply_to, by_hand.reply_to) == (REPORTER, {"name": "Budi"})
    assert (asked.event, asked.text, asked.channel) == ("chat:kind", "Pilih jenis laporan:", "hp")
    # Prompts answer the citizen one for one: not counted toward the recipient limit.
    assert asked.report_id is None and asked.recipient is None
    assert before <= asked.next_attempt_at <= utcnow()
    assert asked.id != by_hand.id
