"""SLA clocks and the coordination table over 100,000 reports with 600,000 timeline events.

Fills a throw-away database (SQLite file, or a scratch PostgreSQL database) with N reports
received over the year so far, each with six timeline events: the gateway's `received`
and `forwarded`, the statuses the central reported (received, verified, dispositioned,
in_progress, completed, closed; some returned to another agency, some archived, some never
answered) and, to make six, the other events a timeline holds (responses, replies). Then,
in a fresh process (so its peak memory is the computation's, not the filling's), times:

1. loading every report's statuses (`store.sla.iter_timelines`, one streamed query);
2. every stage clock of every report (`forwarder.sla.clocks.stage_clocks`);
3. the coordination table per agency (`forwarder.sla.table.coordination_table`: load,
   clocks and the table's figures in one pass), and per channel.

Prints seconds and peak resident memory (and the Python heap with --tracemalloc).
Target (issue 12): under 5 s and under 300 MiB. Run by hand:

    .venv/bin/python bench/sla.py [--reports 100000] [--postgres postgresql://...]
        [--db PATH (keep and reuse the SQLite file)] [--repeat N (best of N)] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WIB = dt.timezone(dt.timedelta(hours=7))
AGENCIES = [f"opd-{i:02d}" for i in range(40)]
CHANNELS = ["web", "sms-1708", "email", "surat", "telegram", "x", "whatsapp", "lapor"]
STATUSES = ("received", "verified", "dispositioned", "in_progress", "completed", "closed")
EVENTS_PER_REPORT = 6


def _timeline(
    rng: random.Random, rid: str, created: dt.datetime, agency: str
) -> list[dict[str, Any]]:
    """Six events of one report, in time order."""
    at = created
    events = [{"report_id": rid, "event": "received", "at": at, "detail": {}}]
    at += dt.timedelta(seconds=rng.randrange(1, 90))
    events.append({"report_id": rid, "event": "forwarded", "at": at, "detail": {"agency": agency}})
    plan: list[str] = []
    roll = rng.random()
    if roll < 0.08:
        plan = []  # never answered: clocked from forwarding
    elif roll < 0.14:
        plan = ["received", "returned", "received", "dispositioned"]
    elif roll < 0.18:
        plan = ["received", "archived"]
    else:
        reach = rng.choice((1, 2, 3, 3, 4, 4, 4, 5))
        plan = list(STATUSES[: reach + 1])
        while len(plan) > EVENTS_PER_REPORT - 2:
            plan.pop(1)  # a status skipped (the central went straight on)
    for status in plan:
        at += dt.timedelta(hours=rng.choice((1, 5, 20, 26, 50, 75, 120)))
        detail = {"status": status, "agency": agency, "note": "catatan instansi"}
        events.append({"report_id": rid, "event": "status", "at": at, "detail": detail})
    while len(events) < EVENTS_PER_REPORT:
        at += dt.timedelta(hours=3)
        name = rng.choice(("response", "reply_sent"))
        events.append({"report_id": rid, "event": name, "at": at, "detail": {"text": "..."}})
    return events


def generate(url: str, reports: int, seed: int = 7) -> None:
    """Fill the database (migrated first) with the reports and their events."""
    from sqlalchemy import insert

    from store import migrate
    from store.db import make_engine
    from store.models import Report, TimelineEvent

    engine = make_engine(url, base_dir=ROOT)
    migrate.upgrade(engine)
    rng = random.Random(seed)
    start = dt.datetime(2026, 1, 2, 8, 0, tzinfo=WIB)
    span = int((dt.datetime(2026, 11, 20, tzinfo=WIB) - start).total_seconds())
    began = time.perf_counter()
    batch = 5000
    with engine.begin() as conn:
        for first in range(0, reports, batch):
            rows, events = [], []
            for n in range(first, min(first + batch, reports)):
                rid = f"R{n:09d}"
                created = start + dt.timedelta(seconds=rng.randrange(span))
                agency, channel = rng.choice(AGENCIES), rng.choice(CHANNELS)
                rows.append(
                    {
                        "id": rid,
                        "channel": channel,
                        "channel_type": "webform",
                        "external_id": rid,
                        "created_at": created,
                        "updated_at": created,
                        "kind": "pengaduan",
                        "agency": agency,
                        "hops": [],
                        "payload": {},
                        "reply_to": {},
                        "state": "submitted",
                        "tracking_id": f"LPR{n:09d}",
                    }
                )
                events.extend(_timeline(rng, rid, created, agency))
            conn.execute(insert(Report), rows)
            conn.execute(insert(TimelineEvent), events)
    # Statistics, as a database in use has them (autovacuum): without them PostgreSQL plans
    # the streamed join blind (a nested loop over freshly filled tables).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    print(
        f"filled {reports:,} reports, {reports * EVENTS_PER_REPORT:,} timeline events"
        f" in {time.perf_counter() - began:.0f} s",
        flush=True,
    )


class Timer:
    """Wall and CPU seconds of one pass (the machine may be shared: CPU time is the steadier)."""

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu

    def __str__(self) -> str:
        return f"{self.wall:.2f} s ({self.cpu:.2f} s CPU)"


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(url: str, trace: bool, repeat: int = 1) -> dict[str, Any]:
    """Time the passes in this (fresh) process; peak memory as the process saw it."""
    from forwarder.sla.calendar import WorkingCalendar
    from forwarder.sla.clocks import SlaRules, stage_clocks
    from forwarder.sla.table import coordination_table
    from store.db import make_engine, make_read_sessionmaker
    from store.sla import iter_timelines

    engine = make_engine(url, base_dir=ROOT)
    reads = make_read_sessionmaker(engine)
    rules = SlaRules(calendar=WorkingCalendar())
    now = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
    first, last = dt.date(2026, 1, 1), dt.date(2026, 11, 30)
    labels = {code: f"Organisasi Perangkat Daerah {code[-2:]}" for code in AGENCIES}
    with reads() as session:  # warm: connection, calendar years, statement compiled
        list(iter_timelines(session, agency=AGENCIES[0]))
        rules.calendar.working_days_between(first, last + dt.timedelta(days=400))
    rss_start = _rss_mib()
    if trace:
        tracemalloc.start()
    figures: dict[str, Any] = {"rss_start": rss_start}

    with Timer() as timer, reads() as session:
        loaded = statuses = 0
        for timeline in iter_timelines(session):
            loaded += 1
            statuses += len(timeline.statuses)
    figures["load"] = str(timer)
    figures["reports"], figures["statuses"] = loaded, statuses

    clocks = 0
    with Timer() as timer, reads() as session:
        for timeline in iter_timelines(session):
            clocks += len(stage_clocks(timeline, rules, now))
    figures["clocks"] = str(timer)
    figures["clock_count"] = clocks

    for by in ("agency", "channel"):
        timers = []
        for _ in range(repeat):  # the best of a few: other processes share the CPUs
            with Timer() as timer, reads() as session:
                table = coordination_table(
                    session, rules, first, last, by=by,
                    labels=labels if by == "agency" else None, now=now,
                )  # fmt: skip
            timers.append(timer)
        best = min(timers, key=lambda t: t.wall)
        figures[f"table_{by}"] = str(best) + (
            f", best of {repeat}; slowest {max(t.wall for t in timers):.2f} s" if repeat > 1 else ""
        )
        figures[f"rows_{by}"] = len(table.rows)
        figures["total"] = table.total.reports
        figures["overdue"] = table.total.overdue
        figures["response_avg"] = table.total.response_avg
    figures["rss_peak"] = _rss_mib()
    if trace:
        figures["heap_peak"] = tracemalloc.get_traced_memory()[1] / 2**20
    engine.dispose()
    return figures


def _report(name: str, f: dict[str, Any]) -> None:
    print(
        f"\n{name}: {f['reports']:,} reports, {f['statuses']:,} statuses,"
        f" {f['clock_count']:,} clocks"
    )
    print(f"  load every report's statuses (one streamed query): {f['load']}")
    print(f"  + every stage clock:                               {f['clocks']}")
    print(
        f"  coordination table per agency (load + clocks + figures): {f['table_agency']}"
        f" ({f['rows_agency']} rows, {f['total']:,} reports, {f['overdue']:,} overdue,"
        f" RTL average {f['response_avg']:.2f} working days)"
    )
    print(f"  coordination table per channel:                    {f['table_channel']}")
    print(
        f"  peak RSS {f['rss_peak']:.0f} MiB"
        f" (after imports and a warm-up: {f['rss_start']:.0f} MiB)"
        + (f"; Python heap peak {f['heap_peak']:.0f} MiB" if "heap_peak" in f else "")
    )


def _child(phase: str, url: str, args: argparse.Namespace) -> dict[str, Any] | None:
    command = [
        sys.executable,
        __file__,
        "--phase",
        phase,
        "--url",
        url,
        "--reports",
        str(args.reports),
    ]
    if args.tracemalloc:
        command.append("--tracemalloc")
    command += ["--repeat", str(args.repeat)]
    done = subprocess.run(command, check=True, capture_output=phase == "measure", text=True)
    if phase == "measure":
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument(
        "--postgres", help="also on PostgreSQL (an admin URL; a scratch database is made)"
    )
    parser.add_argument("--db", type=Path, help="SQLite file to keep (filled once, then reused)")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also the Python heap peak (slower)"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="time the table this many times, keep the best"
    )
    parser.add_argument("--phase", choices=("generate", "measure"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "generate":
        generate(args.url, args.reports)
        return
    if args.phase == "measure":
        print(json.dumps(measure(args.url, args.tracemalloc, args.repeat)))
        return

    print(
        f"SLA bench: {args.reports:,} reports x {EVENTS_PER_REPORT} timeline events,"
        f" Python {sys.version.split()[0]}, {os.cpu_count()} CPUs,"
        f" load average {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.db"
        url = f"sqlite:///{path}"
        if not path.exists():
            _child("generate", url, args)
        found = _child("measure", url, args)
        assert found is not None
        _report("SQLite", found)
    if args.postgres:
        import psycopg

        name = f"sp4n_bench_sla_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"{args.postgres.rsplit('/', 1)[0]}/{name}"
        try:
            _child("generate", url, args)
            found = _child("measure", url, args)
            assert found is not None
            _report("PostgreSQL", found)
        finally:
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
