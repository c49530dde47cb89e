"""One bad request fails alone: hostile or odd input is answered 400 and kept, never 500.

Issue 8.1. Each request here is a well-known way to make a parser or a database give up:
deep nesting, huge numbers, times that overflow, NUL characters that PostgreSQL refuses,
keys longer than their column. Each must be answered 400 naming the problem, with the raw
input kept as rejected for an admin; and neighbours sharing its group-commit batch are not
affected.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from store.models import InboundMessage, Report
from tests.conftest import GatewayHarness
from tests.language import assert_indonesian

DEEP = ("[" * 5000 + "]" * 5000).encode()

HOSTILE: list[tuple[str, str | bytes, str | None]] = [
    (
        "external id over its column",
        json.dumps({"body": "Jalan rusak", "external_id": "x" * 300}),
        "external_id",
    ),
    ("json nested 5000 deep", b'{"body": "Jalan rusak", "extra": ' + DEEP + b"}", None),
    ("a 5000-digit number", b'{"body": "Jalan rusak", "lat": ' + b"9" * 5000 + b"}", None),
    (
        "received_at in year 1 east of UTC",
        json.dumps({"body": "Jalan rusak", "received_at": "0001-01-01T00:00:00+14:00"}),
        "received_at",
    ),
    (
        "NUL in the body text",
        json.dumps({"body": "Jalan\u0000rusak", "external_id": "nul-1"}),
        "body",
    ),
    ("NUL in the name", json.dumps({"body": "Jalan rusak", "name": "Bu\u0000di"}), "name"),
    (
        "NUL in the external id",
        json.dumps({"body": "Jalan rusak", "external_id": "a\u0000b"}),
        "external_id",
    ),
    ("lone surrogate in the body", b'{"body": "Jalan \\ud800 rusak"}', "body"),
    ("raw NUL byte in the JSON", b'{"body": "Jalan rusak",\x00 "name": "x"}', None),
]


def _rejected(gateway: GatewayHarness) -> list[InboundMessage]:
    return [r for r in gateway.rows(InboundMessage) if r.state == "rejected"]


@pytest.mark.parametrize(("label", "body", "field"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_body_is_400_and_kept(
    intake_gateway: GatewayHarness, label: str, body: str | bytes, field: str | None
) -> None:
    data = body.encode() if isinstance(body, str) else body
    response = intake_gateway.post("web", data=data)
    assert response.status_code == 400, (label, response.get_data(as_text=True)[:300])
    error = response.get_json()["error"]
    assert error["code"] == "invalid_payload"
    if field is not None:
        assert error["field"] == field
    (kept,) = _rejected(intake_gateway)
    assert kept.id == error["inbound_id"] and kept.error
    # The reason on the repair page and in the answer is Bahasa Indonesia (issue 11.8).
    assert kept.error == error["message"]
    assert_indonesian(kept.error)
    assert intake_gateway.rows(Report) == []
    # The raw body is kept whole: what was refused can be read again after a fix.
    assert kept.raw["body"], "the raw request must be kept"


def _mixed_requests(count: int) -> list[tuple[bytes, bool]]:
    """Well-formed posts with every eighth one hostile in turn."""
    requests: list[tuple[bytes, bool]] = []
    for i in range(count):
        if i % 8 == 7:
            _, body, _ = HOSTILE[(i // 8) % len(HOSTILE)]
            data = body.encode() if isinstance(body, str) else body
            requests.append((data, False))
        else:
            good = {"body": f"Lampu jalan mati di gang {i}", "external_id": f"mix-{i}"}
            requests.append((json.dumps(good).encode(), True))
    return requests


def test_concurrent_neighbours_of_a_bad_request_are_stored(
    intake_gateway: GatewayHarness,
) -> None:
    """140 concurrent posts sharing group-commit batches: only the bad ones fail."""
    requests = _mixed_requests(140)
    local = threading.local()

    def post(item: tuple[bytes, bool]) -> tuple[int, bool]:
        if not hasattr(local, "client"):
            local.client = intake_gateway.app.test_client()
        response = local.client.post(
            "/channels/web/inbound", data=item[0], content_type="application/json"
        )
        return response.status_code, item[1]

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(post, requests))
    assert all(status < 500 for status, _ in results), results
    assert all(status == 201 for status, good in results if good)
    assert all(status == 400 for status, good in results if not good)
    good = sum(1 for _, ok in requests if ok)
    assert len(intake_gateway.rows(Report)) == good
    assert len(_rejected(intake_gateway)) == len(requests) - good


def test_a_failing_batch_is_retried_job_by_job(sqlite_url: str, tmp_path: Any) -> None:
    """The writer's fallback: whatever fails a batch, only the job that causes it fails."""
    from sqlalchemy.exc import DataError

    from gateway.intake.writer import GroupCommitWriter, WriteJob
    from store import migrate
    from store.db import make_engine, make_sessionmaker

    engine = make_engine(sqlite_url, base_dir=tmp_path)
    migrate.upgrade(engine)
    sessions = make_sessionmaker(engine)
    started = threading.Barrier(6)
    stored: list[str] = []

    def store(session: Any, jobs: Any) -> None:
        for job in jobs:
            if job.plans == ["poison"]:
                raise DataError("INSERT", {}, ValueError("value too long"))
            job.outcomes = []
        stored.extend(str(job.plans[0]) for job in jobs)

    writer = GroupCommitWriter(sessions, store, max_batch=64)
    results: dict[str, Any] = {}

    def run(name: str) -> None:
        started.wait()
        try:
            job = WriteJob(adapter=None, plans=[name])  # type: ignore[arg-type,list-item]
            results[name] = writer.run(job)
        except Exception as exc:
            results[name] = exc

    names = ["a", "b", "poison", "c", "d", "e"]
    threads = [threading.Thread(target=run, args=(n,)) for n in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    from vocabulary.errors import PayloadInvalid

    assert isinstance(results["poison"], PayloadInvalid)
    assert all(results[n] == [] for n in names if n != "poison")
    assert sorted(set(stored)) == ["a", "b", "c", "d", "e"]
