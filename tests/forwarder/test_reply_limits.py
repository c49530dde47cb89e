"""The reply sender's per-recipient limits over real time windows, and what a reply is told.

Sent replies already in the database count toward the hour and the day, per channel and
recipient; only sent ones count; a reply with no recipient (a prompt) is never held. A
channel that is gone keeps its replies for later; a channel with a reply window learns when
the citizen last wrote. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from forwarder.replies import recipient_hash
from store.models import ReplyItem, utcnow
from store.states import ReplyState
from tests.conftest import GatewayHarness
from tests.gateway.test_intake_paths import PhoneAdapter, PhoneOptions, message

BUSY, QUIET = "+6281200000011", "+6281200000022"


class WindowPhone(PhoneAdapter):
    """A phone channel whose provider keeps a reply window (as WhatsApp does)."""

    reply_window: ClassVar[bool] = True


@pytest.fixture
def phone(gateway: GatewayHarness) -> Iterator[PhoneAdapter]:
    adapter = PhoneAdapter(PhoneOptions(name="hp", type="test_phone"))
    gateway.runtime.adapters["hp"] = adapter
    gateway.runtime.replies.channel_kinds["hp"] = adapter.kind
    yield adapter


def reply(number: str | None, *, ago: dt.timedelta | None = None, **fields: Any) -> ReplyItem:
    """A reply row (its id given by `add`): sent `ago` when given, else pending and due."""
    now = utcnow()
    sent = ago is not None
    return ReplyItem(
        report_id=None,
        channel=fields.pop("channel", "hp"),
        event=fields.pop("event", "status"),
        text="Status laporan Anda diperbarui.",
        state=ReplyState.SENT if sent else fields.pop("state", ReplyState.PENDING),
        sent_at=now - ago if ago is not None else None,
        next_attempt_at=fields.pop("due", now - dt.timedelta(seconds=1)),
        reply_to={"phone": number} if number else {},
        recipient=recipient_hash(number),
    )


def add(gateway: GatewayHarness, *rows: ReplyItem) -> list[str]:
    ids = []
    with gateway.runtime.sessions.begin() as session:
        for n, row in enumerate(rows):
            row.id = f"01TESTREPLY{n:015d}"
            session.add(row)
            ids.append(row.id)
    return ids


def test_limits_count_sent_replies_per_window_channel_and_recipient(
    gateway: GatewayHarness, phone: PhoneAdapter
) -> None:
    hour, day = dt.timedelta(hours=1), dt.timedelta(days=1)
    history = [
        reply(BUSY, ago=hour / 2),  # in the last hour (and day)
        reply(BUSY, ago=hour * 1.5),  # in the last day only
        reply(BUSY, ago=day + hour / 2),  # too old to count
        reply(BUSY, channel="email"),  # another channel's pending reply
        reply(BUSY, ago=hour / 4, channel="email"),  # another channel
        reply(BUSY, state=ReplyState.DEAD),  # not sent
        reply(QUIET, ago=hour * 2),
        reply(QUIET, ago=hour * 3),
        reply(QUIET, ago=hour * 23),
    ]
    start = utcnow() - dt.timedelta(minutes=5)
    waiting = [
        reply(None, event="chat:kind", due=start),  # a prompt: never held, even first
        reply(BUSY, due=start + dt.timedelta(seconds=1)),
        reply(BUSY, due=start + dt.timedelta(seconds=2)),
        reply(BUSY, due=start + dt.timedelta(seconds=3)),
        reply(QUIET, due=start + dt.timedelta(seconds=4)),
    ]
    waiting[0].reply_to = {"phone": "+6281200000033"}
    ids = add(gateway, *history, *waiting)[len(history) :]
    sender = gateway.runtime.reply_sender()
    sender.limits = sender.limits.model_copy(
        update={"max_per_recipient_hour": 2, "max_per_recipient_day": 3}
    )
    try:
        sender.run_once()
    finally:
        sender.close()
    rows = {r.id: r for r in gateway.rows(ReplyItem)}
    assert [rows[i].state for i in ids] == ["sent", "sent", "limited", "limited", "limited"]
    assert rows[ids[2]].last_error == (
        "recipient limit reached: 2 in the last hour, 3 in the last day"
    )
    assert rows[ids[4]].last_error == (
        "recipient limit reached: 0 in the last hour, 3 in the last day"
    )
    assert rows[ids[3]].lease_owner is None and rows[ids[3]].attempts == 0
    assert sorted(r.reply_to["phone"] for r in phone.sent) == [BUSY, "+6281200000033"]
    metrics = gateway.client.get("/metrics").get_data(as_text=True)
    assert 'sp4n_replies_sent_total{channel="hp",result="limited"} 3.0' in metrics
    assert 'sp4n_replies_sent_total{channel="hp",result="sent"} 2.0' in metrics


def test_a_reply_for_a_channel_that_is_gone_waits(gateway: GatewayHarness) -> None:
    (reply_id,) = add(gateway, reply(BUSY, channel="sms-lama"))
    sender = gateway.runtime.reply_sender()
    try:
        assert sender.run_once() == 1
    finally:
        sender.close()
    (row,) = [r for r in gateway.rows(ReplyItem) if r.id == reply_id]
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.last_error == "kanal sms-lama tidak diatur atau tidak aktif"


@pytest.mark.parametrize("window", [True, False], ids=["reply-window", "no-window"])
def test_a_channel_with_a_reply_window_learns_when_the_citizen_last_wrote(
    gateway: GatewayHarness, window: bool
) -> None:
    adapter = (WindowPhone if window else PhoneAdapter)(PhoneOptions(name="wa", type="test_phone"))
    gateway.runtime.adapters["wa"] = adapter
    gateway.runtime.replies.channel_kinds["wa"] = adapter.kind
    first = message("w-1", "Sampah belum diangkut.", BUSY)
    later = message("w-2", "STATUS", BUSY, status_query="LPR0000000")
    gateway.runtime.intake.accept(adapter, [first])
    gateway.runtime.intake.accept(adapter, [later])
    other = message("w-3", "Jalan gelap.", QUIET)
    gateway.runtime.intake.accept(adapter, [other])
    gateway.drain()
    sender = gateway.runtime.reply_sender()
    try:
        sender.run_once()
    finally:
        sender.close()
    contact = {(r.event.split(":")[0], r.reply_to["phone"]): r.last_contact for r in adapter.sent}
    assert set(contact) == {("ack", BUSY), ("query", BUSY), ("ack", QUIET)}
    if window:
        assert contact[("ack", BUSY)] == later.received_at  # the later message reopened it
        assert contact[("query", BUSY)] == later.received_at
        assert contact[("ack", QUIET)] == other.received_at
    else:
        assert set(contact.values()) == {None}
