"""`kannel_sms`: Kannel's get-url/post-url cases through the shared harness, sendsms replies
to a local fake of Kannel's HTTP interface, and property tests of the parameter parser."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import CaseInsensitiveDict, InboundRequest, OutgoingReply
from adapters.sms.kannel_sms import KannelOptions, KannelSmsAdapter
from tests.adapters.harness import (
    InboundCase,
    PushChannel,
    PushChannelTests,
    WireRequest,
    gateway_fixture,
)
from tests.adapters.sms.fakes import FakeServer, Seen
from vocabulary.errors import PayloadInvalid, SendError

PAYLOADS = Path(__file__).parent / "payloads"
SECRET = "kannel-shared-secret-7d41"
PASSWORD = "kannel-sendsms-password-93e2"


def _sign(wire: WireRequest) -> WireRequest:
    sep = "&" if "?" in wire.path else "?"
    wire.path += f"{sep}{urlencode({'secret': SECRET})}"
    return wire


def _forge(wire: WireRequest) -> WireRequest:
    wire.path = wire.path.replace(urlencode({"secret": SECRET}), "secret=guess")
    return wire


CHANNEL = PushChannel(
    name="sms-kannel",
    yaml="""\
  - {name: sms-kannel, type: kannel_sms, secret: "${KANNEL_SECRET}", username: gateway,
      password: "${KANNEL_PASSWORD}", sendsms_url: "http://127.0.0.1:9/cgi-bin/sendsms"}
""",
    env={"KANNEL_SECRET": SECRET, "KANNEL_PASSWORD": PASSWORD},
    secrets=[SECRET, PASSWORD],
    payload_dir=PAYLOADS,
    sign=_sign,
    forge=_forge,
)

GET_QUERY = {k: v[-1] for k, v in parse_qs((PAYLOADS / "kannel_get_url.query").read_text()).items()}
LONG_TEXT = ("Saluran air di RT 03 tersumbat sampah sehingga banjir setiap hujan turun. ") * 14
UCS2 = (PAYLOADS / "kannel_post_url_ucs2.bin").read_bytes()


def _get(**changes: str | bytes) -> dict[str, str | bytes]:
    return {**GET_QUERY, **changes}


INBOUND_CASES = [
    InboundCase(
        "get-url from the user guide",
        GET_QUERY,
        method="GET",
        answer=b"",
        expect={
            "external_id": "b0b5a4f0-8c1e-4c55-9a55-000000000001",
            "reporter.phone": "+6281200000011",
            "body": "jalan rusak di depan balai desa",
            "received_at": "2026-11-22T03:04:05Z",
            "routing.agency": "upt-jalan",
        },
        reply_to={"phone": "+6281200000011", "to": "1708", "e164": "+6281200000011"},
    ),
    InboundCase(
        "post-url form",
        _get(id="post-1", sender="081200000012"),
        expect={"reporter.phone": "+6281200000012"},
    ),
    InboundCase(
        "post-url raw UCS-2 body with X-Kannel headers",
        UCS2,
        content_type="text/plain; charset=UTF-16BE",
        headers={
            "X-Kannel-From": "+6281200000013",
            "X-Kannel-To": "1708",
            "X-Kannel-Time": "1763780645",
            "X-Kannel-Coding": "2",
        },
        expect={
            "body": "Lampu jalan mati 😡 sudah seminggu",
            "received_at": "2025-11-22T03:04:05Z",
        },
    ),
    InboundCase(
        "%b binary UCS-2 text without charset",
        {**_get(id="ucs2-1", charset="", coding="2"), "text": "ꦗꦭꦤ꧀ ꦫꦸꦱꦏ꧀ 🚧".encode("utf-16-be")},
        method="GET",
        expect={"body": "ꦗꦭꦤ꧀ ꦫꦸꦱꦏ꧀ 🚧"},
    ),
    InboundCase(
        "iso-8859-1 text",
        _get(
            id="latin-1",
            charset="ISO-8859-1",
            text="Caf\u00e9 tutup, jalan rusak".encode("latin-1"),
        ),
        method="GET",
        expect={"body": "Café tutup, jalan rusak"},
    ),
    InboundCase(
        "1,000 characters reassembled by Kannel",
        _get(id="long-1", text=LONG_TEXT),
        method="GET",
        expect={"body": LONG_TEXT.strip()},
    ),
    InboundCase(
        "no id: keyed by content",
        _get(id="", text="Sampah di pasar"),
        method="GET",
        expect={"body": "Sampah di pasar"},
    ),
    InboundCase(
        "unix time",
        _get(id="unix-1", time="1763780645"),
        method="GET",
        expect={"received_at": "2025-11-22T03:04:05Z"},
    ),
    InboundCase(
        "a prefix word alone is held as empty",
        _get(id="empty-1", text="LAPOR"),
        method="GET",
        reports=0,
        inbound=1,
        held="empty",
    ),
    InboundCase(
        "an empty text is held, not refused",
        _get(id="empty-2", text=""),
        method="GET",
        reports=0,
        inbound=1,
        held="empty",
    ),
    InboundCase("missing sender", _get(id="x1", sender=""), method="GET", status=400, reports=0),
    InboundCase(
        "missing text",
        {k: v for k, v in GET_QUERY.items() if k != "text"},
        method="GET",
        status=400,
        reports=0,
    ),
    InboundCase(
        "unknown charset", _get(id="x2", charset="KLINGON-8"), method="GET", status=400, reports=0
    ),
    InboundCase("bad time", _get(id="x3", time="kemarin"), method="GET", status=400, reports=0),
    InboundCase(
        "text not valid in its charset",
        {**_get(id="x4", charset="UTF-8"), "text": b"\xff\xfe"},
        method="GET",
        status=400,
        reports=0,
    ),
]

channel_gateway = gateway_fixture(CHANNEL)


class TestKannelWebhook(PushChannelTests):
    """The channel's webhook: its labelled table and the cases every push channel passes."""

    channel = CHANNEL
    cases = INBOUND_CASES
    happy = "get-url from the user guide"
    malformed = "missing sender"


