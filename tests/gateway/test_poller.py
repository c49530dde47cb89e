"""The poll runner with a real polled channel (`legacy_db` reading an old site's table).

Messages and the cursor move together; a lost cursor, a bad row or an unreachable source
never lose or repeat a report; on PostgreSQL only one process polls a channel at a time.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from gateway.poller import Poller, advisory_key
from gateway.runner import ScheduledJobs
from gateway.runtime import Runtime, build_runtime
from store.cursors import cursor_key, load_cursor
from store.models import InboundMessage, Report, SyncState
from tests.helpers import config_text, load_test_config, validate_reports

SOURCE_SCHEMA = """CREATE TABLE aduan (id INTEGER PRIMARY KEY, isi TEXT, nama TEXT, hp TEXT,
                                        nik TEXT, dibuat TEXT)"""


class Site:
    """The legacy website's own SQLite database, written as the old site would."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.next_id = 1

    def create(self) -> None:
        with sqlite3.connect(self.path) as conn:
            conn.execute(SOURCE_SCHEMA)

    def add(self, body: str, nik: str | None = None) -> int:
        row_id, self.next_id = self.next_id, self.next_id + 1
        with sqlite3.connect(self.path) as conn:
            conn.execute(
                "INSERT INTO aduan VALUES (?,?,?,?,?,?)",
                (row_id, body, "Warga", "0812-0000-0001", nik, "2026-11-20T08:00:00+07:00"),
            )
        return row_id


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = Site(tmp_path / "situs-lama.db")
    site.create()
    return site


@pytest.fixture
def runtime(db_url: str, sandbox: Any, site: Site, tmp_path: Path) -> Iterator[Runtime]:
    channel = (
        '- {name: situs-lama, type: legacy_db, database: "${LEGACY_DB_URL}",\n'
        "   table: aduan, poll: 0.2s, batch_size: 3,\n"
        "     fields: {body: isi, name: nama, phone: hp, nik: nik,"
        " received_at: dibuat}}\n"
    )
    config = load_test_config(
        config_text(db_url, sandbox.url, channels=channel), LEGACY_DB_URL=f"sqlite:///{site.path}"
    )
    rt = build_runtime(config, base_dir=tmp_path)
    yield rt
    for adapter in rt.adapters.values():
        adapter.close()
    rt.close()


def poller_of(rt: Runtime) -> Poller:
    (poller,) = rt.pollers()
    return poller


def rows(rt: Runtime, model: Any) -> list[Any]:
    from sqlalchemy import select

    with rt.sessions() as session:
        return list(session.scalars(select(model)))


def test_rows_become_reports_and_the_cursor_moves_with_them(runtime: Runtime, site: Site) -> None:
    for i in range(7):
        site.add(f"Saluran air tersumbat di gang {i}.")
    poller = poller_of(runtime)
    assert poller.run_once() == 7  # three batches of at most 3, each with its cursor
    reports = rows(runtime, Report)
    assert sorted(r.external_id for r in reports) == [f"aduan:{i}" for i in range(1, 8)]
    assert all(r.payload["reporter"]["phone"] == "+6281200000001" for r in reports)
    assert reports[0].payload["received_at"] == "2026-11-20T01:00:00Z"
    validate_reports([r.payload for r in reports])
    with runtime.sessions() as session:
        assert load_cursor(session, cursor_key("situs-lama")) == '{"last": 7}'
    site.add("Lampu taman mati.")
    assert poller.run_once() == 1
    assert poller.run_once() == 0
    assert len(rows(runtime, Report)) == 8


def test_an_old_cursor_reads_again_without_a_second_report(runtime: Runtime, site: Site) -> None:
    for i in range(4):
        site.add(f"Pohon tumbang di jalan {i}.")
    poller = poller_of(runtime)
    poller.run_once()
    # As after a restore from an older backup: the position is behind what is stored.
    with runtime.sessions.begin() as session:
        session.delete(session.get(SyncState, cursor_key("situs-lama")))
    assert poller.run_once() == 4
    assert len(rows(runtime, Report)) == 4
    assert len(rows(runtime, InboundMessage)) == 4


def test_an_unreadable_row_is_kept_and_the_poll_goes_on(runtime: Runtime, site: Site) -> None:
    site.add("Pungutan liar di kantor desa.")
    bad = site.add("Data saya salah.", nik="12345")  # not a 16-digit NIK
    site.add("Jalan berlubang.")
    poller = poller_of(runtime)
    assert poller.run_once() == 3
    inbound = {m.external_id: m for m in rows(runtime, InboundMessage)}
    assert inbound[f"aduan:{bad}"].state == "rejected"
    assert "nik" in (inbound[f"aduan:{bad}"].error or "")
    assert inbound[f"aduan:{bad}"].raw["row"]["isi"] == "Data saya salah."
    assert len(rows(runtime, Report)) == 2
    with runtime.sessions.begin() as session:
        session.delete(session.get(SyncState, cursor_key("situs-lama")))
    poller.run_once()
    assert len(rows(runtime, InboundMessage)) == 3


def test_an_unreachable_source_is_counted_and_tried_again(
    runtime: Runtime, site: Site, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 8.12: a source that stays down is logged once, counted always, and makes
    /readyz say `degraded` naming the channel; its recovery is logged and clears it."""
    from gateway.app import create_app

    client = create_app(runtime).test_client()
    assert client.get("/readyz").get_json()["status"] == "ok"
    site.path.unlink()
    poller = poller_of(runtime)
    caplog.set_level("INFO")
    for _ in range(5):
        assert poller.run_once() == 0
    assert runtime.metrics.poll_errors.labels("situs-lama")._value.get() == 5
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "degraded"
    assert ready.get_json()["channels"]["situs-lama"].startswith("failing since")
    assert ready.get_json()["channels"]["web"] == "ok"
    down = [r for r in caplog.records if "source unavailable" in r.getMessage()]
    assert len(down) == 1, "one line per outage, not per poll"
    site.create()
    site.add("Banjir di perumahan.")
    assert poller.run_once() == 1
    assert any("reachable again after 5 failure(s)" in r.getMessage() for r in caplog.records)
    assert client.get("/readyz").get_json()["status"] == "ok"


def test_the_scheduler_polls_and_forwards(runtime: Runtime, site: Site, sandbox: Any) -> None:
    import requests

    jobs = ScheduledJobs(runtime)
    jobs.start()
    try:
        site.add("Jembatan gantung rusak.")
        deadline = time.monotonic() + 20
        central: list[Any] = []
        while time.monotonic() < deadline and not central:
            time.sleep(0.2)
            central = requests.get(f"{sandbox.url}/sandbox/reports.json", timeout=5).json()
    finally:
        jobs.stop()
    (report,) = central
    assert report["agency"] == "upt-jalan"


def test_one_poller_per_channel_on_postgresql(runtime: Runtime, site: Site) -> None:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's; SQLite runs in one process")
    site.add("Parkir liar di trotoar.")
    other = create_engine(runtime.engine.url)
    try:
        with other.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": advisory_key("situs-lama")})
            assert poller_of(runtime).run_once() == 0  # another worker holds the channel
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": advisory_key("situs-lama")})
        assert poller_of(runtime).run_once() == 1
    finally:
        other.dispose()
