"""What the text-search index costs each stored report, on SQLite and PostgreSQL.

    .venv/bin/python bench/search_index_cost.py [--reports 20000] [--batch 50] [--postgres URL]

Inserts reports (a 300-character body each) into a freshly migrated database in
transactions of `--batch` rows, as the intake writer commits them, first with the search
index of migration 0016 (SQLite: FTS5 trigram table fed by triggers; PostgreSQL: pg_trgm
GIN indexes), then again after dropping it, and prints the time per report both ways.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from admin_pages import each_database
from sqlalchemy import insert, text

from store import migrate
from store.db import make_engine
from store.models import Report

BODY = (
    "Jalan di depan SD Negeri {n} di Desa Sukamaju berlubang besar sejak musim hujan, "
    "sudah tiga pengendara motor jatuh minggu ini. Mohon Dinas PUPR segera menambal dan "
    "memasang tanda peringatan sebelum ada korban lagi. Lokasi dekat warung Bu Sri, RT {r}."
)


def _rows(prefix: str, start: int, count: int) -> list[dict[str, Any]]:
    now = dt.datetime.now(dt.UTC)
    return [
        {
            "id": f"01{prefix}{i:020d}"[:26],
            "channel": "web",
            "channel_type": "webform",
            "external_id": f"{prefix}-{i}",
            "created_at": now,
            "updated_at": now,
            "kind": "pengaduan",
            "agency": "nasional",
            "hops": [],
            "payload": {"title": f"Jalan berlubang nomor {i}", "body": BODY.format(n=i, r=i % 9)},
            "reply_to": {},
            "state": "queued",
        }
        for i in range(start, start + count)
    ]


def _timed(engine: Any, prefix: str, count: int, batch: int) -> float:
    started = time.perf_counter()
    for start in range(0, count, batch):
        with engine.begin() as conn:
            conn.execute(insert(Report.__table__), _rows(prefix, start, batch))  # type: ignore[arg-type]
    return (time.perf_counter() - started) / count * 1e6


def run(url: str, count: int, batch: int, tmp: Path) -> None:
    engine = make_engine(url, base_dir=tmp)
    migration = importlib.import_module("store.migrations.versions.0016_report_search_dashboard")
    try:
        migrate.upgrade(engine)
        with_index = _timed(engine, "WITH", count, batch)
        drops = (
            migration.SQLITE_DOWN if engine.dialect.name == "sqlite" else migration.POSTGRES_DOWN
        )
        with engine.begin() as conn:
            for statement in drops:
                conn.execute(text(statement))
        without = _timed(engine, "BARE", count, batch)
        print(
            f"{engine.dialect.name}: {count} reports in batches of {batch}:"
            f" {with_index:.0f} µs each with the search index, {without:.0f} µs without"
            f" (+{with_index - without:.0f} µs)"
        )
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--postgres", default=None, help="admin URL; a throw-away DB is made")
    args = parser.parse_args()
    each_database(args.postgres, lambda url, tmp: run(url, args.reports, args.batch, tmp))


if __name__ == "__main__":
    main()
