"""The central's client: what goes on the wire, and what each answer becomes.

Against the sandbox for the contract's behaviour, and against a recording server where the
exact request matters (the sandbox ignores a reroute's hops; the contract does not).
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from forwarder.targets.lapor import LaporClient, SubmitError, parse_retry_after
from tests.adapters.sms.fakes import FakeServer, Seen, json_answer
from tests.forwarder.test_sandbox import report
from tests.helpers import AGENCIES, free_port, start_sandbox


@pytest.fixture
def sandbox_client(tmp_path: Path) -> Iterator[tuple[Any, LaporClient]]:
    server = start_sandbox(tmp_path)
    yield server, LaporClient(server.url + "/", "test-token", timeout=5)
    server.stop()


def test_a_report_its_status_and_the_agency_tree(
    sandbox_client: tuple[Any, LaporClient],
) -> None:
    _, client = sandbox_client
    first = client.submit(report(1))
    again = client.submit(report(1))
    assert first.tracking_id == again.tracking_id and first.status == "received"
    assert (first.replayed, again.replayed) == (False, True)
    assert first.received_at.endswith("Z")
    status = client.status(first.tracking_id)
    assert status["tracking_id"] == first.tracking_id and status["status"] == "received"
    assert [a["code"] for a in client.agencies()] == [a["code"] for a in AGENCIES]
    moved = client.reroute(first.tracking_id, "pemkab", "returned by nasional", ["nasional"])
    assert moved["agency"] == "pemkab" and moved["tracking_id"] == first.tracking_id
    second = client.submit(report(5))
    page = client.changes("2000-01-01T00:00:00Z", limit=1)
    assert len(page.items) == 1 and page.next_cursor
    rest = client.changes("2000-01-01T00:00:00Z", cursor=page.next_cursor, limit=1)
    assert {page.items[0]["tracking_id"], rest.items[0]["tracking_id"]} == {
        first.tracking_id,
        second.tracking_id,
    }


def test_refusals_say_whether_to_try_again(sandbox_client: tuple[Any, LaporClient]) -> None:
    server, client = sandbox_client
    with pytest.raises(SubmitError) as unknown:
        client.status("LPR0000000")
    assert (unknown.value.status, unknown.value.code, unknown.value.retryable) == (
        404,
        "not_found",
        False,
    )
    assert unknown.value.describe() == (
        "tidak ditemukan di pusat (HTTP 404, kode not_found): no report LPR0000000"
    )
    with pytest.raises(SubmitError) as invalid:
        client.submit({**report(2), "kind": "gosip"})
    assert invalid.value.field == "kind" and not invalid.value.retryable
    assert "isian `kind`" in invalid.value.describe()
    with pytest.raises(SubmitError) as refused:
        LaporClient(server.url, "wrong").agencies()
    assert (refused.value.status, refused.value.code) == (401, "unauthorized")
    with pytest.raises(SubmitError) as down:
        LaporClient(f"http://127.0.0.1:{free_port()}", "t").agencies()
    assert (down.value.code, down.value.retryable, down.value.status) == (
        "connection_error",
        True,
        None,
    )
    assert down.value.describe() == (
        "pusat tidak dapat dihubungi (kode connection_error): ConnectionError"
    )


def test_a_slow_central_is_a_timeout_worth_retrying() -> None:
    def slow(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        time.sleep(1.0)
        return json_answer(200, [])

    central = FakeServer(slow)
    try:
        with pytest.raises(SubmitError) as caught:
            LaporClient(central.url, "t", timeout=0.2).agencies()
    finally:
        central.stop()
    assert (caught.value.code, caught.value.retryable) == ("timeout", True)


def test_the_exact_requests(tmp_path: Path) -> None:
    central = FakeServer(lambda seen: json_answer(200, {"tracking_id": "LPR1", "agency": "x"}))
    try:
        client = LaporClient(central.url, "s3cret", timeout=5)
        assert client.reroute("LPR1", "pemkab", "returned", ["upt-jalan", "dinas-pupr"]) == {
            "tracking_id": "LPR1",
            "agency": "x",
        }
        client.followup("LPR1", "01FOLLOWUP", {"id": "01FOLLOWUP", "body": "Foto"})
    finally:
        central.stop()
    reroute, followup = central.seen
    assert (reroute.method, reroute.path) == ("POST", "/api/v1/reports/LPR1/reroute")
    assert json.loads(reroute.body) == {
        "agency": "pemkab",
        "reason": "returned",
        "hops": ["upt-jalan", "dinas-pupr"],
    }
    assert reroute.headers["Authorization"] == "Bearer s3cret"
    assert reroute.headers["User-Agent"] == "sp4n-gateway"
    assert (followup.method, followup.path) == ("POST", "/api/v1/reports/LPR1/followups")
    assert followup.headers["Idempotency-Key"] == "01FOLLOWUP"
    assert json.loads(followup.body) == {"id": "01FOLLOWUP", "body": "Foto"}


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ((200, {"Content-Type": "text/html"}, b"<html>maintenance</html>"), "bad_answer"),
        (json_answer(201, {"status": "received"}), "bad_answer"),
        ((503, {"Retry-After": "7"}, b"down"), "http_error"),
    ],
    ids=["not-json", "no-tracking-id", "no-error-body"],
)
def test_a_misbehaving_central_is_tried_again(
    answer: tuple[int, dict[str, str], bytes], code: str
) -> None:
    central = FakeServer(lambda seen: answer)
    try:
        with pytest.raises(SubmitError) as caught:
            LaporClient(central.url, "t").submit(report(3))
    finally:
        central.stop()
    assert caught.value.code == code and caught.value.retryable
    assert caught.value.status == answer[0]
    assert caught.value.retry_after == (7.0 if answer[0] == 503 else None)
    if answer[2].startswith(b"<html>"):
        assert str(caught.value) == "answer is not JSON"  # what the admin reads in last_error


def test_retry_after_is_read_in_both_forms_and_capped() -> None:
    assert parse_retry_after(None) is None and parse_retry_after("") is None
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after("99999") == 3600.0
    assert parse_retry_after("soon") is None
    later = email.utils.formatdate(time.time() + 90, usegmt=True)
    assert 85.0 <= (parse_retry_after(later) or 0) <= 90.0
    past = email.utils.formatdate(time.time() - 90, usegmt=True)
    assert parse_retry_after(past) == 0.0
    naive = email.utils.formatdate(time.time() + 90, usegmt=True).replace(" GMT", " -0000")
    assert 85.0 <= (parse_retry_after(naive) or 0) <= 90.0


def test_a_receipt_without_received_at_and_the_default_page_size() -> None:
    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        if seen.method == "POST":
            return json_answer(201, {"tracking_id": "LPR9", "status": "received"})
        return json_answer(200, {"items": [], "next_cursor": None})

    central = FakeServer(answer)
    try:
        client = LaporClient(central.url, "t", timeout=5)
        receipt = client.submit(report(4))
        page = client.changes("2026-11-30T00:00:00Z")
    finally:
        central.stop()
    # The contract's received_at is optional: absent, it is empty (never the text "None").
    assert (receipt.tracking_id, receipt.received_at, receipt.replayed) == ("LPR9", "", False)
    assert (page.items, page.next_cursor) == ([], None)
    _, changes = central.seen
    assert changes.path == "/api/v1/reports?updated_since=2026-11-30T00%3A00%3A00Z&limit=100"
