"""`twilio_sms`: webhook cases through the shared harness, replies through the real twilio
Client sent to a local fake of Twilio's Messages API, and property tests of the form parser."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import ipaddress
import json
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from adapters.base import CaseInsensitiveDict, InboundRequest, OutgoingReply
from adapters.sms.twilio_sms import EMPTY_TWIML, TwilioOptions, TwilioSmsAdapter
from store.models import Report, TimelineEvent
from tests.adapters.harness import (
    InboundCase,
    PushChannel,
    PushChannelTests,
    WireRequest,
    gateway_fixture,
    make_gateway,
    send,
)
from tests.adapters.sms.fakes import FakeServer, Seen, json_answer
from vocabulary.errors import Ignored, PayloadInvalid, SendError

PAYLOADS = Path(__file__).parent / "payloads"
ACCOUNT = "AC00000000000000000000000000000000"
TOKEN = "twilio-test-auth-token-5f3a9c"


def _sign(wire: WireRequest, token: str = TOKEN) -> WireRequest:
    params = (
        {k: v[-1] for k, v in parse_qs(wire.body.decode(), keep_blank_values=True).items()}
        if wire.content_type == "application/x-www-form-urlencoded"
        else {}
    )
    wire.headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(wire.url, params)
    return wire


def _forge(wire: WireRequest) -> WireRequest:
    return _sign(wire, "another-accounts-token")


CHANNEL = PushChannel(
    name="sms-twilio",
    yaml=f"""\
  - {{name: sms-twilio, type: twilio_sms, account_sid: {ACCOUNT},
      auth_token: "${{TWILIO_AUTH_TOKEN}}", number: "+621708",
      templates: ["ADUAN#nama#alamat#isi"]}}
