"""The optional Account Activity webhook, as a table of labelled cases on the shared harness.

The harness adds the unknown-channel, bad-signature, missing-signature and secret-redaction
cases by itself.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
from pathlib import Path

from tests.adapters.harness import (
    InboundCase,
    PushChannel,
    PushChannelTests,
    WireRequest,
    gateway_fixture,
)
from tests.adapters.twitter.conftest import X_ENV
from tests.adapters.twitter.fake_x import ACCOUNT_ID

SECRET = X_ENV["X_CONSUMER_SECRET"]
CRC = "9b4507b3-9040-4669-9ca3-6b94edb50553"


def _b64_hmac(data: bytes) -> str:
    return base64.b64encode(hmac.new(SECRET.encode(), data, hashlib.sha256).digest()).decode()


def sign(wire: WireRequest) -> WireRequest:
    headers = {**wire.headers, "x-twitter-webhooks-signature": "sha256=" + _b64_hmac(wire.body)}
    return dataclasses.replace(wire, headers=headers)


def forge(wire: WireRequest) -> WireRequest:
    return dataclasses.replace(
        wire, headers={**wire.headers, "x-twitter-webhooks-signature": "sha256=AAAA"}
    )


CHANNEL = PushChannel(
    name="x-aaa",
    yaml=(
        "  - {name: x-aaa, type: twitter, webhook: true, mentions: false,"
        ' direct_messages: false, user_id: "' + ACCOUNT_ID + '",'
        ' consumer_key: "${X_CONSUMER_KEY}", consumer_secret: "${X_CONSUMER_SECRET}",'
        ' access_token: "${X_ACCESS_TOKEN}", access_token_secret: "${X_ACCESS_TOKEN_SECRET}",'
        ' media_hosts: ["127.0.0.1:9"]}\n'
    ),
    env=X_ENV,
    secrets=list(X_ENV.values()),
    payload_dir=Path(__file__).parent / "payloads",
    sign=sign,
    forge=forge,
)

JSON = "application/json"
CASES = [
    InboundCase(
        "crc challenge answered",
        {},
        method="GET",
        query={"crc_token": CRC},
        signed=False,
        reports=0,
        inbound=0,
        answer=json.dumps({"response_token": "sha256=" + _b64_hmac(CRC.encode())}).encode(),
    ),
    InboundCase(
        "crc token that could be a body is refused",
        {},
        method="GET",
        query={"crc_token": '{"for_user_id": "1"}'},
        signed=False,
        status=400,
        reports=0,
        inbound=0,
    ),
    InboundCase(
        "mention with photo and place (own reply in the same batch ignored)",
        "aaa_tweet_create.json",
        content_type=JSON,
        expect={
            "body": "Saluran air tersumbat di Gang Mawar, banjir tiap hujan",
            "reporter.handle": "@warga_webhook",
            "location.text": "Kota Contoh, Jawa Barat",
            "external_id": "tweet:1800000000000000702",
        },
        reply_to={
            "via": "tweet",
            "tweet_id": "1800000000000000702",
            "user_id": "900000000000000004",
        },
    ),
    InboundCase(
        "direct message",
        "aaa_dm.json",
        content_type=JSON,
        expect={"external_id": "dm:1800000000000000802", "reporter.handle": "@pengirim_dm"},
    ),
    InboundCase("follow event ignored", "aaa_follow.json", content_type=JSON, reports=0),
    InboundCase(
        "event for another account ignored",
        b'{"for_user_id": "123", "tweet_create_events": []}',
        content_type=JSON,
        reports=0,
    ),
    InboundCase("not json", b"{not json", content_type=JSON, status=400, reports=0),
]

channel_gateway = gateway_fixture(CHANNEL)


class TestXWebhook(PushChannelTests):
    """The channel's webhook: its labelled table and the cases every push channel passes."""

    channel = CHANNEL
    cases = CASES
    happy = "mention with photo and place (own reply in the same batch ignored)"
    malformed = "not json"
