"""`whatsapp_cloud`: webhook cases through the shared harness (handshake, batches, statuses),
media and replies through a local Graph API, the 24-hour window, and a fuzzed parser."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import CaseInsensitiveDict, InboundRequest, OutgoingReply
from adapters.meta.whatsapp import WhatsAppCloudAdapter, WhatsAppOptions
from store.models import InboundMessage, ReplyItem, Report, TimelineEvent
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
from vocabulary.errors import Ignored, PayloadInvalid, SendError

GRAPH = FakeGraph()


@pytest.fixture(scope="module", autouse=True)
def _stop_graph() -> Iterator[None]:
    yield
    GRAPH.stop()


CHANNEL = PushChannel(
    name="wa",
    yaml=f"""\
  - {{name: wa, type: whatsapp_cloud, phone_number_id: "106540352242922",
      app_secret: "${{META_APP_SECRET}}", verify_token: "${{META_VERIFY_TOKEN}}",
      access_token: "${{WA_TOKEN}}", graph_url: "{GRAPH.url}", media_hosts: ["127.0.0.1"],
      conversation: false}}
""",
    env={
        "META_APP_SECRET": APP_SECRET,
        "META_VERIFY_TOKEN": VERIFY_TOKEN,
        "WA_TOKEN": ACCESS_TOKEN,
    },
    secrets=[APP_SECRET, VERIFY_TOKEN, ACCESS_TOKEN],
    payload_dir=PAYLOADS,
    sign=sign,
    forge=forge,
)
JSON = "application/json"


def _batch(n: int) -> bytes:
    data = payload("wa_text.json")
    template = data["entry"][0]["changes"][0]["value"]["messages"][0]
    data["entry"][0]["changes"][0]["value"]["messages"] = [
        {**template, "id": f"wamid.BATCH{i:04d}", "text": {"body": f"Aduan ke-{i}: jalan rusak"}}
        for i in range(n)
    ]
    return json.dumps(data).encode()


INBOUND_CASES = [
    InboundCase(
        "verify handshake",
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
        method="GET",
        status=200,
        reports=0,
        answer=b"1158201444",
    ),
    InboundCase(
        "handshake with a wrong verify token",
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"},
        method="GET",
        status=403,
        reports=0,
    ),
    InboundCase(
        "text message",
        "wa_text.json",
        content_type=JSON,
        expect={
            "reporter.phone": "+6281200000021",
            "reporter.name": "Warga Contoh",
            "channel.type": "whatsapp_cloud",
            "routing.agency": "upt-jalan",
        },
        reply_to={
            "wa_id": "6281200000021",
            "phone_number_id": "106540352242922",
            "at": "2025-11-24T16:00:00+00:00",
        },
    ),
    InboundCase(
        "image fetched through Graph",
        "wa_image.json",
        content_type=JSON,
        expect={"body": "Foto sampah menumpuk"},
    ),
    InboundCase(
        "location",
        "wa_location.json",
        content_type=JSON,
        expect={"location.lat": -7.250445, "location.lon": 112.768845},
    ),
    InboundCase(
        "status query makes no report",
        "wa_status_query.json",
        content_type=JSON,
        reports=0,
        inbound=1,
    ),
    InboundCase(
        "statuses are recorded, not reported", "wa_statuses.json", content_type=JSON, reports=0
    ),
    InboundCase("a reaction is ignored", "wa_reaction.json", content_type=JSON, reports=0),
    InboundCase(
        "unsupported type is held", "wa_unsupported.json", content_type=JSON, reports=0, inbound=1
    ),
    InboundCase("batch of 50 messages", _batch(50), content_type=JSON, reports=50),
    InboundCase(
        "another object",
        b'{"object": "page", "entry": []}',
        content_type=JSON,
        status=400,
        reports=0,
    ),
    InboundCase("not JSON", b"object=whatsapp", content_type=JSON, status=400, reports=0),
]

channel_gateway = gateway_fixture(CHANNEL)


class TestWhatsAppWebhook(PushChannelTests):
    """The channel's webhook: its labelled table and the cases every push channel passes."""

    channel = CHANNEL
    cases = INBOUND_CASES
    happy = "text message"
    malformed = "not JSON"


def _post(gateway: Any, body: bytes | str) -> Any:
    case = InboundCase("x", body, content_type=JSON)
    return send(gateway, CHANNEL.sign(CHANNEL.request(case)))


def test_a_repeated_batch_makes_each_report_once(channel_gateway: Any) -> None:
    assert _post(channel_gateway, _batch(5)).status_code == 200
    assert _post(channel_gateway, _batch(8)).status_code == 200
    assert len(channel_gateway.rows(Report)) == 8


