"""Intake beyond plain reports: quarantine and release, follow-ups, status queries, group commit.

A small phone-like channel stands in for SMS here (its replies land in a list): the real SMS
and email adapters have their own suites; these tests are about what the gateway does with
what any adapter hands it. Runs on SQLite and PostgreSQL against the sandbox over HTTP.
"""

from __future__ import annotations

import builtins
import concurrent.futures
import datetime as dt
import time
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Literal

import pytest
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, StatementError

from adapters.base import Adapter, ChannelOptions, Mode, OutgoingReply
from gateway.intake.service import public_status
from gateway.intake.writer import _describe, lost_a_race, refused_content
from store.models import ForwardItem, InboundMessage, ReplyItem, Report, TimelineEvent
from tests.conftest import GatewayHarness
from tests.gateway.test_flow import set_status
from tests.helpers import validate_reports
from vocabulary.drafts import MessageDraft, RawMessage
from vocabulary.errors import PayloadInvalid
from vocabulary.holds import HoldReason


class PhoneOptions(ChannelOptions):
    """A test channel's options."""

    type: Literal["test_phone"] = "test_phone"


class PhoneAdapter(Adapter[PhoneOptions]):
    """A channel whose citizens are phone numbers; sent replies are kept in `sent`."""

    type: ClassVar[str] = "test_phone"
    kind: ClassVar[str] = "sms"
    modes: ClassVar[frozenset[Mode]] = frozenset({"manual"})
    Options: ClassVar[builtins.type[ChannelOptions]] = PhoneOptions

    def __init__(self, options: ChannelOptions, *, public_url: str = "") -> None:
        super().__init__(options, public_url=public_url)
        self.sent: list[OutgoingReply] = []

    def can_reply(self, reply_to: Mapping[str, str]) -> bool:
        return "phone" in reply_to

    def recipient_key(self, reply_to: Mapping[str, str]) -> str | None:
        return reply_to.get("phone")

    def send_reply(self, reply: OutgoingReply) -> str | None:
        self.sent.append(reply)
        return f"out-{reply.reply_id}"


def message(ext: str, body: str, phone: str = "+6281200000001", **draft: Any) -> RawMessage:
    hold = draft.pop("hold", None)
    now = dt.datetime.now(dt.UTC)
    return RawMessage(
        ext,
        now,
        {"text": body},
        MessageDraft(
            external_id=ext,
            received_at=now,
            body=body,
            phone=phone,
            reply_to={"phone": phone},
            **draft,
        ),
        hold=hold,
    )


@pytest.fixture
def phone(gateway: GatewayHarness) -> Iterator[PhoneAdapter]:
    adapter = PhoneAdapter(PhoneOptions(name="hp", type="test_phone"))
    gateway.runtime.adapters["hp"] = adapter
    gateway.runtime.replies.channel_kinds["hp"] = adapter.kind
    yield adapter


def accept(gateway: GatewayHarness, adapter: Adapter, msg: RawMessage) -> Any:
    (outcome,) = gateway.runtime.intake.accept(adapter, [msg])
    return outcome


def send_replies(gateway: GatewayHarness) -> None:
    gateway.runtime.reply_sender().run_once()


def submitted(
    gateway: GatewayHarness,
    phone: PhoneAdapter,
    ext: str,
    body: str,
    number: str = "+6281200000001",
) -> Report:
    outcome = accept(gateway, phone, message(ext, body, number))
    gateway.drain()
    with gateway.runtime.sessions() as session:
        report = session.get(Report, outcome.report_id)
    assert report is not None and report.tracking_id
    return report