""",
    env={"TWILIO_AUTH_TOKEN": TOKEN},
    secrets=[TOKEN],
    payload_dir=PAYLOADS,
    sign=_sign,
    forge=_forge,
)

LONG_TEXT = (
    "Jalan di desa kami rusak parah sejak musim hujan tahun lalu, banyak lubang"
    " besar dan genangan air. "
) * 10
UCS2_TEXT = "Lampu jalan mati 😡🚧 sudah seminggu, tolong diperbaiki 🙏"

INBOUND_CASES = [
    InboundCase(
        "sms from the docs",
        "twilio_sms_received.form",
        answer=EMPTY_TWIML,
        expect={
            "external_id": "SM00000000000000000000000000000001",
            "reporter.phone": "+6281200000001",
            "channel.type": "twilio_sms",
            "routing.agency": "upt-jalan",
        },
        reply_to={"phone": "+6281200000001", "to": "+621708", "e164": "+6281200000001"},
    ),
    InboundCase(
        "whatsapp location with profile name",
        "twilio_whatsapp_location.form",
        expect={
            "reporter.phone": "+6281200000002",
            "reporter.name": "Warga Contoh",
            "location.lat": -7.2504,
            "location.lon": 112.7688,
        },
        reply_to={
            "phone": "whatsapp:+6281200000002",
            "to": "whatsapp:+621708",
            "e164": "+6281200000002",
        },
    ),
    InboundCase(
        "mms with two media",
        "twilio_mms_received.form",
        expect={"body": "Foto sampah menumpuk di pasar"},
    ),
    InboundCase(
        "template fills name and address",
        {
            "MessageSid": "SM0000000000000000000000000000000a",
            "AccountSid": ACCOUNT,
            "From": "081200000004",
            "To": "+621708",
            "NumMedia": "0",
            "Body": "ADUAN#Budi#Jl. Merdeka 1#Jembatan retak",
        },
        expect={
            "reporter.name": "Budi",
            "reporter.address": "Jl. Merdeka 1",
            "body": "Jembatan retak",
            "reporter.phone": "+6281200000004",
        },
    ),
    InboundCase(
        "non-Latin text",
        {
            "MessageSid": "SM0000000000000000000000000000000b",
            "From": "+6281200000005",
            "To": "+621708",
            "Body": "ꦗꦭꦤ꧀ ꦫꦸꦱꦏ꧀ ing desa",
        },
        expect={"body": "ꦗꦭꦤ꧀ ꦫꦸꦱꦏ꧀ ing desa"},
    ),
    InboundCase(
        "1,000 characters from a multipart SMS",
        {
            "MessageSid": "SM0000000000000000000000000000000c",
            "From": "+6281200000006",
            "To": "+621708",
            "NumSegments": "7",
            "Body": LONG_TEXT,
        },
        expect={"body": LONG_TEXT.strip()},
    ),
    InboundCase(
        "emoji (UCS-2)",
        {
            "MessageSid": "SM0000000000000000000000000000000d",
            "From": "+6281200000007",
            "To": "+621708",
            "Body": UCS2_TEXT,
        },
        expect={"body": UCS2_TEXT},
    ),
    InboundCase(
        "short code sender keeps no reporter phone",
        {
            "MessageSid": "SM0000000000000000000000000000000e",
            "From": "1708",
            "To": "+621708",
            "Body": "Tes dari kode pendek",
        },
        expect={"reporter.phone": None},
        reply_to={"phone": "1708", "to": "+621708"},
    ),
    InboundCase(
        "a prefix word alone is held as empty",
        {
            "MessageSid": "SM0000000000000000000000000000001a",
            "From": "+6281200000001",
            "To": "+621708",
            "Body": "LAPOR",
        },
        reports=0,
        inbound=1,
        held="empty",
    ),
    InboundCase(
        "an empty body is held as empty",
        {
            "MessageSid": "SM0000000000000000000000000000001b",
            "From": "+6281200000001",
            "To": "+621708",
            "Body": "",
        },
        reports=0,
        inbound=1,
        held="empty",
    ),
    InboundCase("status callback is ignored", "twilio_status_callback.form", reports=0),
    InboundCase(
        "missing MessageSid", {"From": "+6281200000001", "Body": "x"}, status=400, reports=0
    ),
    InboundCase(
        "missing From",
        {"MessageSid": "SM0000000000000000000000000000000f", "Body": "x"},
        status=400,
        reports=0,
    ),
    InboundCase(
        "not a form", b'{"Body": "x"}', content_type="application/json", status=400, reports=0
    ),
    InboundCase(
        "bad NumMedia",
        {
            "MessageSid": "SM00000000000000000000000000000010",
            "From": "+6281200000001",
            "Body": "x",
            "NumMedia": "dua",
        },
        status=400,
        reports=0,
    ),
]

channel_gateway = gateway_fixture(CHANNEL)


class TestTwilioWebhook(PushChannelTests):
    """The channel's webhook: its labelled table and the cases every push channel passes."""

    channel = CHANNEL
    cases = INBOUND_CASES
    happy = "sms from the docs"
    malformed = "missing From"


def test_repeat_of_the_same_message_sid_is_one_report(channel_gateway: Any) -> None:
    from store.models import Report
    from tests.adapters.harness import send

    for _ in range(2):
        wire = CHANNEL.sign(CHANNEL.request(INBOUND_CASES[0]))
        assert send(channel_gateway, wire).status_code == 200
    assert len(channel_gateway.rows(Report)) == 1


# --- pure parsing -------------------------------------------------------------------------


def _adapter(**extra: Any) -> TwilioSmsAdapter:
    options = TwilioOptions(
        name="sms-twilio", account_sid=ACCOUNT, auth_token=TOKEN, number="+621708", **extra
    )
    return TwilioSmsAdapter(options, public_url="http://127.0.0.1:8000")


def _request(form: dict[str, str]) -> InboundRequest:
    return InboundRequest(
        method="POST",
        url="http://127.0.0.1:8000/channels/sms-twilio/inbound",
        headers=CaseInsensitiveDict({"Content-Type": "application/x-www-form-urlencoded"}),
        body=urlencode(form).encode(),
        received_at=dt.datetime.now(dt.UTC),
    )


@pytest.mark.parametrize(
    "body, status_query, in_reply_to",
    [
        ("STATUS LPR1234567", "LPR1234567", None),
        ("LPR1234567 sudah dua minggu belum diperbaiki", None, "LPR1234567"),
    ],
)
def test_status_query_and_follow_up_reach_the_draft(
    body: str, status_query: str | None, in_reply_to: str | None
) -> None:
    (message,) = (
        _adapter()
        .parse_inbound(_request({"MessageSid": "SM1", "From": "+6281200000001", "Body": body}))
        .messages
    )
    assert message.draft.status_query == status_query
    assert message.draft.in_reply_to == in_reply_to


