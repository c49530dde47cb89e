"""The guided conversation on `whatsapp_cloud` through real webhooks: reply buttons (which
WhatsApp sends with a `context` naming our prompt), a photo fetched through the local Graph
API, and a conversation left alone that still becomes a report with its photos."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from normalizer.conversation import ConversationStep
from store.models import Conversation, InboundMessage, ReplyItem, Report, utcnow
from tests.adapters.harness import InboundCase, make_gateway, send
from tests.adapters.meta import wa
from tests.adapters.meta.fake_graph import PHOTO, FakeGraph
from tests.conftest import GatewayHarness

GRAPH = FakeGraph()
DESCRIPTION = "Jalan rusak parah di depan SDN 3 Desa Contoh, lubang sedalam 30 cm."


@pytest.fixture(scope="module", autouse=True)
def _stop_graph() -> Iterator[None]:
    yield
    GRAPH.stop()


CHAT = wa.channel(GRAPH, "conversation: true, template_name: sp4n_status_update")


@pytest.fixture
def chat_gateway(db_url: str, tmp_path: Path) -> Iterator[GatewayHarness]:
    yield from make_gateway(db_url, tmp_path, CHAT)


def post(gateway: GatewayHarness, *messages: dict[str, Any]) -> None:
    """One signed notification holding the messages; it must be stored (200)."""
    case = InboundCase("chat", wa.notification(list(messages)), content_type="application/json")
    response = send(gateway, CHAT.sign(CHAT.request(case)))
    assert response.status_code == 200, response.get_data(as_text=True)


def prompts(gateway: GatewayHarness) -> list[ReplyItem]:
    with gateway.runtime.sessions() as session:
        query = select(ReplyItem).where(ReplyItem.event.like("chat:%")).order_by(ReplyItem.id)
        return list(session.scalars(query))


def walk_to_photos(gateway: GatewayHarness) -> None:
    """Start, choose the kind by button, describe, skip the location, send one photo."""
    post(gateway, wa.message("C1", text="halo"))
    post(gateway, wa.message("C2", button=("kind:pengaduan", "Pengaduan"), context="wamid.P1"))
    post(gateway, wa.message("C3", text=DESCRIPTION))
    post(gateway, wa.message("C4", text="lewati"))
    post(gateway, wa.message("C5", image=""))
    with gateway.runtime.sessions() as session:
        (row,) = session.scalars(select(Conversation))
        assert row.step is ConversationStep.PHOTOS  # read back as the machine's step
        assert len(row.data["attachments"]) == 1
    assert gateway.rows(Report) == []


def test_the_guided_conversation_runs_on_reply_buttons(chat_gateway: GatewayHarness) -> None:
    walk_to_photos(chat_gateway)
    post(chat_gateway, wa.message("C6", button=("done", "Selesai"), context="wamid.P5"))
    post(chat_gateway, wa.message("C7", button=("privacy:anonim", "Anonim"), context="wamid.P6"))
    post(chat_gateway, wa.message("C8", button=("confirm:send", "Kirim"), context="wamid.P7"))
    (report,) = chat_gateway.rows(Report)
    assert report.payload["body"] == DESCRIPTION
    assert report.payload["kind"] == "pengaduan"
    assert report.payload["privacy"]["anonymous"] is True
    (photo,) = report.payload["attachments"]
    assert photo["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    states = {m.external_id: m.state for m in chat_gateway.rows(InboundMessage)}
    assert set(states.values()) == {"conversation"}, states
    assert len(prompts(chat_gateway)) == 8  # one prompt per turn, no report per button
    assert chat_gateway.rows(Conversation) == []


def test_an_expired_conversation_becomes_a_report_with_its_photos(
    chat_gateway: GatewayHarness,
) -> None:
    walk_to_photos(chat_gateway)
    runtime = chat_gateway.runtime
    with runtime.sessions.begin() as session:
        row = session.scalar(select(Conversation))
        assert row is not None
        row.expires_at = utcnow() - dt.timedelta(minutes=1)
    flow = runtime.intake.chat_flow
    assert flow is not None
    assert flow.expire(runtime.sessions, runtime.adapters, runtime.intake.accept) == 1
    (report,) = chat_gateway.rows(Report)
    assert report.payload["body"] == DESCRIPTION
    (photo,) = report.payload["attachments"]
    assert photo["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    assert photo["size"] == len(PHOTO) and photo["content_type"] == "image/jpeg"
    assert photo["url"], "the central gets a signed link to the photo"
    assert chat_gateway.rows(Conversation) == []
    # a second run (a crash before the row was deleted) makes nothing twice
    assert flow.expire(runtime.sessions, runtime.adapters, runtime.intake.accept) == 0
    assert len(chat_gateway.rows(Report)) == 1


def test_a_photo_gone_from_the_store_is_a_note_not_a_lost_report(
    chat_gateway: GatewayHarness,
) -> None:
    walk_to_photos(chat_gateway)
    runtime = chat_gateway.runtime
    with runtime.sessions.begin() as session:
        row = session.scalar(select(Conversation))
        assert row is not None
        row.expires_at = utcnow() - dt.timedelta(minutes=1)
        sha256 = row.data["attachments"][0]["sha256"]
    runtime.intake.attachments.path_of(sha256).unlink()
    flow = runtime.intake.chat_flow
    assert flow is not None
    flow.expire(runtime.sessions, runtime.adapters, runtime.intake.accept)
    (report,) = chat_gateway.rows(Report)
    assert report.payload["attachments"] == []
    from store.models import TimelineEvent

    notes = [e.detail for e in chat_gateway.rows(TimelineEvent) if e.event == "normalizer_note"]
    assert any("foto 0 dari percakapan tidak dilampirkan" in str(n) for n in notes)


def test_a_reply_in_the_same_notification_continues_its_report(
    chat_gateway: GatewayHarness,
) -> None:
    post(
        chat_gateway,
        wa.message("R1", text="Lampu jalan di gang 4 mati sejak kemarin malam."),
        wa.message("R2", text="Tambahan: tiangnya juga sudah miring.", context="wamid.R1"),
    )
    (report,) = chat_gateway.rows(Report)
    states = {m.external_id: (m.state, m.report_id) for m in chat_gateway.rows(InboundMessage)}
    assert states == {"wamid.R1": ("accepted", report.id), "wamid.R2": ("followup", report.id)}


def test_turns_batched_in_one_notification_move_the_conversation(
    chat_gateway: GatewayHarness,
) -> None:
    """The batch's conversations are looked up once; one started in the batch still counts."""
    other = "6281200000077"
    post(
        chat_gateway,
        wa.message("B1", text="halo"),
        wa.message("B2", text="Lampu jalan di gang 4 mati sejak kemarin.", wa_id=other),
        wa.message("B3", button=("kind:aspirasi", "Aspirasi"), context="wamid.P1"),
        wa.message("B4", text=DESCRIPTION),
    )
    with chat_gateway.runtime.sessions() as session:
        (row,) = session.scalars(select(Conversation))
        assert row.step is ConversationStep.LOCATION and row.data["kind"] == "aspirasi"
    (report,) = chat_gateway.rows(Report)  # the other citizen's plain message
    assert report.reply_to["wa_id"] == other
    post(chat_gateway, wa.message("B5", text="lewati"))  # the next notification goes on
    with chat_gateway.runtime.sessions() as session:
        assert session.scalar(select(Conversation.step)) is ConversationStep.PHOTOS