def test_held_message_is_quarantined_then_released(
    gateway: GatewayHarness, phone: PhoneAdapter
) -> None:
    held = accept(
        gateway, phone, message("q-1", "Saya sedang cuti sampai Senin.", hold=HoldReason.AUTO_REPLY)
    )
    assert held.status == "quarantined" and held.created
    assert gateway.rows(Report) == [] and gateway.rows(ForwardItem) == []
    (row,) = gateway.rows(InboundMessage)
    assert row.state == "quarantined" and row.hold_reason is HoldReason.AUTO_REPLY and row.draft
    again = accept(
        gateway, phone, message("q-1", "Saya sedang cuti sampai Senin.", hold=HoldReason.AUTO_REPLY)
    )
    assert not again.created and again.report_id == held.report_id
    # An admin decides it is a real complaint after all.
    with gateway.runtime.sessions.begin() as session:
        report_id = gateway.runtime.intake.release(session, row.id, phone)
    with pytest.raises(LookupError), gateway.runtime.sessions.begin() as session:
        gateway.runtime.intake.release(session, row.id, phone)
    gateway.drain()
    (report,) = gateway.rows(Report)
    assert report.id == report_id and report.state == "submitted"
    validate_reports([report.payload])
    assert [c["gateway_id"] for c in gateway.central_reports()] == [report_id]
    (row,) = gateway.rows(InboundMessage)
    assert row.state == "released" and row.report_id == report_id


def test_followup_by_tracking_id_from_the_same_sender(
    gateway: GatewayHarness, phone: PhoneAdapter
) -> None:
    first = submitted(gateway, phone, "f-1", "Lampu jalan mati di Jl. Merdeka.")
    assert first.tracking_id is not None
    outcome = accept(
        gateway,
        phone,
        message("f-2", "Sudah tiga malam masih mati.", in_reply_to=first.tracking_id),
    )
    assert outcome.status == "followup" and outcome.report_id == first.id
    assert gateway.drain() == 1
    (central,) = gateway.central_reports()
    assert [f["body"] for f in central["followups"]] == ["Sudah tiga malam masih mati."]
    assert len(gateway.rows(Report)) == 1
    events = [e.event for e in gateway.rows(TimelineEvent) if e.report_id == first.id]
    assert "followup" in events and "followup_sent" in events
    # Another person naming the same tracking id starts a report of their own.
    other = accept(
        gateway,
        phone,
        message("f-3", "Saya juga melihatnya.", "+6281200000002", in_reply_to=first.tracking_id),
    )
    assert other.status == "queued" and other.report_id != first.id


def test_followup_by_thread_reference_to_our_reply(
    gateway: GatewayHarness, phone: PhoneAdapter
) -> None:
    first = submitted(gateway, phone, "t-1", "Sampah menumpuk di pasar.")
    assert first.tracking_id is not None
    send_replies(gateway)
    (ack,) = phone.sent
    assert first.tracking_id in ack.text
    (item,) = gateway.rows(ReplyItem)
    assert item.state == "sent" and item.provider_id == f"out-{ack.reply_id}"
    outcome = accept(
        gateway, phone, message("t-2", "Foto terlampir.", thread_refs=["unknown", item.provider_id])
    )
    assert outcome.status == "followup" and outcome.report_id == first.id


def test_followup_before_submission_waits_for_the_tracking_id(
    gateway: GatewayHarness, phone: PhoneAdapter
) -> None:
    first = accept(gateway, phone, message("w-1", "Air PDAM keruh."))
    follow = accept(gateway, phone, message("w-2", "Masih keruh.", in_reply_to=first.report_id))
    assert follow.status == "followup"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        gateway.drain()  # the follow-up is due again once the report has its tracking id
        (central,) = gateway.central_reports()
        if central["followups"]:
            break
        time.sleep(0.05)
    assert [f["body"] for f in central["followups"]] == ["Masih keruh."]
    (item,) = [i for i in gateway.rows(ForwardItem) if i.action == "followup"]
    assert item.state == "done" and item.attempts == 1  # waiting spent none; the call did


