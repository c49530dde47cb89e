"""`telegram`: webhook cases through the shared harness, polling through the real poll runner,
files and replies through python-telegram-bot's `Bot` against a local Bot API."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import OutgoingReply
from adapters.sms.grammar import Grammar
from adapters.telegram.adapter import TelegramAdapter, TelegramOptions
from adapters.telegram.updates import UpdateLimits, read_update
from store.models import InboundMessage, ReplyItem, Report, TimelineEvent
from tests.adapters.harness import (
    InboundCase,
    PushChannel,
    PushChannelTests,
    WireRequest,
    gateway_fixture,
    make_gateway,
    send,
)
from tests.adapters.telegram.fake_api import TOKEN, FakeTelegram
from tests.helpers import WEB_SECRET
from vocabulary.errors import Ignored, PayloadInvalid, SendError

PAYLOADS = Path(__file__).parent / "payloads"
SECRET = "tg-webhook-secret_0123456789"
PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 12
PDF = b"%PDF-1.4 surat keterangan"

API = FakeTelegram(files={"AgACAgQAAxkBAAIC-medium": PHOTO, "BQACAgQAAxkBAAIC-doc": PDF})


@pytest.fixture(scope="module", autouse=True)
def _stop_api() -> Iterator[None]:
    yield
    API.stop()


def _sign(wire: WireRequest, secret: str = SECRET) -> WireRequest:
    wire.headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return wire


CHANNEL = PushChannel(
    name="tg",
    yaml=f"""\
  - {{name: tg, type: telegram, token: "${{TG_TOKEN}}", secret_token: "${{TG_SECRET}}",
      api_url: "{API.url}", max_media_bytes: 100000, conversation: false}}
""",
    env={"TG_TOKEN": TOKEN, "TG_SECRET": SECRET},
    secrets=[TOKEN, SECRET],
    payload_dir=PAYLOADS,
    sign=_sign,
    forge=lambda wire: _sign(wire, "not-the-secret"),
)
AT = dt.datetime.fromtimestamp(1764000000, dt.UTC).isoformat()
JSON = "application/json"

INBOUND_CASES = [
    InboundCase(
        "text message",
        "text_message.json",
        content_type=JSON,
        expect={
            "external_id": "10000",
            "channel.type": "telegram",
            "reporter.name": "Warga Contoh",
            "routing.agency": "upt-jalan",
        },
        reply_to={"chat_id": "1111111", "at": AT},
    ),
    InboundCase(
        "photo with caption: the largest size within the cap is fetched",
        "photo_caption.json",
        content_type=JSON,
        expect={"body": "Sampah menumpuk di pasar"},
    ),
    InboundCase("document", "document.json", content_type=JSON),
    InboundCase(
        "location only",
        "location.json",
        content_type=JSON,
        expect={"location.lat": -7.250445, "location.lon": 112.768845},
    ),
    InboundCase(
        "venue",
        "venue.json",
        content_type=JSON,
        expect={"location.lat": -6.175392},
    ),
    InboundCase(
        "own contact fills the reporter",
        "own_contact.json",
        content_type=JSON,
        expect={"reporter.phone": "+6281200000011"},
    ),
    InboundCase(
        "status command asks, no report",
        "status_command.json",
        content_type=JSON,
        reports=0,
        inbound=1,
    ),
    InboundCase("edited message is ignored", "edited_message.json", content_type=JSON, reports=0),
    InboundCase("group message is ignored", "group_message.json", content_type=JSON, reports=0),
    InboundCase("sticker alone is held", "sticker.json", content_type=JSON, reports=0, inbound=1),
    InboundCase(
        "not JSON",
        b"update_id=1",
        content_type="application/x-www-form-urlencoded",
        status=400,
        reports=0,
    ),
    InboundCase("no update_id", b'{"message": {}}', content_type=JSON, status=400, reports=0),
]

channel_gateway = gateway_fixture(CHANNEL)


class TestTelegramWebhook(PushChannelTests):
    """The channel's webhook: its labelled table and the cases every push channel passes."""

    channel = CHANNEL
    cases = INBOUND_CASES
    happy = "text message"
    malformed = "no update_id"


