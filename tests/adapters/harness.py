"""A shared harness for push adapters: a table of labelled webhook cases, plus the cases every
push channel must pass whatever its provider (unknown channel, bad signature, secret kept out
of the inbound log and the logs).

An adapter's test module describes its channel once (`PushChannel`: YAML entry, environment,
how a genuine request is signed and how a forged one looks) and a list of `InboundCase`, then
subclasses `PushChannelTests` naming them (see its docstring).
Requests go through the real Flask app into a real database (SQLite and PostgreSQL).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlencode

import pytest

from store.models import ForwardItem, InboundMessage, Report
from tests.conftest import GatewayHarness
from tests.helpers import WEB_SECRET, config_text
from tests.language import assert_indonesian

PUBLIC_URL = "http://127.0.0.1:8000"  # gateway.public_url in tests.helpers.config_text


@dataclass
class WireRequest:
    """One HTTP request as the provider would send it."""

    method: str
    path: str  # with the query string
    body: bytes
    headers: dict[str, str]
    content_type: str | None

    @property
    def url(self) -> str:
        """The URL the gateway rebuilds from its public_url (what providers sign)."""
        return PUBLIC_URL + self.path


@dataclass
class InboundCase:
    """One labelled webhook request and what must come of it."""

    label: str
    payload: dict[str, Any] | str | bytes  # form fields (str or raw bytes values), a file in
    #                                        payloads/, or a raw body
    method: str = "POST"
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "application/x-www-form-urlencoded"
    signed: bool = True
    status: int = 200
    reports: int = 1
    inbound: int | None = None  # rows in the inbound log; default: `reports`, or 1 on 400
    expect: dict[str, Any] = field(default_factory=dict)  # dotted paths into the report
    reply_to: dict[str, str] | None = None  # the report's reply coordinates
    answer: bytes | None = None  # exact answer body
    error_field: str | None = None  # the field a 400 names
    held: str | None = None  # the message is kept in quarantine with this reason


@dataclass
class PushChannel:
    """How one adapter's channel is configured and how its provider signs requests."""

    name: str
    yaml: str  # the channel's entry, as an item of `channels:`
    env: dict[str, str]
    secrets: list[str]  # values that must never be stored or logged
    payload_dir: Path
    sign: Callable[[WireRequest], WireRequest]  # a genuine request
    forge: Callable[[WireRequest], WireRequest]  # the same request, wrongly signed

    def request(self, case: InboundCase) -> WireRequest:
        """The case as an unsigned wire request."""
        payload = case.payload
        if isinstance(payload, str):
            payload = (self.payload_dir / payload).read_bytes()
        body = payload if isinstance(payload, bytes) else urlencode(payload).encode()
        path = f"/channels/{self.name}/inbound"
        if case.query:
            path += "?" + urlencode(case.query)
        if case.method == "GET":
            if isinstance(case.payload, dict):
                path += ("&" if "?" in path else "?") + urlencode(case.payload)
            body = b""
        return WireRequest(
            case.method,
            path,
            body,
            dict(case.headers),
            case.content_type if case.method == "POST" else None,
        )


def make_gateway(db_url: str, tmp_path: Path, channel: PushChannel) -> Iterator[GatewayHarness]:
    """A gateway (no central: nothing is forwarded) with the channel configured."""
    from config.loader import parse_config
    from gateway.runtime import build_runtime
    from tests.helpers import free_port

    # The channel entry goes last, under `channels:` (config_text would dedent it).
    text = config_text(db_url, f"http://127.0.0.1:{free_port()}") + channel.yaml
    env = {"WEB_SECRET": WEB_SECRET, "CENTRAL_TOKEN": "test-token", **channel.env}
    runtime = build_runtime(parse_config(text, "test.yaml", env), base_dir=tmp_path)
    assert channel.name in runtime.adapters, f"channel {channel.name} did not start"
    harness = GatewayHarness(runtime, None)
    yield harness
    harness.forwarder.close()
    runtime.close()


def send(gateway: GatewayHarness, wire: WireRequest) -> Any:
    """Send a wire request through the Flask app."""
    kwargs: dict[str, Any] = {"method": wire.method, "headers": wire.headers}
    if wire.method != "GET":
        kwargs["data"] = wire.body
        if wire.content_type:
            kwargs["content_type"] = wire.content_type
    return gateway.client.open(wire.path, **kwargs)


def _get(payload: dict[str, Any], dotted: str) -> Any:
    node: Any = payload
    for part in dotted.split("."):
        node = node[part]
    return node