def test_status_query_answers_without_a_report(
    gateway: GatewayHarness, phone: PhoneAdapter
) -> None:
    first = submitted(gateway, phone, "s-1", "Jalan rusak di Desa Maju.")
    assert first.tracking_id is not None
    set_status(gateway, first.tracking_id, "in_progress")
    import requests

    requests.post(
        f"{gateway.sandbox.url}/sandbox/reports/{first.tracking_id}/responses",
        json={"text": "Tim sudah dijadwalkan Kamis."},
        timeout=5,
    )
    gateway.runtime.status_sync().run_once()
    send_replies(gateway)  # the acknowledgement, the status change, the agency's answer
    assert {r.event.split(":")[0] for r in phone.sent} == {"ack", "status", "response"}
    phone.sent.clear()
    for ext, number in (("s-2", "+6281200000001"), ("s-3", "+6281200000009")):
        outcome = accept(
            gateway, phone, message(ext, "STATUS", number, status_query=first.tracking_id.lower())
        )
        assert outcome.status == "query"
    missing = accept(
        gateway, phone, message("s-4", "CEK", "+6281200000009", status_query="LPR0000000")
    )
    assert missing.status == "query"
    assert len(gateway.rows(Report)) == 1
    send_replies(gateway)
    answers: dict[str, list[str]] = {}
    for reply in phone.sent:
        assert reply.event.startswith("query:")
        answers.setdefault(reply.reply_to["phone"], []).append(reply.text)
    (own,) = answers["+6281200000001"]
    # The reporter hears the agency's answer; another asker only the status.
    assert first.tracking_id in own and "sedang ditindaklanjuti" in own
    assert "Tim sudah dijadwalkan Kamis." in own
    found, unknown = sorted(answers["+6281200000009"], key=lambda t: "tidak ditemukan" in t)
    assert "sedang ditindaklanjuti" in found and "Kamis" not in found
    assert "LPR0000000" in unknown and "tidak ditemukan" in unknown


def test_replies_over_the_recipient_limit_are_held(
    gateway: GatewayHarness, phone: PhoneAdapter
) -> None:
    sender = gateway.runtime.reply_sender()
    sender.limits = sender.limits.model_copy(update={"max_per_recipient_hour": 2})
    for i in range(4):
        accept(gateway, phone, message(f"r-{i}", f"Aduan nomor {i} tentang jalan."))
    gateway.drain()
    sender.run_once()
    states = sorted(item.state for item in gateway.rows(ReplyItem))
    assert states == ["limited", "limited", "sent", "sent"]
    assert len(phone.sent) == 2


