"""Text search on the reports list: substring semantics, served by its index, kept in step.

On SQLite an FTS5 trigram table fed by triggers, on PostgreSQL pg_trgm GIN indexes (see
store/search.py); both databases run every case.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.console.conftest import Console

REPORTS = {
    "r1": "Jalan berlubang di depan SD Negeri 3, mohon diperbaiki.",
    "r2": "Lampu JALAN mati sejak seminggu di Gang Melati.",
    "r3": 'Warga menulis "100% rusak" dan minta OR * NEAR(perbaikan) segera.',
    "r4": "Saluran air tersumbat di RT 02.",
}


def _search(gw: Console, text: str) -> set[str]:
    from gateway.console.reports import ReportFilter, list_reports

    with gw.runtime.reads() as session:
        page = list_reports(
            session, ReportFilter(q=text), zone="Asia/Jakarta", overdue_after=86400, page_size=50
        )
    ids = {row.id: row for row in page.rows}
    assert page.total == len(ids)
    by_id = {r.id: r.external_id for r in _reports(gw)}
    return {by_id[i] for i in ids}


def _reports(gw: Console) -> list[Any]:
    from store.models import Report

    return gw.rows(Report)


@pytest.fixture
def filled(console: Console) -> Console:
    for external_id, body in REPORTS.items():
        answer = console.post("web", {"body": body, "external_id": external_id, "name": "Siti"})
        assert answer.status_code == 201, answer.get_data(as_text=True)
    console.post(
        "web",
        {
            "body": "Ada pungutan liar di kantor kecamatan",
            "kind": "whistleblowing",
            "name": "Ratna Saksiwati",
            "phone": "081298765432",
            "external_id": "wbs",
        },
    )
    return console


# (typed text, the reports it finds); one gateway per database runs them all.
CASES: list[tuple[str, set[str]]] = [
    ("lubang", {"r1"}),  # inside a word: berlubang
    ("jalan", {"r1", "r2"}),  # any case
    ("JALAN MATI", {"r2"}),  # a phrase, any case
    ("sd negeri 3", {"r1"}),
    ('"jalan"', set()),  # the quotes are text, not syntax
    ('"100% rusak"', {"r3"}),
    ("100% rusak", {"r3"}),
    ("OR * NEAR(", {"r3"}),  # FTS5 operators are text here
    ("RT", set()),  # shorter than a trigram: not looked for in titles and bodies
    ("0% ", set()),
    ("0% r", {"r3"}),  # % is a character too
    ("_", set()),
    ("tidak ada di mana pun", set()),
]


def test_search_finds_substrings_of_title_or_body(filled: Console) -> None:
    wrong = [(text, found, got) for text, found in CASES if (got := _search(filled, text)) != found]
    assert not wrong, wrong


def test_the_reporter_is_never_searchable(filled: Console) -> None:
    """Only what every console user may read is indexed: a whistleblower's name is not."""
    assert _search(filled, "Ratna Saksiwati") == set()
    assert _search(filled, "81298765432") == set()
    assert _search(filled, "pungutan liar") == {"wbs"}


def test_tracking_id_and_report_id_still_match_exactly(filled: Console) -> None:
    (report,) = [r for r in _reports(filled) if r.external_id == "r4"]
    assert _search(filled, report.id.lower()) == {"r4"}


def test_control_characters_in_the_box_are_dropped(filled: Console) -> None:
    page = filled.client_for("operator").get("/admin/reports?q=lu%00bang%0A")
    assert page.status_code == 200 and "1 laporan" in page.get_data(as_text=True)


def test_short_text_says_it_only_matches_ids(filled: Console) -> None:
    page = filled.client_for("operator").get("/admin/reports?q=RT").get_data(as_text=True)
    assert "Judul dan isi dicari mulai 3 huruf" in page and "0 laporan" in page
    page = filled.client_for("operator").get("/admin/reports?q=RT+02").get_data(as_text=True)
    assert "mulai 3 huruf" not in page and "1 laporan" in page


