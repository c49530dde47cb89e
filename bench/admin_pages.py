"""Admin console render times with 100,000 reports, on SQLite and PostgreSQL, with query plans.

    .venv/bin/python bench/admin_pages.py [--reports 100000] [--requests 60] [--postgres URL]

Fills a fresh database with reports (their inbound message, 3 timeline events, a forward row
and an acknowledgement each, spread over 60 days and 6 channels), signs in through the real
login form, then times the reports list (unfiltered, filtered by channel, by agency, by
status, overdue, a second page, text searches), the detail page and the dashboard through
the Flask app, as an admin. Prints p50/p95 per page and the EXPLAIN plans of the list
queries, text search and the dashboard's queries included, so index use can be read off.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, text

from gateway.console.accounts import add_user
from gateway.console.reports import LIST_COLUMNS, ReportFilter, apply_filter
from store.models import ForwardItem, InboundMessage, ReplyItem, Report, TimelineEvent

CHANNELS = ["web", "web-signed", "surat", "sms-a", "sms-b", "email"]
AGENCIES = ["nasional", "pemkab", "dinas-pupr", "upt-jalan", "inspektorat"]
STATUSES = ["received", "verified", "in_progress", "completed", "closed"]


def fill(runtime: Any, count: int) -> None:
    rng = random.Random(7)
    now = dt.datetime.now(dt.UTC)
    batch = 5000
    with runtime.engine.begin() as conn:
        for start in range(0, count, batch):
            inbound, reports, events, forwards, replies = [], [], [], [], []
            for i in range(start, min(start + batch, count)):
                rid = f"01BENCH{i:019d}"
                created = now - dt.timedelta(seconds=rng.uniform(0, 60 * 86400))
                kind = "whistleblowing" if i % 20 == 0 else "pengaduan"
                agency = rng.choice(AGENCIES)
                state = "dead" if i % 50 == 0 else "submitted"
                payload = {
                    "schema_version": "1",
                    "id": rid,
                    "channel": {"name": CHANNELS[i % 6], "type": "webform"},
                    "external_id": f"x-{i}",
                    "received_at": created.isoformat(),
                    "kind": kind,
                    "title": f"Laporan nomor {i} tentang jalan rusak",
                    "body": f"Isi laporan {i}: jalan rusak di desa {i % 700}.",
                    "language": "id",
                    "category": None,
                    "reporter": {"name": f"Warga {i}", "phone": "+6281234567890"},
                    "privacy": {"anonymous": False, "confidential": kind == "whistleblowing"},
                    "location": None,
                    "incident_date": None,
                    "attachments": [],
                    "in_reply_to": None,
                    "letter": None,
                    "routing": {"agency": agency, "reason": "rule jalan", "hops": []},
                }
                inbound.append(
                    {
                        "id": f"I{rid[1:]}",
                        "channel": CHANNELS[i % 6],
                        "external_id": f"x-{i}",
                        "received_at": created,
                        "stored_at": created,
                        "state": "accepted",
                        "raw": {"body": payload["body"]},
                        "report_id": rid,
                    }
                )
                reports.append(
                    {
                        "id": rid,
                        "inbound_id": f"I{rid[1:]}",
                        "channel": CHANNELS[i % 6],
                        "channel_type": "webform",
                        "external_id": f"x-{i}",
                        "created_at": created,
                        "updated_at": created,
                        "kind": kind,
                        "agency": agency,
                        "hops": [],
                        "payload": payload,
                        "reply_to": {},
                        "state": state,
                        "tracking_id": f"LPR{i:07d}" if state == "submitted" else None,
                        "central_status": rng.choice(STATUSES) if state == "submitted" else None,
                        "status_token": uuid.uuid4().hex,
                    }
                )
                for n, event in enumerate(("received", "routed", "forwarded")):
                    events.append(
                        {
                            "report_id": rid,
                            "event": event,
                            "detail": {"agency": agency},
                            "at": created + dt.timedelta(seconds=n),
                        }
                    )
                forwards.append(
                    {
                        "report_id": rid,
                        "action": "submit",
                        "state": "done",
                        "attempts": 1,
                        "next_attempt_at": created,
                        "created_at": created,
                    }
                )
                replies.append(
                    {
                        "id": f"R{rid}",
                        "report_id": rid,
                        "channel": CHANNELS[i % 6],
                        "event": "ack",
                        "text": "Laporan diterima",
                        "state": "sent",
                        "attempts": 1,
                        "next_attempt_at": created,
                        "created_at": created,
                    }
                )
            for model, rows in (
                (InboundMessage, inbound),
                (Report, reports),
                (TimelineEvent, events),
                (ForwardItem, forwards),
                (ReplyItem, replies),
            ):
                conn.execute(insert(model.__table__), rows)  # type: ignore[arg-type]
    if runtime.engine.dialect.name == "postgresql":
        with runtime.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    else:
        with runtime.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def timed(client: Any, path: str, n: int) -> tuple[float, float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - t0) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def _explain(runtime: Any, name: str, sql: str, params: Any = None) -> None:
    dialect = runtime.engine.dialect.name
    prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
    with runtime.engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + sql, params).fetchall() if params else None
        rows = rows if rows is not None else conn.exec_driver_sql(prefix + sql).fetchall()
    print(f"  plan [{name}]:")
    for row in rows:
        print("    " + " | ".join(str(c) for c in row[-1:] if c is not None))


def plans(runtime: Any) -> None:
    """The list's queries (a page and, for text search, the count of matches)."""
    now = dt.datetime.now(dt.UTC)
    cases = {
        "unfiltered": ReportFilter(),
        "channel": ReportFilter(channel="sms-a"),
        "agency": ReportFilter(agency="inspektorat"),
        "status": ReportFilter(status="in_progress"),
        "text": ReportFilter(q="desa 123"),
    }
    dialect = runtime.engine.dialect
    for name, flt in cases.items():
        query = (
            apply_filter(
                select(*LIST_COLUMNS),
                flt,
                "Asia/Jakarta",
                14 * 86400,
                now,
                dialect=dialect.name,
            )
            .order_by(Report.created_at.desc(), Report.id.desc())
            .limit(51)
        )
        sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        _explain(runtime, name, sql)
    count = apply_filter(
        select(func.count()).select_from(Report),
        cases["text"],
        "Asia/Jakarta",
        14 * 86400,
        now,
        dialect=dialect.name,
    )
    sql = str(count.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    _explain(runtime, "text, count", sql)


def dashboard_plans(runtime: Any) -> None:
    """Every statement the dashboard runs (caught on the engine), with its plan."""
    from sqlalchemy import event

    from gateway.console.dashboard import ClosedDays, queue_figures, reports_per_day
    from gateway.console.health import channel_health

    seen: list[tuple[str, Any]] = []

    def catch(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append((statement, params))

    now = dt.datetime.now(dt.UTC)
    event.listen(runtime.engine, "before_cursor_execute", catch)
    try:
        with runtime.reads() as session:
            channel_health(session, runtime.config, set(runtime.adapters), now)
            queue_figures(session, now)
            reports_per_day(session, "Asia/Jakarta", now, closed=ClosedDays())
    finally:
        event.remove(runtime.engine, "before_cursor_execute", catch)
    for n, (statement, params) in enumerate(seen):
        if not statement.lstrip().upper().startswith("SELECT"):
            continue
        first = " ".join(statement.split())[:90]
        _explain(runtime, f"dashboard {n}: {first}...", statement, params)


def run(url: str, count: int, n: int, tmp: Path) -> None:
    from config.loader import parse_config
    from gateway.app import create_app
    from gateway.runtime import build_runtime

    channels = "\n".join(f"  - {{name: {c}, type: webform}}" for c in CHANNELS[3:])
    config = parse_config(
        f"""gateway: {{database: "{url}", data_dir: "{tmp}"}}
central: {{url: "http://127.0.0.1:9", token: "${{T}}"}}
agencies:
  - {{code: nasional, name: Nasional}}
  - {{code: pemkab, name: Pemkab, parent: nasional}}
  - {{code: dinas-pupr, name: PUPR, parent: pemkab}}
  - {{code: upt-jalan, name: UPT Jalan, parent: dinas-pupr}}
  - {{code: inspektorat, name: Inspektorat, parent: pemkab}}
routing: {{default: nasional}}
admin: {{login_rate_limit: "100 per minute", status_rate_limit: "10000 per minute"}}
channels:
  - {{name: web, type: webform}}
  - {{name: web-signed, type: webform}}
  - {{name: surat, type: letter}}
{channels}
""",
        "bench.yaml",
        {"T": "x"},
    )
    runtime = build_runtime(config, base_dir=tmp)
    t0 = time.perf_counter()
    fill(runtime, count)
    print(
        f"{runtime.engine.dialect.name}: {count} reports filled in {time.perf_counter() - t0:.1f} s"
    )
    with runtime.sessions.begin() as session:
        add_user(session, "bench", "bench-password-1", "admin")
    app = create_app(runtime)
    client = app.test_client()
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/admin/login").get_data(as_text=True)
    ).group(1)  # type: ignore[union-attr]
    client.post(
        "/admin/login",
        data={"username": "bench", "password": "bench-password-1", "csrf_token": token},
    )
    first = client.get("/admin/reports").get_data(as_text=True)
    cursor = re.search(r'after=([^"&]+)', first).group(1)  # type: ignore[union-attr]
    cursor = cursor.replace("&amp;", "&")
    pages = {
        "list": "/admin/reports",
        "list, 2nd page": f"/admin/reports?after={cursor}",
        "list by channel": "/admin/reports?channel=sms-a",
        "list by agency": "/admin/reports?agency=inspektorat",
        "list by status": "/admin/reports?status=in_progress",
        "list overdue": "/admin/reports?overdue=1",
        "list text search (143 hits)": "/admin/reports?q=desa+123",
        "list text search (1 hit)": "/admin/reports?q=nomor+4242+tentang",
        "list text search (every row)": "/admin/reports?q=jalan+rusak",
        "list text search (2 letters)": "/admin/reports?q=zq",
        "detail": f"/admin/reports/01BENCH{count // 2 + 1:019d}",
        "detail (confidential)": f"/admin/reports/01BENCH{count // 2:019d}",
        "dashboard": "/admin/",
    }
    print(f"  {'page':30} {'p50 ms':>8} {'p95 ms':>8}")
    for name, path in pages.items():
        p50, p95 = timed(client, path, n)
        print(f"  {name:30} {p50:8.1f} {p95:8.1f}")
    closed = app.extensions
    cold = []
    for _ in range(max(3, n // 4)):
        closed.pop("sp4n_closed_days", None)  # as after a restart: every day counted again
        t0 = time.perf_counter()
        assert client.get("/admin/").status_code == 200
        cold.append((time.perf_counter() - t0) * 1000)
    print(f"  {'dashboard, first view':30} {statistics.median(cold):8.1f} {max(cold):8.1f} (max)")
    plans(runtime)
    dashboard_plans(runtime)
    runtime.close()


def each_database(postgres: str | None, run_one: Callable[[str, Path], None]) -> None:
    """`run_one(url, tmp)` on a fresh SQLite file, then on a throw-away PostgreSQL database."""
    with tempfile.TemporaryDirectory() as tmp:
        run_one(f"sqlite:///{tmp}/bench.db", Path(tmp))
    if not postgres:
        return
    import psycopg

    name = f"sp4n_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run_one(f"{postgres.rsplit('/', 1)[0]}/{name}", Path(tmp))
    finally:
        with psycopg.connect(postgres, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--postgres", default=None, help="admin URL; a throw-away DB is made")
    args = parser.parse_args()
    each_database(args.postgres, lambda url, tmp: run(url, args.reports, args.requests, tmp))


if __name__ == "__main__":
    main()