def test_an_unreachable_reply_gateway_is_logged_once_and_degrades_readyz(
    gateway: GatewayHarness, phone: PhoneAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 8.12: a reply gateway that stays down logs its first failure and recovery only."""
    from vocabulary.errors import SendError

    def down(reply: OutgoingReply) -> str | None:
        raise SendError("sendsms unreachable: ConnectionRefusedError", retryable=True)

    for i in range(3):
        accept(gateway, phone, message(f"d-{i}", f"Aduan nomor {i} soal lampu."))
    gateway.drain()
    sender = gateway.runtime.reply_sender()
    working = phone.send_reply
    phone.send_reply = down  # type: ignore[method-assign]
    caplog.set_level("DEBUG")
    try:
        for _ in range(3):
            with gateway.runtime.sessions.begin() as session:  # make the retries due now
                for item in session.query(ReplyItem):
                    item.next_attempt_at = item.created_at
            sender.run_once()
        warnings = [r for r in caplog.records if r.levelname == "WARNING"]
        assert len(warnings) == 1 and "source unavailable" in warnings[0].getMessage()
        ready = gateway.client.get("/readyz").get_json()
        assert ready["status"] == "degraded" and ready["channels"]["hp"].startswith("failing")
        phone.send_reply = working  # type: ignore[method-assign]
        with gateway.runtime.sessions.begin() as session:
            for item in session.query(ReplyItem):
                item.next_attempt_at = item.created_at
        sender.run_once()
    finally:
        sender.close()
    assert gateway.client.get("/readyz").get_json()["status"] == "ok"
    assert any("reachable again" in r.getMessage() for r in caplog.records)


def test_replies_keep_their_order_per_recipient(
    gateway: GatewayHarness, phone: PhoneAdapter
) -> None:
    import requests

    numbers = [f"+62812000001{n:02d}" for n in range(6)]
    reports = [
        submitted(gateway, phone, f"o-{n}", f"Aduan nomor {n} soal drainase.", number)
        for n, number in enumerate(numbers)
    ]
    for report in reports:
        set_status(gateway, report.tracking_id, "verified")
        requests.post(
            f"{gateway.sandbox.url}/sandbox/reports/{report.tracking_id}/responses",
            json={"text": "Sedang kami tinjau."},
            timeout=5,
        )
    gateway.runtime.status_sync().run_once()
    sender = gateway.runtime.reply_sender()
    try:
        assert sender.run_once() == 3 * len(numbers)
    finally:
        sender.close()
    for number in numbers:
        events = [r.event.split(":")[0] for r in phone.sent if r.reply_to["phone"] == number]
        assert events == ["ack", "status", "response"], number
    assert {i.state for i in gateway.rows(ReplyItem)} == {"sent"}


def test_concurrent_requests_share_commits_and_stay_exact(
    gateway: GatewayHarness, phone: PhoneAdapter
) -> None:
    def post(i: int) -> Any:
        # Every id arrives twice at once; every tenth message is empty (rejected alone).
        body = "" if i % 10 == 0 else f"Aduan {i // 2} tentang drainase."
        try:
            return accept(gateway, phone, message(f"c-{i // 2}", body))
        except PayloadInvalid:
            return None

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(post, range(200)))
    by_ext: dict[str, set[str]] = {}
    for outcome in outcomes:
        if outcome is not None:
            by_ext.setdefault(outcome.external_id, set()).add(outcome.report_id)
    assert all(len(ids) == 1 for ids in by_ext.values())
    reports = gateway.rows(Report)
    assert len(reports) == len(by_ext) == len({r.external_id for r in reports})
    assert len(gateway.rows(ForwardItem)) == len(reports)


def test_two_processes_racing_on_one_message_make_one_report(
    db_url: str,
    tmp_path: Any,
) -> None:
    """Scale-out: two web processes (two runtimes) take the same messages at the same time."""
    from gateway.runtime import build_runtime
    from tests.helpers import config_text, free_port, load_test_config

    text = config_text(db_url, f"http://127.0.0.1:{free_port()}")
    first = build_runtime(load_test_config(text), base_dir=tmp_path)
    second = build_runtime(load_test_config(text), base_dir=tmp_path, apply_migrations=False)
    try:

        def post(args: tuple[Any, int]) -> str:
            runtime, i = args
            msg = message(f"race-{i // 2}", f"Aduan nomor {i // 2} tentang sampah.")
            (outcome,) = runtime.intake.accept(runtime.adapters["web"], [msg])
            return str(outcome.report_id)

        work = [(first if i % 2 else second, i) for i in range(120)]
        with concurrent.futures.ThreadPoolExecutor(12) as pool:
            ids = list(pool.map(post, work))
        assert all(ids[i] == ids[i + 1] for i in range(0, 120, 2))  # both got the same report
        with first.sessions() as session:
            from sqlalchemy import func, select

            reports = session.scalar(select(func.count()).select_from(Report))
            outbox = session.scalar(select(func.count()).select_from(ForwardItem))
        assert reports == outbox == 60
    finally:
        first.close()
        second.close()


def test_followups_within_one_batch_find_their_report(
    gateway: GatewayHarness, phone: PhoneAdapter
) -> None:
    """A poller's batch (an X backlog) holds a post and the citizen's replies to it."""
    older = submitted(gateway, phone, "b-0", "Drainase tersumbat di Jl. Kenanga.")
    stranger = "+6281200000002"
    batch = [
        message("b-1", "Jalan berlubang di depan pasar."),
        message("b-2", "Lubangnya makin lebar.", thread_refs=["b-1"]),
        message("b-3", "Sudah ada korban jatuh.", thread_refs=["b-2"]),  # a reply to a reply
        message("b-4", "Saya juga lewat sana.", stranger, thread_refs=["b-1"]),
        message("b-5", "Masih tersumbat.", in_reply_to=older.tracking_id),
        message("b-6", "Air mulai naik.", thread_refs=["b-5"]),  # continues a stored report
        message("b-7", "Tidak ada yang terkait.", thread_refs=["b-99"]),
    ]
    outcomes = gateway.runtime.intake.accept(phone, batch)
    made = outcomes[0].report_id
    assert [(o.status, o.report_id) for o in outcomes[1:3]] == [("followup", made)] * 2
    assert outcomes[3].status == "queued" and outcomes[3].report_id not in (made, older.id)
    assert [(o.status, o.report_id) for o in outcomes[4:6]] == [("followup", older.id)] * 2
    assert outcomes[6].status == "queued"
    followups = sorted(
        (i.report_id, i.payload["body"] if i.payload else None)
        for i in gateway.rows(ForwardItem)
        if i.action == "followup"
    )
    assert followups == sorted(
        [
            (made, "Lubangnya makin lebar."),
            (made, "Sudah ada korban jatuh."),
            (older.id, "Masih tersumbat."),
            (older.id, "Air mulai naik."),
        ]
    )
    assert len(gateway.rows(Report)) == 4  # older, b-1, the stranger's b-4, b-7


def test_a_followup_carries_its_time_and_files_and_can_be_continued(
    gateway: GatewayHarness, phone: PhoneAdapter
) -> None:
    import dataclasses
    import hashlib

    from vocabulary.drafts import AttachmentData

    first = accept(gateway, phone, message("c-1", "Pipa PDAM bocor di Jl. Melati."))
    photo = b"\x89PNG bocor"
    follow = dataclasses.replace(
        message("c-2", "Ini fotonya.", in_reply_to=first.report_id, thread_refs=["unknown"]),
        received_at=dt.datetime(2026, 11, 30, 9, 15, tzinfo=dt.timezone(dt.timedelta(hours=7))),
    )
    follow.draft.attachments.append(AttachmentData("bocor.png", "image/png", photo))
    outcome = accept(gateway, phone, follow)
    assert (outcome.status, outcome.report_id) == ("followup", first.report_id)
    (inbound_id,) = [m.id for m in gateway.rows(InboundMessage) if m.external_id == "c-2"]
    (item,) = [i for i in gateway.rows(ForwardItem) if i.action == "followup"]
    assert item.payload is not None and item.payload["id"] == inbound_id
    assert item.payload["received_at"] == "2026-11-30T02:15:00Z"
    assert item.payload["body"] == "Ini fotonya."
    (attachment,) = item.payload["attachments"]
    assert attachment["filename"] == "bocor.png"
    assert attachment["sha256"] == hashlib.sha256(photo).hexdigest()
    (event,) = [e for e in gateway.rows(TimelineEvent) if e.event == "followup"]
    assert event.detail == {"inbound_id": inbound_id, "attachments": 1}
    # A later message answering the follow-up (not the first message) continues the report.
    later = accept(gateway, phone, message("c-3", "Sudah dua hari.", thread_refs=["c-2"]))
    assert (later.status, later.report_id) == ("followup", first.report_id)


def test_a_released_message_keeps_its_files_and_says_why_it_was_held(
    gateway: GatewayHarness, phone: PhoneAdapter
) -> None:
    import hashlib

    from vocabulary.drafts import AttachmentData

    held = message("h-1", "Banjir setinggi lutut, foto terlampir.", hold=HoldReason.MAILING_LIST)
    held.draft.attachments.append(AttachmentData("banjir.jpg", "image/jpeg", b"\xff\xd8 banjir"))
    assert accept(gateway, phone, held).status == "quarantined"
    (row,) = gateway.rows(InboundMessage)
    with gateway.runtime.sessions.begin() as session:
        report_id = gateway.runtime.intake.release(session, row.id, phone)
    (report,) = gateway.rows(Report)
    assert report.id == report_id and report.inbound_id == row.id
    (attachment,) = report.payload["attachments"]
    assert attachment["sha256"] == hashlib.sha256(b"\xff\xd8 banjir").hexdigest()
    released = [e.detail for e in gateway.rows(TimelineEvent) if e.event == "released"]
    assert released == [{"reason": "mailing_list"}]


def test_a_reply_tells_the_channel_what_it_needs(
    gateway: GatewayHarness, phone: PhoneAdapter
) -> None:
    for n in (1, 2):
        accept(
            gateway, phone, message(f"x-{n}", f"Lampu jalan mati di gang {n}.", f"+628120000009{n}")
        )
    gateway.drain()
    with gateway.runtime.sessions.begin() as session:
        prompt = gateway.runtime.replies.prompt(
            session, "hp", {"phone": "+6281200000093"}, "chat:kind", "Pilih:", [["1", "Aduan"]]
        )
        prompt_id = prompt.id
    sender = gateway.runtime.reply_sender()
    sender.settings = sender.settings.model_copy(update={"batch_size": 2})
    try:
        assert sender.run_once() == 2  # a batch is at most batch_size replies
        assert sender.run_once() == 1
    finally:
        sender.close()
    by_event = {(r.event, r.reply_to["phone"]): r for r in phone.sent}
    reports = {r.external_id: r for r in gateway.rows(Report)}
    ack = by_event[("ack", "+6281200000091")]
    assert (ack.report_id, ack.tracking_id) == (reports["x-1"].id, reports["x-1"].tracking_id)
    assert (ack.external_id, ack.choices, ack.confidential) == ("x-1", (), False)
    chat = by_event[("chat:kind", "+6281200000093")]
    assert (chat.reply_id, chat.report_id, chat.tracking_id) == (prompt_id, "", None)
    assert (chat.external_id, chat.choices, chat.text) == ("", (("1", "Aduan"),), "Pilih:")


class _DriverError(Exception):
    """What a database driver raises, with PostgreSQL's SQLSTATE when it has one."""

    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "race"),
    [
        (IntegrityError("INSERT", {}, _DriverError("duplicate key", "23505")), True),
        (OperationalError("UPDATE", {}, _DriverError("deadlock detected", "40P01")), True),
        (OperationalError("UPDATE", {}, _DriverError("could not serialize", "40001")), True),
        (OperationalError("INSERT", {}, _DriverError("database is locked")), True),
        (OperationalError("SELECT", {}, _DriverError("disk I/O error", "58030")), False),
        (DataError("INSERT", {}, _DriverError("value too long", "22001")), False),
        (ValueError("naive datetime"), False),
    ],
    ids=["unique", "deadlock", "serialization", "sqlite-locked", "io", "data", "other"],
)
def test_only_a_collision_with_another_writer_is_retried(error: Exception, race: bool) -> None:
    assert lost_a_race(error) is race