def test_sqlite_lists_the_newest_matches_and_says_so(
    filled: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text found in more reports than SQLITE_MATCHES: the newest stored are listed."""
    import gateway.console.reports
    import store.search

    for module in (store.search, gateway.console.reports):
        monkeypatch.setattr(module, "SQLITE_MATCHES", 1)
    sqlite = filled.runtime.engine.dialect.name == "sqlite"
    assert _search(filled, "ang") == ({"r2"} if sqlite else {"r1", "r2"})  # berlubang, Gang
    page = filled.client_for("admin").get("/admin/reports?q=ang").get_data(as_text=True)
    assert ("hanya 1 laporan terbaru yang cocok" in page) is sqlite


def test_an_edit_moves_the_index_along(filled: Console) -> None:
    from gateway.console.actions import edit_report
    from store.models import Report

    (report,) = [r for r in _reports(filled) if r.external_id == "r4"]
    with filled.runtime.sessions.begin() as session:
        row = session.get(Report, report.id)
        assert row is not None
        edit_report(
            session,
            row,
            {"body": "Gorong-gorong mampet di RT 02.", "title": "Gorong-gorong mampet"},
            "admin",
            {"nasional"},
        )
    assert _search(filled, "tersumbat") == set()
    assert _search(filled, "gorong-gorong mampet") == {"r4"}
    with filled.runtime.sessions.begin() as session:  # a reroute: the text is unchanged
        row = session.get(Report, report.id)
        assert row is not None
        row.payload = {**row.payload, "routing": {**row.payload["routing"], "agency": "pemkab"}}
    assert _search(filled, "gorong") == {"r4"}


def test_the_search_uses_its_index(filled: Console) -> None:
    """The plan of the list's text search names the index (remove it and this fails)."""
    import datetime as dt

    from sqlalchemy import func, select

    from gateway.console.reports import LIST_COLUMNS, ReportFilter, apply_filter
    from store.models import Report

    engine = filled.runtime.engine
    query = (
        apply_filter(
            select(*LIST_COLUMNS),
            ReportFilter(q="lubang"),
            "Asia/Jakarta",
            86400,
            dt.datetime.now(dt.UTC),
            dialect=engine.dialect.name,
        )
        .order_by(Report.created_at.desc())
        .limit(51)
    )
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
            assert "VIRTUAL TABLE" in plan and "report_search" in plan, plan
        else:
            # Five rows: without a scan to fall back on, the count of matches must use the
            # trigram indexes (the page itself may walk the time index, newest first).
            conn.exec_driver_sql("SET enable_seqscan = off")
            count = apply_filter(
                select(func.count()).select_from(Report),
                ReportFilter(q="lubang"),
                "Asia/Jakarta",
                86400,
                dt.datetime.now(dt.UTC),
                dialect=engine.dialect.name,
            )
            sql = str(count.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
            plan = " ".join(str(r[0]) for r in conn.exec_driver_sql("EXPLAIN " + sql))
            assert "ix_reports_title_trgm" in plan and "ix_reports_body_trgm" in plan, plan


def test_reports_from_before_the_migration_are_indexed(db_url: str, tmp_path: Path) -> None:
    """Migration 0016 indexes the reports already there."""
    import datetime as dt

    from alembic import command
    from sqlalchemy import insert

    from store import migrate
    from store.db import make_engine
    from store.models import Report

    engine = make_engine(db_url, base_dir=tmp_path)
    try:
        cfg = migrate.alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0007")
        now = dt.datetime.now(dt.UTC)
        with engine.begin() as conn:
            conn.execute(
                insert(Report.__table__).values(  # type: ignore[arg-type]
                    id="01OLD0000000000000000000000",
                    channel="web",
                    channel_type="webform",
                    external_id="old-1",
                    created_at=now,
                    updated_at=now,
                    kind="pengaduan",
                    agency="nasional",
                    hops=[],
                    payload={"title": "Laporan lama", "body": "Jembatan gantung putus"},
                    reply_to={},
                    state="queued",
                )
            )
        migrate.upgrade(engine)
        from sqlalchemy import select

        from store.search import text_matches

        with engine.connect() as conn:
            condition = text_matches("gantung putus", engine.dialect.name)
            assert condition is not None
            found = conn.execute(select(Report.id).where(condition)).all()
        assert [r[0] for r in found] == ["01OLD0000000000000000000000"]
    finally:
        engine.dispose()