def test_image_is_fetched_with_the_token(channel_gateway: Any) -> None:
    assert _post(channel_gateway, "wa_image.json").status_code == 200
    (report,) = channel_gateway.rows(Report)
    (attachment,) = report.payload["attachments"]
    assert attachment["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    media = [s for s in GRAPH.seen if s.path.startswith("/media/")]
    assert media and media[-1].headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"


def test_statuses_move_forward_on_the_reply_row(channel_gateway: Any) -> None:
    assert _post(channel_gateway, "wa_text.json").status_code == 200
    (report,) = channel_gateway.rows(Report)
    with channel_gateway.runtime.sessions.begin() as session:
        for ident, provider in (("r1", "wamid.OUTBOUND0001"), ("r2", "wamid.OUTBOUND0002")):
            session.add(
                ReplyItem(
                    id=ident,
                    report_id=report.id,
                    channel="wa",
                    event=f"ev-{ident}",
                    text="x",
                    state="sent",
                    provider_id=provider,
                )
            )
    for _ in range(2):  # Meta repeats notifications: recorded once
        response = _post(channel_gateway, "wa_statuses.json")
        assert response.status_code == 200
    rows = {r.id: r for r in channel_gateway.rows(ReplyItem)}
    assert rows["r1"].delivery_status == "read"
    assert rows["r2"].delivery_status == "failed"
    assert rows["r2"].delivery_error.startswith("131047")
    events = sorted(
        e.event for e in channel_gateway.rows(TimelineEvent) if e.event.startswith("reply_")
    )
    assert events == ["reply_delivered", "reply_failed", "reply_read"]


def _now(name: str) -> bytes:
    """A documented payload sent just now (a reply goes as text within 24 hours only)."""
    data = payload(name)
    for message in data["entry"][0]["changes"][0]["value"]["messages"]:
        message["timestamp"] = str(int(dt.datetime.now(dt.UTC).timestamp()))
    return json.dumps(data).encode()


def test_a_status_question_is_answered_in_the_chat(channel_gateway: Any) -> None:
    assert _post(channel_gateway, _now("wa_text.json")).status_code == 200  # 6281200000021
    (report,) = channel_gateway.rows(Report)
    with channel_gateway.runtime.sessions.begin() as session:
        row = session.get(Report, report.id)
        assert row is not None
        row.tracking_id, row.state, row.central_status = "LPR1234567", "submitted", "in_progress"
    assert _post(channel_gateway, _now("wa_status_query.json")).status_code == 200  # same
    assert len(channel_gateway.rows(Report)) == 1
    wamid = "wamid.HBgNNjI4MTIwMDAwMDAyMRUCABIYFjNFQjA0006"
    query = next(m for m in channel_gateway.rows(InboundMessage) if m.external_id == wamid)
    assert query.state == "query"
    (answer,) = [r for r in channel_gateway.rows(ReplyItem) if r.event == f"query:{query.id}"]
    assert answer.channel == "wa" and answer.state == "pending"
    assert answer.report_id == report.id and (answer.reply_to or {})["wa_id"] == "6281200000021"
    assert "LPR1234567" in answer.text and "sedang ditindaklanjuti" in answer.text, answer.text
    sender = channel_gateway.runtime.reply_sender()
    try:
        sender.run_once()
    finally:
        sender.close()
    said = [json.loads(s.body) for s in GRAPH.seen if s.path.endswith("/messages")]
    assert (said[-1]["to"], said[-1]["text"]["body"]) == ("6281200000021", answer.text)


# --- replies -------------------------------------------------------------------------------


def _adapter(**extra: Any) -> WhatsAppCloudAdapter:
    options = WhatsAppOptions(
        name="wa",
        phone_number_id="106540352242922",
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
        access_token=ACCESS_TOKEN,
        graph_url=GRAPH.url,
        **extra,
    )
    return WhatsAppCloudAdapter(options)


def _reply(hours_ago: float, choices: tuple[tuple[str, str], ...] = ()) -> OutgoingReply:
    at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago)
    return OutgoingReply(
        reply_id="r1",
        report_id="rep1",
        tracking_id="LPR1234567",
        event="status:in_progress",
        text="Status laporan LPR1234567:\nsedang ditindaklanjuti",
        reply_to={
            "wa_id": "6281200000021",
            "phone_number_id": "106540352242922",
            "at": at.isoformat(),
        },
        external_id="wamid.X",
        choices=choices,
    )


def _last_sent() -> dict[str, Any]:
    seen = [s for s in GRAPH.seen if s.method == "POST"][-1]
    assert seen.path == "/v21.0/106540352242922/messages"
    assert seen.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    return dict(json.loads(seen.body))