def test_content_the_database_refuses_is_the_callers_fault_and_named_without_data() -> None:
    too_long = DataError("INSERT", {"body": "rahasia"}, _DriverError("value too long", "22001"))
    refused = refused_content(too_long)
    assert isinstance(refused, PayloadInvalid)
    assert str(refused) == "pesan tidak dapat disimpan (_DriverError)"
    for orig in (ValueError("x"), OverflowError("x"), UnicodeError("x"), TypeError("x")):
        bad = refused_content(StatementError("bind", "INSERT", {}, orig))
        assert str(bad) == f"pesan tidak dapat disimpan ({type(orig).__name__})"
    assert refused_content(StatementError("bind", "INSERT", {}, KeyError("x"))) is None
    assert refused_content(IntegrityError("INSERT", {}, _DriverError("dup", "23505"))) is None
    assert _describe(too_long) == "DataError/_DriverError [22001]"
    assert _describe(OperationalError("X", {}, _DriverError("locked"))) == (
        "OperationalError/_DriverError"
    )
    assert _describe(ValueError("Budi 0812")) == "ValueError/NoneType"


class RereadingPhone(PhoneAdapter):
    """A phone channel whose kept input reads again as `reread_with` (or raises it)."""

    def __init__(self, options: ChannelOptions, *, public_url: str = "") -> None:
        super().__init__(options, public_url=public_url)
        self.reread_with: list[RawMessage] | Exception = []

    def reread(self, raw: Mapping[str, Any], received_at: dt.datetime) -> list[RawMessage]:
        if isinstance(self.reread_with, Exception):
            raise self.reread_with
        return list(self.reread_with)