def test_photo_and_document_become_attachments(channel_gateway: Any) -> None:
    for name in ("photo_caption.json", "document.json"):
        wire = CHANNEL.sign(CHANNEL.request(InboundCase(name, name, content_type=JSON)))
        assert send(channel_gateway, wire).status_code == 200
    reports = sorted(channel_gateway.rows(Report), key=lambda r: r.external_id)
    (photo,) = reports[0].payload["attachments"]
    assert photo["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    (doc,) = reports[1].payload["attachments"]
    assert doc["content_type"] == "application/pdf" and doc["filename"].endswith("surat.pdf")
    # the 900 kB size was over the 100 kB cap: the medium one was asked for, never the large
    asked = [p["file_id"] for m, p in API.calls if m == "getFile"]
    assert "AgACAgQAAxkBAAIC-large" not in asked


def test_repeat_of_an_update_is_one_report(channel_gateway: Any) -> None:
    for _ in range(3):
        wire = CHANNEL.sign(CHANNEL.request(INBOUND_CASES[0]))
        assert send(channel_gateway, wire).status_code == 200
    assert len(channel_gateway.rows(Report)) == 1


def test_reply_to_a_bot_message_is_a_follow_up(channel_gateway: Any) -> None:
    wire = CHANNEL.sign(CHANNEL.request(INBOUND_CASES[0]))
    assert send(channel_gateway, wire).status_code == 200
    (report,) = channel_gateway.rows(Report)
    with channel_gateway.runtime.sessions.begin() as session:
        session.add(
            ReplyItem(
                id="01REPLY",
                report_id=report.id,
                channel="tg",
                event="ack",
                text="diterima",
                state="sent",
                provider_id="1111111:5001",
            )
        )
    reply = InboundCase("reply", "reply_to_bot.json", content_type=JSON)
    assert send(channel_gateway, CHANNEL.sign(CHANNEL.request(reply))).status_code == 200
    assert len(channel_gateway.rows(Report)) == 1
    states = sorted(m.state for m in channel_gateway.rows(InboundMessage))
    assert states == ["accepted", "followup"]
    assert [e.event for e in channel_gateway.rows(TimelineEvent)].count("followup") == 1


def test_status_command_is_answered_in_the_chat(channel_gateway: Any) -> None:
    wire = CHANNEL.sign(CHANNEL.request(INBOUND_CASES[0]))  # chat 1111111 reports
    assert send(channel_gateway, wire).status_code == 200
    (report,) = channel_gateway.rows(Report)
    with channel_gateway.runtime.sessions.begin() as session:
        row = session.get(Report, report.id)
        assert row is not None
        row.tracking_id, row.state, row.central_status = "LPR1234567", "submitted", "in_progress"
    asked = InboundCase("status", "status_command.json", content_type=JSON)  # same chat
    assert send(channel_gateway, CHANNEL.sign(CHANNEL.request(asked))).status_code == 200
    assert len(channel_gateway.rows(Report)) == 1
    query = next(m for m in channel_gateway.rows(InboundMessage) if m.external_id == "10006")
    assert query.state == "query"
    (answer,) = [r for r in channel_gateway.rows(ReplyItem) if r.event == f"query:{query.id}"]
    assert answer.channel == "tg" and answer.state == "pending"
    assert answer.report_id == report.id and (answer.reply_to or {})["chat_id"] == "1111111"
    assert "LPR1234567" in answer.text and "sedang ditindaklanjuti" in answer.text, answer.text
    before = len(API.sent)
    sender = channel_gateway.runtime.reply_sender()
    try:
        sender.run_once()
    finally:
        sender.close()
    said = [m for m in API.sent[before:] if m["text"] == answer.text]
    assert [str(m["chat_id"]) for m in said] == ["1111111"]


def test_polling_channel_refuses_webhooks(db_url: str, tmp_path: Path) -> None:
    channel = dataclasses.replace(
        CHANNEL,
        yaml=f"""\
  - {{name: tg, type: telegram, token: "${{TG_TOKEN}}", receive: polling, api_url: "{API.url}"}}
""",
    )
    for gateway in make_gateway(db_url, tmp_path, channel):
        wire = CHANNEL.sign(CHANNEL.request(INBOUND_CASES[0]))
        assert send(gateway, wire).status_code == 403
        assert gateway.rows(InboundMessage) == []


# --- pure parsing -------------------------------------------------------------------------

LIMITS = UpdateLimits(grammar=Grammar(), max_media_bytes=5_000_000)


def _load(name: str) -> dict[str, Any]:
    return dict(json.loads((PAYLOADS / name).read_text()))


def test_callback_query_is_a_choice() -> None:
    message = read_update(_load("callback_query.json"), dt.datetime.now(dt.UTC), LIMITS)
    assert message.draft.choice == "kind:pengaduan"
    assert message.draft.reply_to["chat_id"] == "1111111"


def test_status_command_reads_like_sms() -> None:
    message = read_update(_load("status_command.json"), dt.datetime.now(dt.UTC), LIMITS)
    assert message.draft.status_query == "LPR1234567"


def test_start_command_keeps_its_slash() -> None:
    message = read_update(_load("start_command.json"), dt.datetime.now(dt.UTC), LIMITS)
    assert message.draft.body == "/start"


_scalars = st.one_of(st.none(), st.integers(), st.text(max_size=20), st.booleans())


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {"update_id": st.one_of(st.integers(0, 2**40), st.text(max_size=5))},
        optional={
            "message": st.dictionaries(
                st.sampled_from(["message_id", "date", "chat", "from", "text", "photo"]),
                st.one_of(_scalars, st.dictionaries(st.text(max_size=8), _scalars)),
            ),
            "callback_query": st.dictionaries(st.text(max_size=8), _scalars),
        },
    )
)
def test_any_update_parses_or_fails_cleanly(data: dict[str, Any]) -> None:
    try:
        message = read_update(data, dt.datetime.now(dt.UTC), LIMITS)
    except (PayloadInvalid, Ignored):
        return
    assert message.external_id == str(data["update_id"])


