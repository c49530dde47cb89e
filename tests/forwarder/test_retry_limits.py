"""Retry limits of both outboxes: a failure worth retrying is retried, but not for ever.

Issue 9.6: deleting the forward retry limit (`forwarder.max_attempts`) left the suite green.
Here a central that stays down (HTTP 503) and a channel whose gateway stays down are tried
exactly `max_attempts` times, then the row is a dead letter and nothing calls them again.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.base import OutgoingReply
from forwarder.reply_sender import ReplySender
from forwarder.targets.lapor import Receipt
from forwarder.worker import CallResult, ForwardCall, Forwarder
from store.models import ForwardItem, ReplyItem, Report, TimelineEvent, utcnow
from store.states import ForwardAction
from tests.adapters.sms.fakes import FakeServer, Seen, json_answer
from tests.conftest import GatewayHarness, _harness
from tests.gateway.test_intake_paths import PhoneAdapter, PhoneOptions, message
from vocabulary.central import CentralStatus
from vocabulary.errors import SendError

DOWN = {"error": {"code": "unavailable", "message": "maintenance window"}}

DOWN_REASON = "pusat sedang tidak tersedia (HTTP 503, kode unavailable): maintenance window"


@pytest.fixture
def down_central() -> Iterator[FakeServer]:
    """A central that answers every call 503 (the contract's Error body)."""
    server = FakeServer(lambda seen: json_answer(503, DOWN))
    yield server
    server.stop()


@pytest.fixture
def harness(db_url: str, down_central: FakeServer, tmp_path: Path) -> Iterator[GatewayHarness]:
    """A gateway forwarding to the central that is down."""
    yield from _harness(db_url, down_central, tmp_path)


def forwarder(harness: GatewayHarness, **settings: Any) -> Forwarder:
    """A forward worker on the harness's runtime with some settings changed."""
    runtime = harness.runtime
    return Forwarder(
        runtime.sessions,
        runtime.client,
        runtime.router,
        runtime.replies,
        runtime.config.model.forwarder.model_copy(update=settings),
        metrics=runtime.metrics,
    )


def make_due(harness: GatewayHarness, model: type[ForwardItem] | type[ReplyItem]) -> None:
    """Skip the backoff: every row of the queue is due now."""
    with harness.runtime.sessions.begin() as session:
        for item in session.query(model):
            item.next_attempt_at = utcnow() - dt.timedelta(seconds=1)


def events(harness: GatewayHarness, name: str) -> list[TimelineEvent]:
    return [e for e in harness.rows(TimelineEvent) if e.event == name]


def test_forward_retries_stop_at_max_attempts(
    harness: GatewayHarness, down_central: FakeServer
) -> None:
    harness.post("web", {"body": "Saluran air tersumbat", "external_id": "m-1"})
    worker = forwarder(harness, max_attempts=3)
    try:
        for attempt in (1, 2):
            assert worker.run_once() == 1
            (item,) = harness.rows(ForwardItem)
            assert (item.state, item.attempts) == ("pending", attempt)
            assert item.lease_owner is None  # released for the next try
            assert item.last_error == DOWN_REASON
            assert harness.rows(Report)[0].state == "queued"
            make_due(harness, ForwardItem)
        assert worker.run_once() == 1  # the third call is the last one
        (item,) = harness.rows(ForwardItem)
        (report,) = harness.rows(Report)
        assert item.state == "dead" and report.state == "dead"
        assert item.last_error == DOWN_REASON
        (dead,) = events(harness, "dead_letter")
        assert dead.detail == {
            "action": "submit",
            "error": DOWN_REASON,
        }
        make_due(harness, ForwardItem)
        assert worker.run_once() == 0  # a dead letter waits for `replay`
    finally:
        worker.close()
    calls = [seen for seen in down_central.seen if seen.path == "/api/v1/reports"]
    assert len(calls) == 3
    assert {seen.headers["Idempotency-Key"] for seen in calls} == {report.id}
    metrics = harness.client.get("/metrics").get_data(as_text=True)
    assert 'sp4n_dead_letters{queue="forward"} 1.0' in metrics
    assert 'sp4n_dead_lettered_total{queue="forward"} 1.0' in metrics
    assert 'sp4n_forward_attempts_total{action="submit",result="retry"} 2.0' in metrics
    assert 'sp4n_forward_attempts_total{action="submit",result="dead"} 1.0' in metrics


def test_one_attempt_allowed_means_no_retry(
    harness: GatewayHarness, down_central: FakeServer
) -> None:
    harness.post("web", {"body": "Lampu jalan padam", "external_id": "m-2"})
    worker = forwarder(harness, max_attempts=1)
    try:
        assert worker.run_once() == 1
    finally:
        worker.close()
    (item,) = harness.rows(ForwardItem)
    assert item.state == "dead" and len(down_central.seen) == 1


@pytest.mark.parametrize(
    ("retry_after", "at_least", "at_most"),
    [("120", 119.0, 121.0), (None, 0.0, 0.5)],
    ids=["retry-after-honoured", "backoff-only"],
)
def test_the_next_forward_attempt_waits_for_the_backoff(
    db_url: str, tmp_path: Path, retry_after: str | None, at_least: float, at_most: float
) -> None:
    """Retry-After is a floor under the cap; without it the wait is the backoff (base 0.25s)."""

    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        status, headers, body = json_answer(503, DOWN)
        if retry_after:
            headers["Retry-After"] = retry_after
        return status, headers, body

    central = FakeServer(answer)
    try:
        for harness in _harness(db_url, central, tmp_path):
            harness.post("web", {"body": "Sampah menumpuk", "external_id": "b-1"})
            worker = forwarder(harness, backoff_base=0.25, backoff_max=900.0)
            try:
                before = utcnow()
                worker.run_once()
            finally:
                worker.close()
            (item,) = harness.rows(ForwardItem)
            wait = (item.next_attempt_at - before).total_seconds()
            assert item.state == "pending" and at_least <= wait <= at_most, wait
    finally:
        central.stop()


class DownPhone(PhoneAdapter):
    """A phone channel whose SMS gateway refuses every reply."""

    def __init__(self, *args: Any, retryable: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retryable = retryable
        self.tried: list[OutgoingReply] = []

    def send_reply(self, reply: OutgoingReply) -> str | None:
        self.tried.append(reply)
        raise SendError("sendsms unreachable", retryable=self.retryable, code="unreachable")


@pytest.fixture
def replies_harness(db_url: str, sandbox: Any, tmp_path: Path) -> Iterator[GatewayHarness]:
    """A gateway that forwards to the sandbox and may try a reply three times."""
    yield from _harness(db_url, sandbox, tmp_path, extra="replies: {max_attempts: 3}\n")


def acknowledgement_queued(harness: GatewayHarness, phone: PhoneAdapter) -> ReplyItem:
    """Accept a message on the phone channel and forward it: its acknowledgement waits."""
    harness.runtime.adapters["hp"] = phone
    harness.runtime.replies.channel_kinds["hp"] = phone.kind
    harness.runtime.intake.accept(phone, [message("a-1", "Jalan berlubang di depan pasar.")])
    assert harness.drain() == 1
    (ack,) = harness.rows(ReplyItem)
    assert ack.event == "ack" and ack.state == "pending"
    return ack


def test_reply_retries_stop_at_max_attempts(replies_harness: GatewayHarness) -> None:
    phone = DownPhone(PhoneOptions(name="hp", type="test_phone"))
    ack = acknowledgement_queued(replies_harness, phone)
    sender = replies_harness.runtime.reply_sender()
    assert sender.max_attempts == 3  # from the config's `replies.max_attempts`
    try:
        for attempt in (1, 2):
            before = utcnow()
            assert sender.run_once() == 1
            (item,) = replies_harness.rows(ReplyItem)
            assert (item.state, item.attempts) == ("pending", attempt)
            assert item.last_error == "sendsms unreachable" and item.lease_owner is None
            assert item.next_attempt_at >= before  # after the backoff (up to 0.5s here)
            make_due(replies_harness, ReplyItem)
        assert sender.run_once() == 1
        (item,) = replies_harness.rows(ReplyItem)
        assert item.state == "dead" and item.sent_at is None
        assert item.last_error == "unreachable: sendsms unreachable"
        make_due(replies_harness, ReplyItem)
        assert sender.run_once() == 0
    finally:
        sender.close()
    assert [reply.reply_id for reply in phone.tried] == [ack.id] * 3
    metrics = replies_harness.client.get("/metrics").get_data(as_text=True)
    assert 'sp4n_dead_letters{queue="reply"} 1.0' in metrics
    assert 'sp4n_dead_lettered_total{queue="reply"} 1.0' in metrics
    assert 'sp4n_replies_sent_total{channel="hp",result="retry"} 2.0' in metrics
    assert 'sp4n_replies_sent_total{channel="hp",result="dead"} 1.0' in metrics


def test_a_reply_refused_for_good_is_not_retried(replies_harness: GatewayHarness) -> None:
    phone = DownPhone(PhoneOptions(name="hp", type="test_phone"), retryable=False)
    acknowledgement_queued(replies_harness, phone)
    sender = replies_harness.runtime.reply_sender()
    try:
        assert sender.run_once() == 1
        make_due(replies_harness, ReplyItem)
        assert sender.run_once() == 0
    finally:
        sender.close()
    (item,) = replies_harness.rows(ReplyItem)
    assert item.state == "dead" and item.attempts == 0 and len(phone.tried) == 1


def test_a_success_after_retries_counts_every_attempt(db_url: str, tmp_path: Path) -> None:
    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        if len(central.seen) <= 2:
            return json_answer(503, DOWN)
        receipt = {"tracking_id": "LPR4444444", "status": "received", "received_at": "x"}
        return json_answer(201, receipt)

    central = FakeServer(answer)
    try:
        for harness in _harness(db_url, central, tmp_path):
            harness.post("web", {"body": "Got mampet", "external_id": "s-1"})
            worker = forwarder(harness, max_attempts=5)
            try:
                for _ in range(3):
                    make_due(harness, ForwardItem)
                    worker.run_once()
            finally:
                worker.close()
            (item,) = harness.rows(ForwardItem)
            assert (item.state, item.attempts) == ("done", 3)  # shown to admins
            (done,) = events(harness, "forwarded")
            assert done.detail["attempts"] == 3 and done.detail["tracking_id"] == "LPR4444444"
    finally:
        central.stop()


class RecordingCentral:
    """Stands in for LaporClient: answers at once and keeps every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def submit(self, wire: dict[str, Any]) -> Receipt:
        self.calls.append(("submit", wire["id"]))
        return Receipt("LPR7", CentralStatus.RECEIVED, "", replayed=False)

    def reroute(self, tracking_id: str, agency: str, reason: str, hops: list[str]) -> None:
        self.calls.append(("reroute", tracking_id, agency, reason, hops))


def test_what_each_outbox_action_asks_the_central(harness: GatewayHarness) -> None:
    runtime, central = harness.runtime, RecordingCentral()
    settings = runtime.config.model.forwarder
    worker = Forwarder(runtime.sessions, central, runtime.router, runtime.replies, settings)  # type: ignore[arg-type]

    def call(action: str, wire: dict[str, Any], tracking_id: str | None) -> CallResult:
        return worker._call(ForwardCall(1, action, "r1", None, wire, tracking_id))

    try:
        started = time.monotonic()
        submitted = call(ForwardAction.SUBMIT, {"id": "r1"}, None)
        took = time.monotonic() - started
        returned = {"agency": "a", "reason": "returned", "hops": ["b"]}
        assert call(ForwardAction.REROUTE, {"routing": returned}, "LPR7").error is None
        first = {"agency": "a", "reason": "misrouted"}  # no hops yet
        assert call(ForwardAction.REROUTE, {"routing": first}, "LPR7").error is None
        unknown = call("archive", {}, "LPR7")
    finally:
        worker.close()
    assert submitted.error is None and submitted.receipt is not None
    assert submitted.receipt.tracking_id == "LPR7"
    assert 0 <= submitted.seconds <= took  # the call's own duration, for the latency metric
    assert central.calls == [
        ("submit", "r1"),
        ("reroute", "LPR7", "a", "returned", ["b"]),
        ("reroute", "LPR7", "a", "misrouted", []),
    ]
    assert unknown.error is not None and not unknown.error.retryable
    assert unknown.error.code == "bad_action"


def test_only_the_lease_holder_records_an_answer(harness: GatewayHarness) -> None:
    harness.post("web", {"body": "Jalan rusak parah di Desa Maju", "external_id": "m-9"})
    worker = forwarder(harness)
    answer = CallResult(receipt=Receipt("LPR8", CentralStatus.RECEIVED, "", replayed=False))
    (item,) = harness.rows(ForwardItem)
    try:
        # Our lease ran out and another worker holds the row: its answer, not ours.
        with harness.runtime.sessions.begin() as session:
            row = session.get(ForwardItem, item.id)
            assert row is not None
            row.lease_owner = "someone-else"
        with harness.runtime.sessions.begin() as session:
            worker._record(session, item.id, "submit", answer)
        assert harness.rows(Report)[0].tracking_id is None
        assert events(harness, "forwarded") == []
        # Still ours: recorded, with the agency the report went to.
        with harness.runtime.sessions.begin() as session:
            row = session.get(ForwardItem, item.id)
            assert row is not None
            row.lease_owner = worker.owner
        with harness.runtime.sessions.begin() as session:
            worker._record(session, item.id, "submit", answer)
    finally:
        worker.close()
    (report,) = harness.rows(Report)
    assert (report.tracking_id, report.state) == ("LPR8", "submitted")
    (forwarded,) = events(harness, "forwarded")
    assert forwarded.detail["agency"] == report.agency == "upt-jalan"


def _send_one(harness: GatewayHarness) -> None:
    """One round of the reply sender, which finds exactly one reply to send."""
    sender = harness.runtime.reply_sender()
    try:
        assert sender.run_once() == 1
    finally:
        sender.close()


class CodelessDownPhone(PhoneAdapter):
    """A phone channel whose provider refuses for good without saying why in a code."""

    def send_reply(self, reply: OutgoingReply) -> str | None:
        raise SendError("nomor tidak dikenal", retryable=False)


def test_a_refusal_without_a_code_is_buried_as_error(replies_harness: GatewayHarness) -> None:
    acknowledgement_queued(replies_harness, CodelessDownPhone(PhoneOptions(name="hp")))
    _send_one(replies_harness)
    (item,) = replies_harness.rows(ReplyItem)
    assert (item.state, item.last_error) == ("dead", "error: nomor tidak dikenal")


def test_a_channel_gone_from_the_config_is_retried_then_buried(
    replies_harness: GatewayHarness,
) -> None:
    acknowledgement_queued(replies_harness, PhoneAdapter(PhoneOptions(name="hp")))
    del replies_harness.runtime.adapters["hp"]  # the admin removed the channel meanwhile
    sender = replies_harness.runtime.reply_sender()
    try:
        for _ in range(3):
            assert sender.run_once() == 1
            make_due(replies_harness, ReplyItem)
    finally:
        sender.close()
    (item,) = replies_harness.rows(ReplyItem)
    assert item.state == "dead"
    assert item.last_error == "no_channel: kanal hp tidak diatur atau tidak aktif"


def test_a_sent_reply_counts_its_attempt_and_knows_a_private_report(
    replies_harness: GatewayHarness,
) -> None:
    phone = PhoneAdapter(PhoneOptions(name="hp"))
    acknowledgement_queued(replies_harness, phone)
    _send_one(replies_harness)
    (item,) = replies_harness.rows(ReplyItem)
    assert (item.state, item.attempts) == ("sent", 1)
    (sent,) = phone.sent
    assert sent.confidential is False
    # The same report, confidential or whistleblowing: its replies are told so.
    with replies_harness.runtime.sessions.begin() as session:
        row = session.get(ReplyItem, item.id)
        report = session.get(Report, item.report_id)
        assert row is not None and report is not None
        report.payload = {**report.payload, "privacy": {"confidential": True}}
        session.flush()
        assert ReplySender._job(session, row).reply.confidential is True
        report.payload = {**report.payload, "privacy": {}}
        report.kind = "whistleblowing"
        session.flush()
        assert ReplySender._job(session, row).reply.confidential is True
        report.kind = "pengaduan"
        session.flush()
        assert ReplySender._job(session, row).reply.confidential is False