def test_reprocess_rejected_input(intake_gateway: GatewayHarness) -> None:
    adapter = RereadingPhone(PhoneOptions(name="hp", type="test_phone"))
    intake_gateway.runtime.adapters["hp"] = adapter
    intake = intake_gateway.runtime.intake

    def inbound(inbound_id: str) -> InboundMessage:
        with intake_gateway.runtime.sessions() as session:
            row = session.get(InboundMessage, inbound_id)
            assert row is not None
            return row

    first = intake.reject("hp", {"text": "?"}, PayloadInvalid("rusak"))
    # Still unreadable (an unexpected error): said in Indonesian, kept on the row.
    adapter.reread_with = ValueError("still broken")
    with pytest.raises(PayloadInvalid, match=r"^masukan tidak dapat dibaca \(ValueError\)$"):
        intake.reprocess(first, adapter)
    row = inbound(first)
    assert (row.state, row.error) == ("rejected", "masukan tidak dapat dibaca (ValueError)")
    # Read again, it holds no message at all: done, with no report.
    adapter.reread_with = []
    assert intake.reprocess(first, adapter) == []
    row = inbound(first)
    assert (row.state, row.report_id) == ("reprocessed", None)
    # Read again, it is a report: linked to the row, its timeline says where it came from.
    second = intake.reject("hp", {"text": "?"}, PayloadInvalid("rusak"))
    adapter.reread_with = [message("r-1", "Jalan berlubang di Desa Maju")]
    (outcome,) = intake.reprocess(second, adapter)
    assert (outcome.created, outcome.status) == (True, "queued")
    assert inbound(second).report_id == outcome.report_id
    events = [
        (e.report_id, e.detail)
        for e in intake_gateway.rows(TimelineEvent)
        if e.event == "reprocessed"
    ]
    assert events == [(outcome.report_id, {"inbound_id": second})]