def test_a_prefix_word_with_a_photo_is_a_complaint() -> None:
    body = (PAYLOADS / "twilio_mms_received.form").read_text()
    form = {k: v[-1] for k, v in parse_qs(body).items()} | {"Body": "LAPOR"}
    (message,) = _adapter().parse_inbound(_request(form)).messages
    assert message.hold is None
    assert message.draft.body == "[Pesan tanpa teks, berisi 2 lampiran media]"


def test_media_urls_are_kept_raw() -> None:
    body = (PAYLOADS / "twilio_mms_received.form").read_text()
    form = {k: v[-1] for k, v in parse_qs(body).items()}
    (message,) = _adapter().parse_inbound(_request(form)).messages
    assert [m["content_type"] for m in message.raw["media"]] == ["image/jpeg", "video/mp4"]
    assert message.raw["media"][0]["url"].startswith("https://api.twilio.com/")


def test_media_are_fetched_as_attachments_within_limits(db_url: str, tmp_path: Path) -> None:
    photo, video = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 12, b"v" * 5000

    def respond(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        media = {"/ME0": (photo, "image/jpeg"), "/ME1": (video, "video/mp4")}
        for suffix, (content, ctype) in media.items():
            if seen.path.endswith(suffix):
                return 200, {"Content-Type": ctype}, content
        return 404, {}, b""

    server = FakeServer(respond)
    channel = dataclasses.replace(
        CHANNEL,
        yaml=f"""\
  - {{name: sms-twilio, type: twilio_sms, account_sid: {ACCOUNT},
      auth_token: "${{TWILIO_AUTH_TOKEN}}", number: "+621708",
      api_base_url: "{server.url}", max_media_bytes: 4000}}
""",
    )
    sid = "MM00000000000000000000000000000001"
    base = f"{server.url}/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}/Media"
    form = {
        "MessageSid": sid,
        "AccountSid": ACCOUNT,
        "From": "+6281200000003",
        "To": "+621708",
        "Body": "Foto jalan berlubang",
        "NumMedia": "3",
        "MediaUrl0": f"{base}/ME0",
        "MediaContentType0": "image/jpeg",
        "MediaUrl1": f"{base}/ME1",
        "MediaContentType1": "video/mp4",
        "MediaUrl2": "http://169.254.169.254/latest/meta-data",
        "MediaContentType2": "image/png",
    }
    try:
        for gateway in make_gateway(db_url, tmp_path, channel):
            wire = channel.sign(channel.request(InboundCase("mms", form)))
            assert send(gateway, wire).status_code == 200
            (report,) = gateway.rows(Report)
            (attachment,) = report.payload["attachments"]
            assert attachment["sha256"] == hashlib.sha256(photo).hexdigest()
            assert attachment["filename"].startswith("media-0") and attachment["url"]
            notes = [
                e.detail["note"]
                for e in gateway.rows(TimelineEvent)
                if e.event == "normalizer_note"
            ]
            assert any("media 1 (video/mp4) not attached" in n and "limit" in n for n in notes)
            assert any(
                "media 2 (image/png) not attached: not at the Twilio API host" in n for n in notes
            )
    finally:
        server.stop()
    assert sorted(s.path.rsplit("/", 1)[1] for s in server.seen) == ["ME0", "ME1"]
    auth = base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    assert all(s.headers["Authorization"] == f"Basic {auth}" for s in server.seen)


def test_recipient_key_is_e164() -> None:
    adapter = _adapter()
    assert adapter.recipient_key({"phone": "whatsapp:+6281200000002"}) == "+6281200000002"
    assert adapter.recipient_key({"phone": "081200000002"}) == "+6281200000002"
    assert adapter.recipient_key({"phone": "1708"}) == "1708"


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "MessageSid",
                "From",
                "To",
                "Body",
                "NumMedia",
                "MediaUrl0",
                "MediaContentType0",
                "Latitude",
                "Longitude",
                "MessageStatus",
                "ProfileName",
            ]
        ),
        st.text(max_size=60),
    )
)
def test_any_form_parses_or_fails_cleanly(form: dict[str, str]) -> None:
    try:
        result = _adapter().parse_inbound(_request(form))
    except (PayloadInvalid, Ignored):
        return
    (message,) = result.messages
    assert message.external_id
    assert message.draft.reply_to["phone"] == form["From"].strip()