# --- replies through the library's Bot -----------------------------------------------------


def _adapter(**extra: Any) -> TelegramAdapter:
    options = TelegramOptions(name="tg", token=TOKEN, secret_token=SECRET, api_url=API.url, **extra)
    return TelegramAdapter(options, public_url="http://127.0.0.1:8000")


def _reply(text: str, choices: tuple[tuple[str, str], ...] = ()) -> OutgoingReply:
    return OutgoingReply(
        reply_id="r1",
        report_id="rep1",
        tracking_id="LPR1234567",
        event="ack",
        text=text,
        reply_to={"chat_id": "1111111"},
        external_id="10000",
        choices=choices,
    )


def test_reply_goes_through_send_message_with_buttons() -> None:
    adapter = _adapter()
    try:
        before = len(API.sent)
        provider_id = adapter.send_reply(
            _reply("Pilih jenis laporan:", (("kind:pengaduan", "Pengaduan"), ("x", "Lainnya")))
        )
        sent = API.sent[before]
    finally:
        adapter.close()
    assert provider_id == f"1111111:{API.next_message_id}"
    assert sent["text"] == "Pilih jenis laporan:"
    keyboard = sent["reply_markup"]["inline_keyboard"]
    assert keyboard[0][0] == {"text": "Pengaduan", "callback_data": "kind:pengaduan"}


@pytest.mark.parametrize(
    "status, payload, retryable",
    [
        (
            403,
            {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            },
            False,
        ),
        (
            400,
            {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
            False,
        ),
        (
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 3",
                "parameters": {"retry_after": 3},
            },
            True,
        ),
        (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}, True),
    ],
    ids=["blocked by the citizen", "chat not found", "flood wait", "server error"],
)
def test_bot_api_errors_map_to_send_errors(
    status: int, payload: dict[str, Any], retryable: bool
) -> None:
    adapter = _adapter()
    API.errors.append((status, payload))
    try:
        with pytest.raises(SendError) as caught:
            adapter.send_reply(_reply("x"))
    finally:
        adapter.close()
    assert caught.value.retryable is retryable
    assert TOKEN not in str(caught.value)


def test_register_webhook_sends_url_and_secret() -> None:
    adapter = _adapter()
    try:
        url = adapter.register_webhook()
    finally:
        adapter.close()
    _method, params = [c for c in API.calls if c[0] == "setWebhook"][-1]
    assert url == "http://127.0.0.1:8000/channels/tg/inbound" == params["url"]
    assert params["secret_token"] == SECRET
    assert params["allowed_updates"] == ["message", "edited_message", "callback_query"]


def test_webhook_secret_is_required_for_webhook_mode() -> None:
    with pytest.raises(ValueError, match="secret_token"):
        TelegramOptions(name="tg", token=TOKEN)
    TelegramOptions(name="tg", token=TOKEN, receive="polling")


def test_register_webhook_command(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from gateway.cli import main
    from tests.helpers import config_text

    config = tmp_path / "gateway.yaml"
    config.write_text(
        config_text(f"sqlite:///{tmp_path / 'g.db'}", "http://127.0.0.1:9") + CHANNEL.yaml,
        encoding="utf-8",
    )
    env = {
        "WEB_SECRET": WEB_SECRET,
        "CENTRAL_TOKEN": "test-token",
        "TG_TOKEN": TOKEN,
        "TG_SECRET": SECRET,
    }
    result = CliRunner().invoke(
        main, ["channels", "register-webhook", "--config", str(config), "tg"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "webhook terdaftar di http://127.0.0.1:8000/channels/tg/inbound" in result.output
    listed = CliRunner().invoke(main, ["channels", "--config", str(config)], env=env)
    assert listed.exit_code == 0 and "tg" in listed.output
    refused = CliRunner().invoke(
        main, ["channels", "register-webhook", "--config", str(config), "web"], env=env
    )
    assert refused.exit_code == 1 and "tidak didaftarkan" in refused.output