def test_get_is_405_on_post_only_channels(channel_gateway: Any) -> None:
    response = channel_gateway.client.get("/channels/web/inbound")
    assert response.status_code == 405


def test_secret_in_a_header_is_accepted(channel_gateway: Any) -> None:
    from tests.adapters.harness import send

    wire = CHANNEL.request(INBOUND_CASES[0])
    wire.headers["X-Kannel-Secret"] = SECRET
    assert send(channel_gateway, wire).status_code == 200


# --- pure parsing -------------------------------------------------------------------------


def _adapter(**extra: Any) -> KannelSmsAdapter:
    options = KannelOptions(
        name="sms-kannel", secret=SECRET, username="gateway", password=PASSWORD, **extra
    )
    return KannelSmsAdapter(options, public_url="http://127.0.0.1:8000")


def _request(query: str, body: bytes = b"", method: str = "GET") -> InboundRequest:
    return InboundRequest(
        method=method,
        url=f"http://127.0.0.1:8000/channels/sms-kannel/inbound?{query}",
        headers=CaseInsensitiveDict({}),
        body=body,
        received_at=dt.datetime(2026, 11, 22, tzinfo=dt.UTC),
    )


def test_parameter_names_are_configurable() -> None:
    adapter = _adapter(
        params={
            "sender": "from",
            "receiver": "to",
            "text": "msg",
            "time": "ts",
            "id": "mid",
            "charset": "cs",
            "coding": "cd",
        },
        secret_param="key",
        time_zone="Asia/Jakarta",
    )
    request = _request(
        urlencode(
            {
                "from": "081200000014",
                "to": "1708",
                "msg": "CEK LPR1234567",
                "ts": "2026-11-22 10:00:00",
                "mid": "m-1",
                "key": SECRET,
            }
        )
    )
    adapter.verify(request)
    (message,) = adapter.parse_inbound(request).messages
    assert message.external_id == "m-1"
    assert message.received_at == dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)
    assert message.draft.status_query == "LPR1234567"
    assert message.raw["query"] == {}  # the web layer fills `query`; here only the URL
    assert SECRET not in message.raw["url"]


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["sender", "receiver", "text", "time", "id", "charset", "coding"]),
        st.text(max_size=40),
    ),
    st.binary(max_size=80),
)
def test_any_parameters_parse_or_fail_cleanly(params: dict[str, str], text: bytes) -> None:
    query = urlencode(params)
    if "text" not in params:
        query += "&text=" + "".join(f"%{b:02X}" for b in text)
    try:
        result = _adapter().parse_inbound(_request(query))
    except PayloadInvalid:
        return
    (message,) = result.messages
    assert message.external_id
    assert message.draft.reply_to["phone"]


