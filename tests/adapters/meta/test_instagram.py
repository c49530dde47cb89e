"""`instagram_dm`: Messenger's scheme with `object: instagram`, through the shared harness."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.adapters.harness import InboundCase, PushChannel, PushChannelTests, gateway_fixture
from tests.adapters.meta.fake_graph import (
    ACCESS_TOKEN,
    APP_SECRET,
    PAYLOADS,
    VERIFY_TOKEN,
    FakeGraph,
    forge,
    sign,
)

GRAPH = FakeGraph()


@pytest.fixture(scope="module", autouse=True)
def _stop_graph() -> Iterator[None]:
    yield
    GRAPH.stop()


CHANNEL = PushChannel(
    name="ig",
    yaml=f"""\
  - {{name: ig, type: instagram_dm, app_secret: "${{META_APP_SECRET}}",
      verify_token: "${{META_VERIFY_TOKEN}}", access_token: "${{IG_TOKEN}}",
      graph_url: "{GRAPH.url}", media_hosts: ["127.0.0.1"]}}
""",
    env={
        "META_APP_SECRET": APP_SECRET,
        "META_VERIFY_TOKEN": VERIFY_TOKEN,
        "IG_TOKEN": ACCESS_TOKEN,
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
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "99"},
        method="GET",
        reports=0,
        answer=b"99",
    ),
    InboundCase(
        "direct message",
        "instagram_text.json",
        content_type=JSON,
        expect={
            "channel.type": "instagram_dm",
            "body": "Pelayanan puskesmas lambat sekali, antre sampai 4 jam.",
        },
        reply_to={
            "psid": "IGSID000000021",
            "page_id": "17841400000000001",
            "at": "2025-11-24T16:00:00+00:00",
        },
    ),
    InboundCase("image", GRAPH.body("instagram_image.json"), content_type=JSON),
    InboundCase(
        "a Page's payload is not this channel's",
        "messenger_text.json",
        content_type=JSON,
        status=400,
        reports=0,
    ),
    InboundCase("not JSON", b"[", content_type=JSON, status=400, reports=0),
]

channel_gateway = gateway_fixture(CHANNEL)


class TestInstagramWebhook(PushChannelTests):
    """The channel's webhook: its labelled table and the cases every push channel passes."""

    channel = CHANNEL
    cases = INBOUND_CASES
    happy = "direct message"
    malformed = "not JSON"