def run_case(gateway: GatewayHarness, channel: PushChannel, case: InboundCase) -> None:
    """Send one case and check the answer and what was stored."""
    wire = channel.request(case)
    wire = channel.sign(wire) if case.signed else wire
    response = send(gateway, wire)
    assert response.status_code == case.status, response.get_data(as_text=True)
    if case.answer is not None:
        assert response.get_data() == case.answer
    if case.error_field is not None:
        assert response.get_json()["error"]["field"] == case.error_field
    error = response.get_json().get("error") if response.is_json else None
    if isinstance(error, dict):
        # What the sender reads, beside the machine `code`: Bahasa Indonesia (issue 11.8).
        assert_indonesian(error["message"])
    if case.status == 400 and isinstance(error, dict) and "inbound_id" in error:
        # Rejected input is kept, raw, for an admin to fix and replay; the answer names it.
        (row,) = [r for r in gateway.rows(InboundMessage) if r.id == error["inbound_id"]]
        assert row.state == "rejected" and row.error and row.raw
        # The reason is what the admin and the sender read: Bahasa Indonesia (issue 11.8).
        assert row.error == error["message"]
        assert_indonesian(row.error)
    reports = gateway.rows(Report)
    assert len(reports) == case.reports
    assert len(gateway.rows(ForwardItem)) == case.reports
    inbound = (
        case.inbound if case.inbound is not None else (1 if case.status == 400 else case.reports)
    )
    kept = gateway.rows(InboundMessage)
    assert len(kept) == inbound
    if case.held is not None:
        assert [(m.state, m.hold_reason) for m in kept] == [("quarantined", case.held)]
    if reports:
        payload = reports[0].payload
        for key, value in case.expect.items():
            assert _get(payload, key) == value, key
        if case.reply_to is not None:
            assert reports[0].reply_to == case.reply_to


SHARED_CASES = [
    "unknown channel",
    "bad signature",
    "missing signature",
    "secret not stored nor logged",
    "secret not stored when rejected",
]


def run_shared_case(
    gateway: GatewayHarness,
    channel: PushChannel,
    happy: InboundCase,
    malformed: InboundCase,
    label: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One of the cases every push channel must pass."""
    caplog.set_level(logging.DEBUG)
    wire = channel.sign(channel.request(happy))
    if label == "unknown channel":
        wire.path = wire.path.replace(f"/channels/{channel.name}/", "/channels/no-such-sms/")
        response = send(gateway, wire)
        assert response.status_code == 404
        assert_indonesian(response.get_json()["error"]["message"])
        assert gateway.rows(InboundMessage) == []
        return
    if label in ("bad signature", "missing signature"):
        forged = channel.forge(wire) if label == "bad signature" else channel.request(happy)
        response = send(gateway, forged)
        assert response.status_code == 403, response.get_data(as_text=True)
        assert_indonesian(response.get_json()["error"]["message"])
        assert gateway.rows(InboundMessage) == []
        assert gateway.rows(Report) == []
        return
    if label == "secret not stored when rejected":
        wire = channel.sign(channel.request(malformed))
        assert send(gateway, wire).status_code == 400
    else:
        assert send(gateway, wire).status_code == happy.status
    rows = gateway.rows(InboundMessage)
    assert rows, "the request must be kept"
    kept = json.dumps([r.raw for r in rows], ensure_ascii=False)
    for secret in channel.secrets:
        assert secret not in kept
        assert secret not in caplog.text
        assert secret not in json.dumps([r.payload for r in gateway.rows(Report)])


class PushChannelTests:
    """Base of an adapter's webhook test class: its table of cases, plus the shared cases.

    A module subclasses it once, naming its channel and table:

        class TestTwilioWebhook(PushChannelTests):
            channel = CHANNEL
            cases = INBOUND_CASES
            happy, malformed = "sms from the docs", "missing From"

    and pytest collects `test_inbound_case[<label>]` and `test_shared_case[<label>]` for it,
    on SQLite and PostgreSQL. `happy` and `malformed` name table cases the shared ones reuse.
    """

    channel: ClassVar[PushChannel]
    cases: ClassVar[list[InboundCase]]
    happy: ClassVar[str]
    malformed: ClassVar[str]
    shared_cases: ClassVar[list[str]] = SHARED_CASES

    @staticmethod
    def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
        """Parametrize the two tests from the subclass's own table."""
        cls = metafunc.cls
        if cls is None:
            return
        if "case" in metafunc.fixturenames:
            metafunc.parametrize("case", cls.cases, ids=[c.label for c in cls.cases])
        if "label" in metafunc.fixturenames:
            metafunc.parametrize("label", cls.shared_cases)

    @pytest.fixture
    def channel_gateway(self, db_url: str, tmp_path: Path) -> Iterator[GatewayHarness]:
        """A gateway with this class's channel configured."""
        yield from make_gateway(db_url, tmp_path, self.channel)

    def test_inbound_case(self, channel_gateway: GatewayHarness, case: InboundCase) -> None:
        """One labelled request of the table."""
        run_case(channel_gateway, self.channel, case)

    def test_shared_case(
        self, channel_gateway: GatewayHarness, label: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        """One of the cases every push channel must pass."""
        by_label = {c.label: c for c in self.cases}
        run_shared_case(
            channel_gateway,
            self.channel,
            by_label[self.happy],
            by_label[self.malformed],
            label,
            caplog,
        )


def gateway_fixture(channel: PushChannel) -> Any:
    """A module-level `channel_gateway` fixture for a module's other tests on the channel."""

    @pytest.fixture
    def channel_gateway(db_url: str, tmp_path: Path) -> Iterator[GatewayHarness]:
        yield from make_gateway(db_url, tmp_path, channel)

    return channel_gateway