# --- replies through the real twilio Client -----------------------------------------------


@pytest.fixture
def twilio_api() -> Iterator[FakeServer]:
    recorded = json.loads((PAYLOADS / "twilio_message_created.json").read_text())
    answers: list[tuple[int, Any]] = []

    def respond(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        if answers:
            return json_answer(*answers.pop(0))
        form = {k: v[-1] for k, v in parse_qs(seen.body.decode()).items()}
        return json_answer(
            201, {**recorded, "to": form["To"], "from": form.get("From"), "body": form["Body"]}
        )

    server = FakeServer(respond)
    server.answers = answers  # type: ignore[attr-defined]
    yield server
    server.stop()


def _reply(text: str, phone: str = "+6281200000001", to: str = "+621708") -> OutgoingReply:
    return OutgoingReply(
        reply_id="r1",
        report_id="rep1",
        tracking_id="LPR1234567",
        event="ack",
        text=text,
        reply_to={"phone": phone, "to": to},
        external_id="SM1",
    )


def _form(seen: Seen) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(seen.body.decode()).items()}


def test_reply_goes_through_the_messages_api(twilio_api: FakeServer) -> None:
    adapter = _adapter(api_base_url=twilio_api.url)
    sid = adapter.send_reply(_reply("Laporan diterima \u2013 nomor lacak LPR1234567"))
    assert sid == "SM00000000000000000000000000000f01"
    (seen,) = twilio_api.seen
    assert seen.method == "POST"
    assert seen.path == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert _form(seen) == {
        "To": "+6281200000001",
        "From": "+621708",
        "Body": "Laporan diterima - nomor lacak LPR1234567",
    }
    expected = base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    assert seen.headers["Authorization"] == f"Basic {expected}"


def test_whatsapp_reply_comes_from_the_whatsapp_number(twilio_api: FakeServer) -> None:
    adapter = _adapter(api_base_url=twilio_api.url)
    adapter.send_reply(_reply("Terima kasih", "whatsapp:+6281200000002", "whatsapp:+621708"))
    assert _form(twilio_api.seen[0])["From"] == "whatsapp:+621708"
    assert _form(twilio_api.seen[0])["To"] == "whatsapp:+6281200000002"


def test_messaging_service_replaces_from(twilio_api: FakeServer) -> None:
    adapter = _adapter(
        api_base_url=twilio_api.url, messaging_service_sid="MG00000000000000000000000000000000"
    )
    adapter.send_reply(_reply("ok"))
    form = _form(twilio_api.seen[0])
    assert form["MessagingServiceSid"] == "MG00000000000000000000000000000000"
    assert "From" not in form


@pytest.mark.parametrize(
    "status, payload_file, retryable",
    [
        (400, "twilio_error_21211.json", False),
        (429, "twilio_error_20429.json", True),
        (503, None, True),
    ],
    ids=["invalid number is final", "rate limited retries", "server error retries"],
)
def test_twilio_errors_map_to_send_errors(
    twilio_api: FakeServer, status: int, payload_file: str | None, retryable: bool
) -> None:
    payload = (
        json.loads((PAYLOADS / payload_file).read_text())
        if payload_file
        else {"message": "Service Unavailable", "status": 503}
    )
    twilio_api.answers.append((status, payload))  # type: ignore[attr-defined]
    with pytest.raises(SendError) as caught:
        _adapter(api_base_url=twilio_api.url).send_reply(_reply("x"))
    assert caught.value.retryable is retryable
    assert TOKEN not in str(caught.value)


