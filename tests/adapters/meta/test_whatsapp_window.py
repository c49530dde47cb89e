"""WhatsApp's 24-hour customer-service window, through real webhooks and the reply sender.

The window is the citizen's, not the report's: any later message (a follow-up, a status
question, a turn of the guided conversation) reopens it, so a status update then goes as
free text; only when the citizen has been silent for 24 hours does the approved template go.
A `failed` status with error 131047 ("re-engagement message") on a free-text reply sends it
again as the template, once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapters.base import OutgoingReply
from adapters.meta.graph import window_open
from adapters.meta.whatsapp import WhatsAppCloudAdapter, WhatsAppOptions
from store.models import ReplyItem, Report, TimelineEvent
from tests.adapters.harness import InboundCase, make_gateway, send
from tests.adapters.meta import wa
from tests.adapters.meta.fake_graph import (
    ACCESS_TOKEN,
    APP_SECRET,
    VERIFY_TOKEN,
    FakeGraph,
    payload,
)
from tests.conftest import GatewayHarness
from vocabulary.central import CentralStatus
from vocabulary.deliveries import DeliveryStatus

GRAPH = FakeGraph()
TRACKING = "LPR0000001"
LABEL = "sedang ditindaklanjuti"  # the status label of in_progress, in every form sent


@pytest.fixture(scope="module", autouse=True)
def _stop_graph() -> Iterator[None]:
    yield
    GRAPH.stop()


CHANNEL = wa.channel(GRAPH, "conversation: true, template_name: sp4n_status_update")


@pytest.fixture
def gateway(db_url: str, tmp_path: Path) -> Iterator[GatewayHarness]:
    yield from make_gateway(db_url, tmp_path, CHANNEL)


def post(gateway: GatewayHarness, body: bytes) -> None:
    case = InboundCase("window", body, content_type="application/json")
    response = send(gateway, CHANNEL.sign(CHANNEL.request(case)))
    assert response.status_code == 200, response.get_data(as_text=True)


def report_written(gateway: GatewayHarness, hours_ago: float) -> str:
    """A report from a message `hours_ago`, numbered by the central."""
    at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago)
    text = "Jalan rusak di depan pasar Desa Contoh, banyak lubang besar."
    post(gateway, wa.notification([wa.message("OLD", text=text, at=at)]))
    with gateway.runtime.sessions.begin() as session:
        (report,) = session.scalars(select(Report))
        report.tracking_id, report.state = TRACKING, "submitted"
        return report.id


def status_update(gateway: GatewayHarness, report_id: str, provider_id: str) -> str:
    """Queue the in_progress update and send everything due; returns how the update went."""
    with gateway.runtime.sessions.begin() as session:
        report = session.get(Report, report_id)
        assert report is not None
        gateway.runtime.replies.status_changed(
            session, report, CentralStatus.IN_PROGRESS, "2026-12-01T10:00:00Z", None, None
        )
    return send_due(gateway, provider_id)


def send_due(gateway: GatewayHarness, provider_id: str) -> str:
    """Run the reply sender once; the update's form ('text' or 'template') as Graph got it."""
    before = len(GRAPH.seen)
    GRAPH.answers.append(
        (200, {**payload("wa_messages_sent.json"), "messages": [{"id": provider_id}]})
    )
    sender = gateway.runtime.reply_sender()
    try:
        sender.run_once()
    finally:
        sender.close()
    forms = [_form_of(json.loads(s.body)) for s in GRAPH.seen[before:] if s.method == "POST"]
    GRAPH.answers.clear()
    (form,) = [f for f in forms if f is not None]
    return form


def _form_of(sent: dict[str, Any]) -> str | None:
    """'text' or 'template' when this message carries the status update, else None."""
    if sent.get("type") == "text" and LABEL in sent["text"]["body"]:
        return "text"
    if sent.get("type") == "template":
        params = sent["template"]["components"][0]["parameters"]
        if any(LABEL in p["text"] for p in params):
            return "template"
    return None


def test_after_24_silent_hours_the_update_goes_as_the_template(gateway: GatewayHarness) -> None:
    report_id = report_written(gateway, hours_ago=30)
    assert status_update(gateway, report_id, "wamid.U1") == "template"


@pytest.mark.parametrize(
    "later",
    [
        wa.message("LATER", text="Tambahan: lubangnya makin besar.", context="wamid.OLD"),
        wa.message("LATER", text=f"STATUS {TRACKING}"),
        wa.message("LATER", text="halo"),
    ],
    ids=["a follow-up", "a status question", "a conversation turn"],
)
def test_a_later_message_reopens_the_window(gateway: GatewayHarness, later: dict[str, Any]) -> None:
    report_id = report_written(gateway, hours_ago=30)
    post(gateway, wa.notification([later]))
    assert status_update(gateway, report_id, "wamid.U1") == "text"