def test_a_reply_to_our_acknowledgement_is_a_follow_up(chat_gateway: GatewayHarness) -> None:
    post(chat_gateway, wa.message("A1", text="Lampu jalan di gang 4 mati sejak kemarin malam."))
    (report,) = chat_gateway.rows(Report)
    runtime = chat_gateway.runtime
    with runtime.sessions.begin() as session:  # the central numbered it: acknowledged
        row = session.get(Report, report.id)
        assert row is not None
        row.tracking_id, row.state = "LPR1234567", "submitted"
        runtime.replies.acknowledge(session, row)
    sender = runtime.reply_sender()
    try:
        sender.run_once()
    finally:
        sender.close()
    (ack,) = [r for r in chat_gateway.rows(ReplyItem) if r.event == "ack"]
    assert ack.state == "sent" and (ack.provider_id or "").startswith("wamid.")
    # the citizen answers our acknowledgement: WhatsApp names it in `context.id`
    post(chat_gateway, wa.message("A2", text="Tiangnya juga miring.", context=ack.provider_id))
    assert [r.id for r in chat_gateway.rows(Report)] == [report.id]
    states = {m.external_id: (m.state, m.report_id) for m in chat_gateway.rows(InboundMessage)}
    assert states == {"wamid.A1": ("accepted", report.id), "wamid.A2": ("followup", report.id)}
    from store.models import TimelineEvent

    followups = [e for e in chat_gateway.rows(TimelineEvent) if e.event == "followup"]
    assert [e.report_id for e in followups] == [report.id]
