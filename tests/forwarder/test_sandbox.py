"""The sandbox central over real HTTP, endpoint by endpoint against central-api.yaml."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from forwarder.sandbox import SandboxServer, SandboxSettings
from tests.helpers import AGENCIES, CONTRACTS, SHARED

AUTH = {"Authorization": "Bearer t0ken"}


def report(n: int = 1, agency: str = "nasional", **extra: Any) -> dict[str, Any]:
    return {
        "schema_version": "1",
        "id": f"01JTESTREPORT{n:013d}",
        "channel": {"name": "web", "type": "webform"},
        "external_id": f"e-{n}",
        "received_at": "2026-11-22T00:00:00Z",
        "kind": "pengaduan",
        "title": f"Judul {n}",
        "body": "Isi laporan",
        "reporter": {},
        "privacy": {"anonymous": False, "confidential": False},
        "routing": {"agency": agency, "reason": "default", "hops": []},
        **extra,
    }


@pytest.fixture
def central(tmp_path: Path) -> Iterator[Any]:
    server = SandboxServer(
        SandboxSettings(
            token="t0ken",
            db_path=str(tmp_path / "sb.db"),
            agencies=AGENCIES,
            return_agency="upt-jalan",
        ),
        port=0,
    )
    server.start()
    yield server
    server.stop()


def post(
    central: Any, body: Any, key: str | None = None, token: dict[str, str] = AUTH
) -> requests.Response:
    headers = dict(token)
    if key is not None:
        headers["Idempotency-Key"] = key
    return requests.post(f"{central.url}/api/v1/reports", json=body, headers=headers, timeout=5)


@pytest.mark.parametrize("name", ["report.schema.json", "central-api.yaml"])
def test_contract_copies_are_the_shared_ones(name: str) -> None:
    """The repo keeps the binding contracts; beside ../shared they must be byte-equal."""
    kept = CONTRACTS / name
    loaded = (
        json.loads(kept.read_text()) if name.endswith(".json") else yaml.safe_load(kept.read_text())
    )
    assert isinstance(loaded, dict) and loaded  # a real copy, not an empty placeholder
    shared = SHARED / "contracts" / name
    if shared.exists():
        assert kept.read_bytes() == shared.read_bytes()


def test_auth_is_required(central: Any) -> None:
    r = post(central, report(), report()["id"], token={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    assert requests.get(f"{central.url}/api/v1/agencies", timeout=5).status_code == 401


def test_submit_replay_and_conflict(central: Any) -> None:
    body = report()
    first = post(central, body, body["id"])
    assert first.status_code == 201
    receipt = first.json()
    assert receipt["status"] == "received" and receipt["tracking_id"].startswith("LPR")
    again = post(central, body, body["id"])
    assert again.status_code == 200 and again.json() == receipt
    changed = post(central, {**body, "title": "Lain"}, body["id"])
    assert changed.status_code == 409 and changed.json()["error"]["code"] == "conflict"


@pytest.mark.parametrize(
    ("body", "key", "field"),
    [
        (report(kind="lain"), report()["id"], "kind"),
        ({k: v for k, v in report().items() if k != "body"}, report()["id"], None),
        (report(), None, "Idempotency-Key"),
        (report(), "another-key-123", "id"),
        (report(received_at="gestern"), report()["id"], "received_at"),
    ],
    ids=["bad enum", "missing body", "no key", "key differs from id", "not a date-time"],
)
def test_invalid_reports_are_422(
    central: Any, body: dict[str, Any], key: str | None, field: str | None
) -> None:
    r = post(central, body, key)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_report"
    assert r.json()["error"]["field"] == field


def test_out_of_authority_does_not_bind_the_key(central: Any) -> None:
    body = report(agency="upt-jalan")
    refused = post(central, body, body["id"])
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "out_of_authority"
    parent = {
        **body,
        "routing": {
            "agency": "dinas-pupr",
            "reason": "returned by upt-jalan",
            "hops": ["upt-jalan"],
        },
    }
    assert post(central, parent, body["id"]).status_code == 201


def set_status(central: Any, tid: str, status: str, **extra: Any) -> None:
    r = requests.post(
        f"{central.url}/sandbox/reports/{tid}/status", json={"status": status, **extra}, timeout=5
    )
    assert r.status_code == 200, r.text


def test_changes_feed_pages_with_a_cursor(central: Any) -> None:
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)).isoformat()
    tids = [post(central, report(n), report(n)["id"]).json()["tracking_id"] for n in range(5)]
    set_status(central, tids[0], "verified", note="cek")
    requests.post(
        f"{central.url}/sandbox/reports/{tids[1]}/responses",
        json={"text": "Sudah ditangani", "agency": "pemkab"},
        timeout=5,
    )
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"updated_since": since, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = requests.get(
            f"{central.url}/api/v1/reports", params=params, headers=AUTH, timeout=5
        ).json()
        pages += 1
        seen += [item["tracking_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == 3
    assert sorted(seen) == sorted(tids) and len(seen) == 5
    assert seen[-2:] == [tids[0], tids[1]]  # the changed ones come last, oldest change first
    one = requests.get(f"{central.url}/api/v1/reports/{tids[1]}", headers=AUTH, timeout=5).json()
    assert one["responses"][0]["text"] == "Sudah ditangani"
    assert one["gateway_id"] == report(1)["id"]
    bad = requests.get(
        f"{central.url}/api/v1/reports",
        params={"updated_since": "kemarin"},
        headers=AUTH,
        timeout=5,
    )
    assert bad.status_code == 422


def test_reroute_keeps_the_tracking_id(central: Any) -> None:
    tid = post(central, report(agency="dinas-pupr"), report()["id"]).json()["tracking_id"]
    r = requests.post(
        f"{central.url}/api/v1/reports/{tid}/reroute",
        headers=AUTH,
        timeout=5,
        json={"agency": "pemkab", "reason": "returned by dinas-pupr", "hops": ["dinas-pupr"]},
    )
    assert r.status_code == 200
    assert r.json()["tracking_id"] == tid and r.json()["agency"] == "pemkab"
    refused = requests.post(
        f"{central.url}/api/v1/reports/{tid}/reroute",
        headers=AUTH,
        timeout=5,
        json={"agency": "upt-jalan", "reason": "x"},
    )
    assert refused.json()["error"]["code"] == "out_of_authority"
    missing = requests.post(
        f"{central.url}/api/v1/reports/LPR0/reroute",
        headers=AUTH,
        timeout=5,
        json={"agency": "pemkab", "reason": "x"},
    )
    assert missing.status_code == 404


def test_followups_are_idempotent(central: Any) -> None:
    tid = post(central, report(), report()["id"]).json()["tracking_id"]
    body = {"id": "F1", "body": "Tambahan foto", "received_at": "2026-11-22T01:00:00Z"}
    url = f"{central.url}/api/v1/reports/{tid}/followups"
    headers = {**AUTH, "Idempotency-Key": "F1"}
    assert requests.post(url, json=body, headers=headers, timeout=5).status_code == 201
    assert requests.post(url, json=body, headers=headers, timeout=5).status_code == 200
    assert (
        requests.post(url, json={**body, "body": "lain"}, headers=headers, timeout=5).status_code
        == 409
    )
    assert (
        requests.post(
            f"{central.url}/api/v1/reports/LPR0/followups", json=body, headers=headers, timeout=5
        ).status_code
        == 404
    )


def test_agencies(central: Any) -> None:
    agencies = requests.get(f"{central.url}/api/v1/agencies", headers=AUTH, timeout=5).json()
    assert {a["code"] for a in agencies} == {a["code"] for a in AGENCIES}


def test_fail_rate_injects_failures_before_and_after_storing(tmp_path: Path) -> None:
    server = SandboxServer(
        SandboxSettings(token="t0ken", db_path=str(tmp_path / "f.db"), fail_rate=1.0, seed=3),
        port=0,
    )
    server.start()
    try:
        codes = [post(server, report(n), report(n)["id"]).status_code for n in range(20)]
        assert set(codes) <= {429, 503} and 429 in codes and 503 in codes
        stats = requests.get(f"{server.url}/sandbox/stats", timeout=5).json()
        assert stats["failures_injected"] == 20
        # Some were stored before the failure answer: the retry after a fix gets them back.
        assert 0 < stats["reports"] < 20
    finally:
        server.stop()
    calm = SandboxServer(SandboxSettings(token="t0ken", db_path=str(tmp_path / "f.db")), port=0)
    calm.start()
    try:
        answers = [post(calm, report(n), report(n)["id"]) for n in range(20)]
        assert sorted({a.status_code for a in answers}) == [200, 201]
        assert len({a.json()["tracking_id"] for a in answers}) == 20
    finally:
        calm.stop()


def test_demo_page_escapes_and_masks(central: Any) -> None:
    body = report(
        title="<script>alert(1)</script>",
        reporter={"phone": "+6281234567890", "email": "warga@example.org"},
    )
    assert post(central, body, body["id"]).status_code == 201
    page = requests.get(f"{central.url}/", timeout=5)
    assert page.status_code == 200
    assert "Laporan yang diterima" in page.text and "Ubah status" in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text
    assert "+6281234567890" not in page.text and "warga@example.org" not in page.text
    tid = requests.get(f"{central.url}/sandbox/reports.json", timeout=5).json()[0]["tracking_id"]
    form = requests.post(
        f"{central.url}/sandbox/reports/{tid}/status",
        data={"status": "completed", "note": "beres"},
        timeout=5,
        allow_redirects=False,
    )
    assert form.status_code == 303
    assert (
        requests.get(f"{central.url}/api/v1/reports/{tid}", headers=AUTH, timeout=5).json()[
            "status"
        ]
        == "completed"
    )