@pytest.mark.parametrize(
    ("report_state", "central_status", "inbound_state", "answer"),
    [
        (None, None, "quarantined", "quarantined"),
        ("submitted", None, "stored", "submitted"),  # at the central, no status from it yet
        ("submitted", "verified", "stored", "verified"),
        ("queued", None, "stored", "queued"),
    ],
)
def test_what_a_repeat_is_answered_with(
    report_state: str | None, central_status: str | None, inbound_state: str, answer: str
) -> None:
    assert public_status(report_state, central_status, inbound_state) == answer


def test_without_file_links_an_attachment_is_kept_without_a_url(
    intake_gateway: GatewayHarness,
) -> None:
    import hashlib

    from vocabulary.drafts import AttachmentData

    phone = PhoneAdapter(PhoneOptions(name="hp", type="test_phone"))
    intake_gateway.runtime.adapters["hp"] = phone
    intake_gateway.runtime.intake.planner.links = None  # an intake built without file links
    msg = message("l-1", "Banjir setinggi lutut, foto terlampir.")
    msg.draft.attachments.append(AttachmentData("banjir.jpg", "image/jpeg", b"\xff\xd8 banjir"))
    assert accept(intake_gateway, phone, msg).status == "queued"
    (report,) = intake_gateway.rows(Report)
    (attachment,) = report.payload["attachments"]
    assert attachment["sha256"] == hashlib.sha256(b"\xff\xd8 banjir").hexdigest()
    assert attachment["url"] is None


def test_a_followup_is_stamped_in_utc_whatever_the_machine_zone(
    gateway: GatewayHarness, phone: PhoneAdapter, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = submitted(gateway, phone, "z-1", "Lampu jalan mati di Jl. Merdeka.")
    monkeypatch.setenv("TZ", "Asia/Jakarta")
    time.tzset()
    try:
        later = message("z-2", "Masih mati.", in_reply_to=first.tracking_id)
        assert accept(gateway, phone, later).status == "followup"
    finally:
        monkeypatch.undo()
        time.tzset()
    (item,) = [i for i in gateway.rows(ForwardItem) if i.action == "followup"]
    assert item.payload is not None
    stamp = item.payload["received_at"]
    assert stamp.endswith("Z")
    assert dt.datetime.fromisoformat(stamp) == later.received_at
