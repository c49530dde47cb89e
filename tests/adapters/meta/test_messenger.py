"""`facebook_messenger`: webhook cases through the shared harness, the Send API and its
messaging window; `instagram_dm` (the parameter variant) has its own table beside this."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.base import OutgoingReply
from adapters.meta.messenger import MessengerAdapter, MessengerOptions
from store.models import ReplyItem, Report
from tests.adapters.harness import (
    InboundCase,
    PushChannel,
    PushChannelTests,
    gateway_fixture,
    send,
)
from tests.adapters.meta.fake_graph import (
    ACCESS_TOKEN,
    APP_SECRET,
    PAYLOADS,
    PHOTO,
    VERIFY_TOKEN,
    FakeGraph,
    forge,
    payload,
    sign,
)
from vocabulary.errors import SendError

GRAPH = FakeGraph()


@pytest.fixture(scope="module", autouse=True)
def _stop_graph() -> Iterator[None]:
    yield
    GRAPH.stop()


CHANNEL = PushChannel(
    name="fb",
    yaml=f"""\
  - {{name: fb, type: facebook_messenger, app_secret: "${{META_APP_SECRET}}",
      verify_token: "${{META_VERIFY_TOKEN}}", access_token: "${{FB_TOKEN}}",
      graph_url: "{GRAPH.url}", media_hosts: ["127.0.0.1"]}}
""",
    env={
        "META_APP_SECRET": APP_SECRET,
        "META_VERIFY_TOKEN": VERIFY_TOKEN,
        "FB_TOKEN": ACCESS_TOKEN,
    },
    secrets=[APP_SECRET, VERIFY_TOKEN, ACCESS_TOKEN],
    payload_dir=PAYLOADS,
    sign=sign,
    forge=forge,
)
JSON = "application/json"

INBOUND_CASES = [
    InboundCase(
        "verify handshake",
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"},
        method="GET",
        reports=0,
        answer=b"42",
    ),
    InboundCase(
        "text message",
        "messenger_text.json",
        content_type=JSON,
        expect={"channel.type": "facebook_messenger", "routing.agency": "nasional"},
        reply_to={
            "psid": "PSID0000000021",
            "page_id": "PAGE_ID_0001",
            "at": "2025-11-24T16:00:00+00:00",
        },
    ),
    InboundCase("image attachment", GRAPH.body("messenger_image.json"), content_type=JSON),
    InboundCase(
        "two messages and a delivery in one batch",
        "messenger_batch.json",
        content_type=JSON,
        reports=2,
    ),
    InboundCase(
        "an echo of our own message is ignored", "messenger_echo.json", content_type=JSON, reports=0
    ),
    InboundCase(
        "a postback is a choice, kept as a message",
        "messenger_postback.json",
        content_type=JSON,
        expect={"body": "Mulai"},
    ),
    InboundCase(
        "Instagram's object is not this channel's",
        "instagram_text.json",
        content_type=JSON,
        status=400,
        reports=0,
    ),
    InboundCase("not JSON", b"{", content_type=JSON, status=400, reports=0),
]

channel_gateway = gateway_fixture(CHANNEL)


class TestMessengerWebhook(PushChannelTests):
    """The channel's webhook: its labelled table and the cases every push channel passes."""

    channel = CHANNEL
    cases = INBOUND_CASES
    happy = "text message"
    malformed = "not JSON"


def test_image_is_downloaded_without_the_token(channel_gateway: Any) -> None:
    case = InboundCase("x", GRAPH.body("messenger_image.json"), content_type=JSON)
    assert send(channel_gateway, CHANNEL.sign(CHANNEL.request(case))).status_code == 200
    (report,) = channel_gateway.rows(Report)
    assert report.payload["attachments"][0]["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    cdn = [s for s in GRAPH.seen if s.path == "/cdn/photo.jpg"][-1]
    assert "Authorization" not in cdn.headers


def test_delivery_in_a_batch_is_recorded(channel_gateway: Any) -> None:
    case = InboundCase("x", "messenger_text.json", content_type=JSON)
    send(channel_gateway, CHANNEL.sign(CHANNEL.request(case)))
    (report,) = channel_gateway.rows(Report)
    with channel_gateway.runtime.sessions.begin() as session:
        session.add(
            ReplyItem(
                id="r1",
                report_id=report.id,
                channel="fb",
                event="ack",
                text="x",
                state="sent",
                provider_id="m_OUTBOUND0001",
            )
        )
    batch = InboundCase("b", "messenger_batch.json", content_type=JSON)
    assert send(channel_gateway, CHANNEL.sign(CHANNEL.request(batch))).status_code == 200
    (reply,) = channel_gateway.rows(ReplyItem)
    assert reply.delivery_status == "delivered"


def _adapter(**extra: Any) -> MessengerAdapter:
    return MessengerAdapter(
        MessengerOptions(
            name="fb",
            app_secret=APP_SECRET,
            verify_token=VERIFY_TOKEN,
            access_token=ACCESS_TOKEN,
            graph_url=GRAPH.url,
            **extra,
        )
    )


def _reply(hours_ago: float) -> OutgoingReply:
    at = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago)).isoformat()
    return OutgoingReply(
        "r1",
        "rep1",
        "LPR1234567",
        "ack",
        "Laporan diterima: LPR1234567",
        {"psid": "PSID0000000021", "page_id": "PAGE_ID_0001", "at": at},
        "m_1",
        (("yes", "Ya"),),
    )


def _last() -> dict[str, Any]:
    seen = [s for s in GRAPH.seen if s.method == "POST"][-1]
    assert seen.path == "/v21.0/me/messages"
    assert seen.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    return dict(json.loads(seen.body))


def test_reply_inside_the_window_is_a_response() -> None:
    assert _adapter().send_reply(_reply(1)) == payload("messenger_sent.json")["message_id"]
    sent = _last()
    assert sent["messaging_type"] == "RESPONSE" and sent["recipient"] == {"id": "PSID0000000021"}
    assert sent["message"]["quick_replies"][0] == {
        "content_type": "text",
        "title": "Ya",
        "payload": "yes",
    }


def test_outside_the_window_a_tag_is_needed() -> None:
    with pytest.raises(SendError) as caught:
        _adapter().send_reply(_reply(48))
    assert caught.value.code == "window_closed" and not caught.value.retryable
    _adapter(message_tag="ACCOUNT_UPDATE").send_reply(_reply(48))
    sent = _last()
    assert (sent["messaging_type"], sent["tag"]) == ("MESSAGE_TAG", "ACCOUNT_UPDATE")