# --- replies through sendsms --------------------------------------------------------------


@pytest.fixture
def sendsms() -> Iterator[FakeServer]:
    answers: list[tuple[int, bytes]] = []

    def respond(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        status, body = answers.pop(0) if answers else (202, b"0: Accepted for delivery")
        return status, {"Content-Type": "text/html"}, body

    server = FakeServer(respond)
    server.answers = answers  # type: ignore[attr-defined]
    yield server
    server.stop()


def _reply(text: str) -> OutgoingReply:
    return OutgoingReply(
        reply_id="r1",
        report_id="rep1",
        tracking_id="LPR1234567",
        event="ack",
        text=text,
        reply_to={"phone": "+6281200000011", "to": "1708"},
        external_id="x",
    )


def _kannel_headers(seen: Seen) -> dict[str, str]:
    return {
        k.lower(): v.encode("latin-1").decode("utf-8")
        for k, v in seen.headers.items()
        if k.lower().startswith("x-kannel-")
    }


@pytest.mark.parametrize(
    "text, sent, coding",
    [
        ("Laporan diterima \u2013 LPR1234567", "Laporan diterima - LPR1234567", None),
        ("Tanggapan: ꦱꦩ꧀ꦥꦸꦤ꧀ 🙏", "Tanggapan: ꦱꦩ꧀ꦥꦸꦤ꧀ 🙏", "2"),
    ],
    ids=["gsm-7 text", "unicode text goes as UCS-2"],
)
def test_reply_through_sendsms(
    sendsms: FakeServer, text: str, sent: str, coding: str | None
) -> None:
    adapter = _adapter(
        sendsms_url=f"{sendsms.url}/cgi-bin/sendsms", dlr_url="http://127.0.0.1:8000/dlr?id=%i"
    )
    assert adapter.send_reply(_reply(text)) is None
    (seen,) = sendsms.seen
    # Nothing in the URL: the text is the body, the rest X-Kannel-* headers.
    assert (seen.method, seen.path) == ("POST", "/cgi-bin/sendsms")
    assert seen.headers["Content-Type"] == "text/plain; charset=UTF-8"
    assert seen.body.decode("utf-8") == sent
    headers = _kannel_headers(seen)
    assert headers.pop("x-kannel-coding", None) == coding
    assert headers == {
        "x-kannel-username": "gateway",
        "x-kannel-password": PASSWORD,
        "x-kannel-to": "+6281200000011",
        "x-kannel-from": "1708",
        "x-kannel-dlr-url": "http://127.0.0.1:8000/dlr?id=%i&sp4n_reply=r1",
        "x-kannel-dlr-mask": "31",
    }


def test_a_reply_sent_again_carries_the_same_reference(sendsms: FakeServer) -> None:
    adapter = _adapter(sendsms_url=f"{sendsms.url}/cgi-bin/sendsms", dlr_url="http://gw/dlr")
    adapter.send_reply(_reply("Laporan diterima"))
    adapter.send_reply(_reply("Laporan diterima"))
    other = _reply("Status: selesai")
    adapter.send_reply(OutgoingReply(**{**other.__dict__, "reply_id": "01OTHER"}))
    assert [_kannel_headers(s)["x-kannel-dlr-url"] for s in sendsms.seen] == [
        "http://gw/dlr?sp4n_reply=r1",
        "http://gw/dlr?sp4n_reply=r1",
        "http://gw/dlr?sp4n_reply=01OTHER",
    ]


def test_a_number_with_a_line_break_is_refused_not_sent(sendsms: FakeServer) -> None:
    adapter = _adapter(sendsms_url=f"{sendsms.url}/cgi-bin/sendsms")
    bad = _reply("x")
    with pytest.raises(SendError) as caught:
        adapter.send_reply(
            OutgoingReply(**{**bad.__dict__, "reply_to": {"phone": "+62812\r\nX-Kannel-To: 1"}})
        )
    assert not caught.value.retryable
    assert sendsms.seen == []


@pytest.mark.parametrize("status, retryable", [(403, False), (400, False), (503, True)])
def test_sendsms_errors(sendsms: FakeServer, status: int, retryable: bool) -> None:
    sendsms.answers.append((status, b"Authorization failed"))  # type: ignore[attr-defined]
    with pytest.raises(SendError) as caught:
        _adapter(sendsms_url=f"{sendsms.url}/cgi-bin/sendsms").send_reply(_reply("x"))
    assert caught.value.retryable is retryable


def test_unreachable_kannel_is_retryable_and_hides_the_password() -> None:
    from tests.helpers import free_port

    adapter = _adapter(sendsms_url=f"http://127.0.0.1:{free_port()}/cgi-bin/sendsms")
    with pytest.raises(SendError) as caught:
        adapter.send_reply(_reply("x"))
    assert caught.value.retryable
    assert PASSWORD not in str(caught.value) and caught.value.__cause__ is None


def test_replies_need_sendsms_credentials() -> None:
    with pytest.raises(ValueError, match="username"):
        KannelOptions(name="x", secret=SECRET)


# --- the secret in a form body, whatever the encoding of its values ----------------------


def _form_request(body: bytes) -> InboundRequest:
    return InboundRequest(
        method="POST",
        url="http://127.0.0.1:8000/channels/sms-kannel/inbound",
        headers=CaseInsensitiveDict({"Content-Type": "application/x-www-form-urlencoded"}),
        body=body,
        received_at=dt.datetime(2026, 11, 22, tzinfo=dt.UTC),
    )


FORM_HEAD = b"sender=%2B6281200000011&receiver=1708&id=form-1&time=2026-11-22+03%3A04%3A05"


@pytest.mark.parametrize(
    "body, text",
    [
        (
            FORM_HEAD + b"&charset=ISO-8859-1&secret=" + SECRET.encode() + b"&text=Caf\xe9 tutup",
            "Café tutup",
        ),
        (
            FORM_HEAD
            + b"&coding=2&charset=UTF-16BE&secret="
            + quote(SECRET, safe="").encode()
            + b"&text="
            + quote("Jalan \u201crusak\u201d \U0001f621".encode("utf-16-be"), safe="").encode(),
            "Jalan \u201crusak\u201d \U0001f621",
        ),
        (
            FORM_HEAD
            + b"&charset=windows-1252&text=%93parah%94&secret="
            + SECRET.encode()
            + b"&x=\xff\xfe",
            "\u201cparah\u201d",
        ),
    ],
    ids=["raw ISO-8859-1 bytes", "percent-encoded UCS-2 (%b)", "windows-1252, secret mid-form"],
)
def test_a_form_body_not_in_utf8_is_kept_without_the_secret(body: bytes, text: str) -> None:
    adapter = _adapter()
    request = _form_request(body)
    adapter.verify(request)
    (message,) = adapter.parse_inbound(request).messages
    assert message.draft.body == text
    kept = message.raw
    dumped = json.dumps(kept)
    assert SECRET not in dumped and quote(SECRET, safe="") not in dumped
    stored = (
        base64.b64decode(kept["body"]["base64"])
        if "base64" in kept["body"]
        else kept["body"]["text"].encode("utf-8")
    )
    for encoding in ("utf-8", "latin-1", "utf-16-be", "utf-16-le"):
        assert SECRET.encode(encoding) not in stored
    assert b"secret=%5Bredacted%5D" in stored
    # What is kept still reads as the same message (an admin's replay).
    again = InboundRequest.from_record(kept, request.received_at)
    (replayed,) = adapter.parse_inbound(again).messages
    assert replayed.draft.body == text and replayed.external_id == "form-1"


def test_debug_logs_of_a_reply_hold_neither_password_nor_number(
    sendsms: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    # Every logger at DEBUG, HTTP libraries included (the gateway holds those at WARNING;
    # this shows what they would say if it did not): the request line has nothing to hide.
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "requests"):
        caplog.set_level(logging.DEBUG, logger=name)
    _adapter(sendsms_url=f"{sendsms.url}/cgi-bin/sendsms").send_reply(_reply("Laporan diterima"))
    assert any(r.name.startswith("urllib3") for r in caplog.records), "urllib3 logged nothing"
    for value in (PASSWORD, quote(PASSWORD), "6281200000011", "gateway"):
        assert value not in caplog.text
