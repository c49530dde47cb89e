"""Property test: whatever body reaches a push channel, it is never a 5xx and never lost.

Issue 8.1. Arbitrary JSON values, forms and raw bytes, correctly signed, go through every
push channel type on SQLite and PostgreSQL. Every answer is 2xx (a report, a held message,
a repeat or an event that carries no message) or 400/409 with the input kept as a rejected
row whose id the answer names.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.models import InboundMessage
from tests.adapters.harness import PushChannel, WireRequest, send
from tests.adapters.meta import test_instagram, test_messenger, test_whatsapp
from tests.adapters.sms import test_kannel, test_twilio
from tests.adapters.telegram import test_telegram
from tests.adapters.twitter import test_webhook as test_x
from tests.conftest import GatewayHarness
from tests.helpers import WEB_SECRET, config_text, free_port, load_test_config
from tests.language import assert_indonesian

# Every push channel type with a webhook, as its own tests configure and sign it.
PUSH_CHANNELS: list[PushChannel] = [
    test_twilio.CHANNEL,
    test_kannel.CHANNEL,
    test_telegram.CHANNEL,
    test_whatsapp.CHANNEL,
    test_messenger.CHANNEL,
    test_instagram.CHANNEL,
    test_x.CHANNEL,
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
# Field names a real provider uses, so the adapters get past their first checks often.
KNOWN_KEYS = [
    "body",
    "external_id",
    "name",
    "phone",
    "email",
    "received_at",
    "kind",
    "lat",
    "From",
    "To",
    "Body",
    "MessageSid",
    "AccountSid",
    "NumMedia",
    "MediaUrl0",
    "sender",
    "receiver",
    "text",
    "charset",
    "coding",
    "udh",
    "time",
    "smsc",
    "update_id",
    "message",
    "object",
    "entry",
    "changes",
    "messaging",
    "for_user_id",
    "tweet_create_events",
    "direct_message_events",
]
form_fields = st.dictionaries(
    st.sampled_from(KNOWN_KEYS) | st.text(max_size=10),
    st.text(max_size=60),
    max_size=8,
)


@pytest.fixture
def push_gateway(db_url: str, tmp_path: Path) -> Iterator[GatewayHarness]:
    entries = "".join(channel.yaml for channel in PUSH_CHANNELS)
    text = config_text(db_url, f"http://127.0.0.1:{free_port()}", channels=entries)
    env: dict[str, str] = {}
    for channel in PUSH_CHANNELS:
        env.update(channel.env)
    from gateway.runtime import build_runtime

    runtime = build_runtime(load_test_config(text, **env), base_dir=tmp_path)
    harness = GatewayHarness(runtime, None)
    yield harness
    harness.forwarder.close()
    runtime.close()


def _webform_signed(wire: WireRequest) -> WireRequest:
    digest = hmac.new(WEB_SECRET.encode(), wire.body, hashlib.sha256).hexdigest()
    wire.headers["X-Signature-256"] = f"sha256={digest}"
    return wire


SIGNERS: dict[str, Callable[[WireRequest], WireRequest]] = {
    "web": lambda wire: wire,
    "web-signed": _webform_signed,
    **{channel.name: channel.sign for channel in PUSH_CHANNELS},
}


def _check(gateway: GatewayHarness, channel: str, body: bytes, content_type: str) -> None:
    before = {row.id for row in gateway.rows(InboundMessage)}
    wire = WireRequest("POST", f"/channels/{channel}/inbound", body, {}, content_type)
    try:
        wire = SIGNERS[channel](wire)
        signed = True
    except UnicodeDecodeError:  # Twilio signs decoded form fields: no genuine request is so
        signed = False
    response = send(gateway, wire)
    status = response.status_code
    assert status < 500, response.get_data(as_text=True)[:500]
    if not signed:
        assert status == 403 and {r.id for r in gateway.rows(InboundMessage)} == before
        return
    assert status != 403, "a correctly signed request was refused"
    rows = {row.id: row for row in gateway.rows(InboundMessage)}
    new = [rows[i] for i in rows.keys() - before]
    if status in (400, 409):
        error = response.get_json()["error"]
        kept = error["inbound_id"]
        assert kept in rows and rows[kept].state == "rejected", "rejected input must be kept"
        assert_indonesian(error["message"])  # what the sender and the admin read (11.8)
        assert_indonesian(rows[kept].error or "")
        return
    assert status in (200, 201), status
    answer = response.get_data(as_text=True)
    ignored = '"ignored"' in answer
    if not ignored and not new:
        # A repeat of a message already stored: its key is there.
        assert rows, "a 2xx answer must stand for a stored message"


@pytest.mark.parametrize("channel", sorted(SIGNERS))
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_body_is_stored_or_kept_as_rejected(
    push_gateway: GatewayHarness, channel: str, data: st.DataObject
) -> None:
    shape = data.draw(st.sampled_from(["json", "form", "bytes"]))
    if shape == "json":
        value: Any = data.draw(
            json_values | st.dictionaries(st.sampled_from(KNOWN_KEYS), json_values, max_size=6)
        )
        body = json.dumps(value).encode()
        content_type = "application/json"
    elif shape == "form":
        body = urlencode(data.draw(form_fields)).encode()
        content_type = "application/x-www-form-urlencoded"
    else:
        body = data.draw(st.binary(max_size=300))
        content_type = data.draw(
            st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"])
        )
    _check(push_gateway, channel, body, content_type)