def test_unreachable_twilio_is_retryable() -> None:
    from tests.helpers import free_port

    adapter = _adapter(api_base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(SendError) as caught:
        adapter.send_reply(_reply("x"))
    assert caught.value.retryable


def test_long_reply_is_cut_to_max_parts(twilio_api: FakeServer) -> None:
    _adapter(api_base_url=twilio_api.url, max_reply_parts=2).send_reply(_reply("kata " * 200))
    body = _form(twilio_api.seen[0])["Body"]
    assert len(body) <= 306 and body.endswith("...")


def test_replies_need_a_sender() -> None:
    with pytest.raises(ValueError, match="number"):
        TwilioOptions(name="x", account_sid=ACCOUNT, auth_token=TOKEN)


# --- replies from several threads never leave the configured API host ------------------


@pytest.fixture
def foreign_hosts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every host name or address outside loopback that code tried to look up or reach.

    The suite's guard refuses non-loopback connects; this one also catches the name lookup
    that comes first (`api.twilio.com` may not resolve here, which would hide the attempt),
    records it and refuses it.
    """
    seen: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def loopback(host: Any) -> bool:
        try:
            return ipaddress.ip_address(str(host)).is_loopback
        except ValueError:
            return str(host) == "localhost"

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not loopback(host):
            seen.append(str(host))
            raise socket.gaierror(socket.EAI_NONAME, f"{host} is not loopback")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    return seen


def _race_replies(adapter: TwilioSmsAdapter, threads: int, per_thread: int, tag: str) -> list[str]:
    """Send from `threads` threads released at once; the errors they met, as text."""
    start = threading.Barrier(threads)
    errors: list[str] = []

    def send(worker: int) -> None:
        start.wait()
        for n in range(per_thread):
            reply = dataclasses.replace(_reply("Balasan"), reply_id=f"{tag}-{worker}-{n}")
            try:
                adapter.send_reply(reply)
            except SendError as exc:
                errors.append(str(exc))

    pool = [threading.Thread(target=send, args=(w,)) for w in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(30)
    return errors


def test_replies_from_many_threads_only_reach_api_base_url(
    twilio_api: FakeServer, foreign_hosts: list[str]
) -> None:
    # Four reply threads (the default `forwarder.concurrency`) and more, each round on a
    # fresh adapter so the first use of the client is the one raced; a tiny switch interval
    # makes threads interleave inside what used to be lazy set-up.
    threads, rounds, per_thread = 8, 12, 3
    errors: list[str] = []
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for round_no in range(rounds):
            adapter = _adapter(api_base_url=twilio_api.url)
            errors += _race_replies(adapter, threads, per_thread, f"r{round_no}")
    finally:
        sys.setswitchinterval(old_interval)
    assert foreign_hosts == []
    assert errors == []
    assert len(twilio_api.seen) == threads * rounds * per_thread
    assert {s.path for s in twilio_api.seen} == {f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"}


def test_a_request_outside_api_base_url_is_refused_before_it_is_made(
    twilio_api: FakeServer, foreign_hosts: list[str]
) -> None:
    adapter = _adapter(api_base_url=twilio_api.url)
    # Whatever the library ends up building, the credentials go nowhere else.
    adapter.client().api.base_url = "https://api.twilio.com"
    with pytest.raises(SendError) as caught:
        adapter.send_reply(_reply("x"))
    assert caught.value.retryable
    assert foreign_hosts == []
    assert twilio_api.seen == []


def test_each_reply_carries_a_stable_reference(twilio_api: FakeServer) -> None:
    adapter = _adapter(api_base_url=twilio_api.url)
    first = _reply("Laporan diterima")
    adapter.send_reply(first)
    # A crash between Twilio's acceptance and our record: the same reply goes again.
    _adapter(api_base_url=twilio_api.url).send_reply(first)
    adapter.send_reply(dataclasses.replace(first, reply_id="r2"))
    tokens = [s.headers.get("I-Twilio-Idempotency-Token") for s in twilio_api.seen]
    assert tokens == ["sp4n-reply-r1", "sp4n-reply-r1", "sp4n-reply-r2"]


def test_twilio_edge_and_region_in_the_environment_do_not_move_replies(
    twilio_api: FakeServer, foreign_hosts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The library reads these to rewrite the host (api.sydney.au1.twilio.com).
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    monkeypatch.setenv("TWILIO_REGION", "au1")
    _adapter(api_base_url=twilio_api.url).send_reply(_reply("Laporan diterima"))
    assert foreign_hosts == []
    assert len(twilio_api.seen) == 1
