"""`kannel_sms`: Kannel's get-url/post-url cases through the shared harness, sendsms replies
to a local fake of Kannel's HTTP interface, and property tests of the parameter parser."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

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


def _query(seen: Seen) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(seen.path).query).items()}


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
    query = _query(seen)
    assert urlsplit(seen.path).path == "/cgi-bin/sendsms"
    assert (query["username"], query["password"], query["to"], query["from"]) == (
        "gateway",
        PASSWORD,
        "+6281200000011",
        "1708",
    )
    assert query["text"] == sent and query["charset"] == "UTF-8"
    assert query.get("coding") == coding
    assert query["dlr-mask"] == "31"


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