def test_inside_the_window_a_text_goes() -> None:
    provider = _adapter().send_reply(_reply(1))
    assert provider == payload("wa_messages_sent.json")["messages"][0]["id"]
    sent = _last_sent()
    assert sent["type"] == "text" and sent["to"] == "6281200000021"
    assert sent["text"]["body"].startswith("Status laporan LPR1234567")


def test_outside_the_window_only_the_template_goes() -> None:
    _adapter(template_name="sp4n_status_update").send_reply(_reply(30))
    sent = _last_sent()
    assert sent["type"] == "template"
    template = sent["template"]
    assert template["name"] == "sp4n_status_update" and template["language"] == {"code": "id"}
    params = template["components"][0]["parameters"]
    assert [p["text"] for p in params] == [
        "LPR1234567",
        "Status laporan LPR1234567: sedang ditindaklanjuti",
    ]


def test_outside_the_window_without_template_is_a_clear_final_error() -> None:
    with pytest.raises(SendError) as caught:
        _adapter().send_reply(_reply(30))
    assert not caught.value.retryable and caught.value.code == "window_closed"


@pytest.mark.parametrize(
    "choices, kind",
    [
        ((("privacy:biasa", "Biasa"), ("privacy:anonim", "Anonim")), "button"),
        (tuple((f"kind:{i}", f"Pilihan {i}") for i in range(4)), "list"),
    ],
    ids=["up to three: reply buttons", "more: a list"],
)
def test_choices_become_buttons_or_a_list(choices: tuple[tuple[str, str], ...], kind: str) -> None:
    _adapter().send_reply(_reply(0.1, choices))
    interactive = _last_sent()["interactive"]
    assert interactive["type"] == kind
    if kind == "button":
        assert interactive["action"]["buttons"][0]["reply"] == {
            "id": "privacy:biasa",
            "title": "Biasa",
        }
    else:
        assert len(interactive["action"]["sections"][0]["rows"]) == 4


@pytest.mark.parametrize(
    "status, name, retryable",
    [
        (400, "graph_error_131047.json", False),
        (429, "graph_error_130429.json", True),
        (401, "graph_error_190.json", False),
        (503, None, True),
    ],
    ids=["window closed", "throughput", "expired token", "server error"],
)
def test_graph_errors_map_to_send_errors(status: int, name: str | None, retryable: bool) -> None:
    GRAPH.answers.append((status, payload(name) if name else {"error": {"code": 2}}))
    with pytest.raises(SendError) as caught:
        _adapter().send_reply(_reply(1))
    assert caught.value.retryable is retryable
    assert ACCESS_TOKEN not in str(caught.value)


def test_verify_token_mismatch_and_handshake_shape() -> None:
    adapter = _adapter()

    def get(query: dict[str, str]) -> Any:
        return adapter.handshake(
            InboundRequest(
                "GET", "http://x/", CaseInsensitiveDict(), b"", dt.datetime.now(dt.UTC), query
            )
        )

    assert get({}) is None
    assert (
        get({"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "7"}).body
        == b"7"
    )
    assert get({"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN}).status == 403


_leaf = st.one_of(st.none(), st.integers(), st.text(max_size=12), st.booleans())
_obj = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {"object": st.just("whatsapp_business_account")},
        optional={
            "entry": st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "changes": st.lists(
                            st.fixed_dictionaries(
                                {},
                                optional={
                                    "value": st.dictionaries(
                                        st.sampled_from(
                                            ["messages", "statuses", "contacts", "metadata"]
                                        ),
                                        st.lists(
                                            st.one_of(
                                                _obj,
                                                st.dictionaries(
                                                    st.sampled_from(
                                                        [
                                                            "from",
                                                            "id",
                                                            "type",
                                                            "text",
                                                            "image",
                                                            "timestamp",
                                                            "status",
                                                            "interactive",
                                                            "location",
                                                        ]
                                                    ),
                                                    _obj,
                                                ),
                                            )
                                        ),
                                    )
                                },
                            ),
                            max_size=2,
                        )
                    },
                ),
                max_size=2,
            )
        },
    )
)
def test_any_notification_parses_or_fails_cleanly(data: dict[str, Any]) -> None:
    request = InboundRequest(
        "POST",
        "http://x/",
        CaseInsensitiveDict(),
        json.dumps(data).encode(),
        dt.datetime.now(dt.UTC),
    )
    try:
        result = _adapter().parse_inbound(request)
    except (PayloadInvalid, Ignored):
        return
    for message in result.messages:
        assert message.external_id and message.draft.reply_to["wa_id"]