def test_a_message_from_someone_else_does_not_reopen_it(gateway: GatewayHarness) -> None:
    report_id = report_written(gateway, hours_ago=30)
    other = wa.message("OTHER", text=f"STATUS {TRACKING}", wa_id="6281200000099")
    post(gateway, wa.notification([other]))
    assert status_update(gateway, report_id, "wamid.U1") == "template"


def _reply(gateway: GatewayHarness) -> ReplyItem:
    with gateway.runtime.sessions() as session:
        (item,) = session.scalars(select(ReplyItem).where(ReplyItem.event.like("status:%")))
        return item


def test_a_window_closed_failure_goes_again_as_the_template_once(gateway: GatewayHarness) -> None:
    report_id = report_written(gateway, hours_ago=1)
    assert status_update(gateway, report_id, "wamid.FREE") == "text"

    for _ in range(2):  # Meta repeats a notification: one retry all the same
        post(gateway, wa.notification(statuses=[wa.status("wamid.FREE", "failed", error=131047)]))
    item = _reply(gateway)
    assert item.state == "pending" and item.window_closed
    assert item.delivery_status == "failed"
    assert (item.delivery_error or "").startswith("131047")
    failed = [e for e in gateway.rows(TimelineEvent) if e.event == "reply_failed"]
    assert len(failed) == 1 and failed[0].detail["retry"] == "outside the window"

    assert send_due(gateway, "wamid.TEMPLATE") == "template"
    item = _reply(gateway)
    assert item.state == "sent" and item.provider_id == "wamid.TEMPLATE"
    assert item.delivery_status is None  # statuses now describe the template

    # the template failing as well is final: no third message
    post(gateway, wa.notification(statuses=[wa.status("wamid.TEMPLATE", "failed", error=131047)]))
    item = _reply(gateway)
    assert item.state == "sent" and item.delivery_status == "failed"


def test_a_status_we_do_not_track_is_dropped_at_the_adapter(gateway: GatewayHarness) -> None:
    report_id = report_written(gateway, hours_ago=1)
    assert status_update(gateway, report_id, "wamid.FREE") == "text"
    post(gateway, wa.notification(statuses=[wa.status("wamid.FREE", "deleted")]))  # ignored
    post(
        gateway,
        wa.notification(
            statuses=[wa.status("wamid.FREE", "delivered"), wa.status("wamid.FREE", "deleted")]
        ),
    )
    item = _reply(gateway)
    assert item.delivery_status is DeliveryStatus.DELIVERED
    assert [e.event for e in gateway.rows(TimelineEvent)].count("reply_delivered") == 1


# --- the adapter alone -------------------------------------------------------------------


def _adapter() -> WhatsAppCloudAdapter:
    return WhatsAppCloudAdapter(
        WhatsAppOptions(
            name="wa",
            phone_number_id=wa.NUMBER_ID,
            app_secret=APP_SECRET,
            verify_token=VERIFY_TOKEN,
            access_token=ACCESS_TOKEN,
            graph_url=GRAPH.url,
            template_name="sp4n_status_update",
        )
    )


def _outgoing(hours_ago: float, **extra: Any) -> OutgoingReply:
    at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago)
    return OutgoingReply(
        reply_id="r1",
        report_id="rep1",
        tracking_id=TRACKING,
        event="status:in_progress",
        text=f"Status laporan {TRACKING}: {LABEL}",
        reply_to={"wa_id": wa.WA_ID, "phone_number_id": wa.NUMBER_ID, "at": at.isoformat()},
        external_id="wamid.OLD",
        **extra,
    )


def test_window_open_takes_the_latest_contact_and_the_providers_word() -> None:
    now = dt.datetime.now(dt.UTC)
    assert not window_open(_outgoing(30), now)
    assert window_open(_outgoing(30, last_contact=now - dt.timedelta(hours=2)), now)
    assert not window_open(_outgoing(30, last_contact=now - dt.timedelta(hours=25)), now)
    assert not window_open(_outgoing(1, window_closed=True), now)


def test_a_131047_answer_to_a_free_text_sends_the_template_at_once() -> None:
    GRAPH.answers.append((400, payload("graph_error_131047.json")))
    before = len(GRAPH.seen)
    assert _adapter().send_reply(_outgoing(1))
    sent = [json.loads(s.body) for s in GRAPH.seen[before:] if s.method == "POST"]
    assert [s["type"] for s in sent] == ["text", "template"]
    assert "text" not in sent[1]
