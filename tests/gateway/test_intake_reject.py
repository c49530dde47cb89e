"""Input that cannot be read is kept, raw, with its error: once per polled message, any time.

A webhook's rejected request has no key (a corrected resend is not a repeat); a polled
message keeps its key so the next poll recognises it, unless the key cannot be stored.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import pytest

from store.cursors import load_cursor
from store.models import InboundMessage, utcnow
from tests.conftest import GatewayHarness
from vocabulary.errors import PayloadInvalid

WIB = dt.timezone(dt.timedelta(hours=7))


def kept(harness: GatewayHarness, inbound_id: str) -> InboundMessage:
    with harness.runtime.sessions() as session:
        row = session.get(InboundMessage, inbound_id)
    assert row is not None
    return row


def test_a_polled_message_is_kept_once_with_its_key_and_cursor(
    intake_gateway: GatewayHarness,
) -> None:
    intake = intake_gateway.runtime.intake
    when = dt.datetime(2026, 11, 30, 9, 0, tzinfo=WIB)
    error = PayloadInvalid("isi pesan kosong", field="body")
    first = intake.reject("legacy", {"id": 7}, error, when, "row-7", ("legacy:cursor", "7"))
    again = intake.reject("legacy", {"id": 7}, error, when, "row-7", ("legacy:cursor", "8"))
    assert again == first  # the next poll finds the kept row, not a second one
    row = kept(intake_gateway, first)
    assert (row.channel, row.external_id, row.state) == ("legacy", "row-7", "rejected")
    assert (row.error, row.error_field, row.raw) == ("isi pesan kosong", "body", {"id": 7})
    assert row.received_at == when
    with intake_gateway.runtime.sessions() as session:
        assert load_cursor(session, "legacy:cursor") == "7"  # moved with the stored row only
    metrics = intake_gateway.client.get("/metrics").get_data(as_text=True)
    assert 'sp4n_inbound_messages_total{channel="legacy",result="rejected"} 1.0' in metrics


def test_webhook_input_has_no_key_and_is_kept_each_time(
    intake_gateway: GatewayHarness,
) -> None:
    intake = intake_gateway.runtime.intake
    error = PayloadInvalid("bukan JSON", field="")
    first = intake.reject("web", {"body": "{"}, error)
    second = intake.reject("web", {"body": "{"}, error)
    assert first != second
    for inbound_id in (first, second):
        row = kept(intake_gateway, inbound_id)
        assert row.external_id is None and row.error_field is None


@pytest.mark.parametrize(
    ("external_id", "stored"),
    [("k" * 255, "k" * 255), ("k" * 256, None), ("row\x00-1", None), ("", None)],
    ids=["255-chars", "256-chars", "nul", "empty"],
)
def test_a_key_the_column_cannot_hold_is_dropped(
    intake_gateway: GatewayHarness, external_id: str, stored: str | None
) -> None:
    error = PayloadInvalid("x", field="f" * 300)
    inbound_id = intake_gateway.runtime.intake.reject("legacy", {}, error, None, external_id)
    row = kept(intake_gateway, inbound_id)
    assert row.external_id == stored and row.error_field == "f" * 255


@pytest.mark.parametrize(
    ("received_at", "usable"),
    [
        (dt.datetime(1900, 1, 1, tzinfo=dt.UTC), True),
        (dt.datetime(1899, 12, 31, 23, 0, tzinfo=dt.UTC), False),
        (dt.datetime(2026, 11, 30, 9, 0), False),  # naive: no zone to read it in
        (dt.datetime(1, 1, 1, tzinfo=WIB), False),  # before year 1 in UTC
        (None, False),
    ],
    ids=["1900", "1899", "naive", "year-1", "none"],
)
def test_an_unusable_time_becomes_the_time_it_was_kept(
    intake_gateway: GatewayHarness, received_at: dt.datetime | None, usable: bool
) -> None:
    before = utcnow()
    error = PayloadInvalid("x")
    inbound_id = intake_gateway.runtime.intake.reject("web", {}, error, received_at)
    row = kept(intake_gateway, inbound_id)
    if usable:
        assert row.received_at == received_at
    else:
        assert before <= row.received_at <= utcnow()
