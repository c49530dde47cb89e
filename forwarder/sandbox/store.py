"""The sandbox central's own SQLite: reports, status history, responses, follow-ups.

Every change to a report gives it the next value of one global sequence, which is what the
changes feed pages by (its cursor), so a page boundary never skips or repeats a change.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sqlite3
import threading
from pathlib import Path
from typing import Any

from vocabulary.central import CentralStatus

SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    tracking_id TEXT PRIMARY KEY, gateway_id TEXT NOT NULL UNIQUE, body TEXT NOT NULL,
    body_hash TEXT NOT NULL, title TEXT, kind TEXT, agency TEXT, status TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS ix_reports_seq ON reports (seq);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY AUTOINCREMENT, tracking_id TEXT NOT NULL, status TEXT NOT NULL,
    at TEXT NOT NULL, agency TEXT, note TEXT);
CREATE TABLE IF NOT EXISTS responses (
    id TEXT PRIMARY KEY, tracking_id TEXT NOT NULL, at TEXT NOT NULL, agency TEXT,
    text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS followups (
    key TEXT PRIMARY KEY, tracking_id TEXT NOT NULL, body_hash TEXT NOT NULL,
    body TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


def now_iso() -> str:
    """The current UTC time in a fixed-width form that sorts as text."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def normalize_time(value: str) -> str:
    """An ISO 8601 time from a client, in the store's sortable form (ValueError if bad)."""
    moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class SandboxStore:
    """Thread-safe access: one connection per thread, writes serialised by a lock."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.write_lock = threading.RLock()
        with self.write_lock:
            self.conn.executescript(SCHEMA)

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            self._local.conn = conn
        return conn

    def _next_seq(self) -> int:
        self.conn.execute(
            "INSERT INTO counters VALUES ('seq', 1) ON CONFLICT(name)"
            " DO UPDATE SET value = value + 1"
        )
        return int(self.conn.execute("SELECT value FROM counters WHERE name = 'seq'").fetchone()[0])

    def bump(self, name: str, by: int = 1) -> None:
        """Add to a named counter (stats)."""
        with self.write_lock:
            self.conn.execute(
                "INSERT INTO counters VALUES (?, ?) ON CONFLICT(name)"
                " DO UPDATE SET value = value + ?",
                (name, by, by),
            )

    def counter(self, name: str) -> int:
        """A named counter's value."""
        row = self.conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def by_gateway_id(self, gateway_id: str) -> sqlite3.Row | None:
        """The report submitted with this idempotency key."""
        row: sqlite3.Row | None = self.conn.execute(
            "SELECT * FROM reports WHERE gateway_id = ?", (gateway_id,)
        ).fetchone()
        return row

    def get(self, tracking_id: str) -> sqlite3.Row | None:
        """One report row."""
        row: sqlite3.Row | None = self.conn.execute(
            "SELECT * FROM reports WHERE tracking_id = ?", (tracking_id,)
        ).fetchone()
        return row

    def require(self, tracking_id: str) -> sqlite3.Row:
        """One report row; KeyError when there is none."""
        row = self.get(tracking_id)
        if row is None:
            raise KeyError(tracking_id)
        return row

    def create(self, report: dict[str, Any], body_hash: str) -> sqlite3.Row:
        """Store a new report as `received` and return its row."""
        at = now_iso()
        with self.write_lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                while True:
                    tracking_id = f"LPR{secrets.randbelow(10**7):07d}"
                    if self.get(tracking_id) is None:
                        break
                agency = report["routing"]["agency"]
                self.conn.execute(
                    "INSERT INTO reports VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        tracking_id,
                        report["id"],
                        json.dumps(report),
                        body_hash,
                        report["title"],
                        report["kind"],
                        agency,
                        CentralStatus.RECEIVED,
                        at,
                        at,
                        self._next_seq(),
                    ),
                )
                self.conn.execute(
                    "INSERT INTO history (tracking_id, status, at, agency, note)"
                    " VALUES (?,?,?,?,?)",
                    (tracking_id, CentralStatus.RECEIVED, at, agency, None),
                )
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        return self.require(tracking_id)

    def change(
        self,
        tracking_id: str,
        *,
        status: str | None = None,
        agency: str | None = None,
        note: str | None = None,
        response: str | None = None,
        at: str | None = None,
    ) -> None:
        """Move a report (status, agency) or add an agency response; bumps its sequence.

        `at` backdates the history entry and the response (tests of clocks); the report's
        place in the changes feed is always now.
        """
        now = now_iso()
        at = normalize_time(at) if at else now
        with self.write_lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                row = self.get(tracking_id)
                if row is None:
                    raise KeyError(tracking_id)
                new_agency = agency or row["agency"]
                if status is not None:
                    self.conn.execute(
                        "INSERT INTO history (tracking_id, status, at, agency,"
                        " note) VALUES (?,?,?,?,?)",
                        (tracking_id, status, at, new_agency, note),
                    )
                if response is not None:
                    self.conn.execute(
                        "INSERT INTO responses VALUES (?,?,?,?,?)",
                        (f"RSP{secrets.token_hex(6)}", tracking_id, at, new_agency, response),
                    )
                self.conn.execute(
                    "UPDATE reports SET status = ?, agency = ?, updated_at = ?,"
                    " seq = ? WHERE tracking_id = ?",
                    (status or row["status"], new_agency, now, self._next_seq(), tracking_id),
                )
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def add_followup(
        self, tracking_id: str, key: str, body: dict[str, Any], body_hash: str
    ) -> tuple[bool, str | None]:
        """Store a follow-up once per key: (created, hash of the first body with that key)."""
        with self.write_lock:
            row = self.conn.execute(
                "SELECT body_hash FROM followups WHERE key = ?", (key,)
            ).fetchone()
            if row is not None:
                return False, str(row[0])
            self.conn.execute(
                "INSERT INTO followups VALUES (?,?,?,?,?)",
                (key, tracking_id, body_hash, json.dumps(body), now_iso()),
            )
            return True, None

    def view(self, row: sqlite3.Row) -> dict[str, Any]:
        """A ReportStatus as the contract defines it."""
        tid = row["tracking_id"]
        history = [
            dict(h)
            for h in self.conn.execute(
                "SELECT status, at, agency, note FROM history WHERE tracking_id = ? ORDER BY id",
                (tid,),
            )
        ]
        responses = [
            dict(r)
            for r in self.conn.execute(
                "SELECT id, at, agency, text FROM responses WHERE tracking_id = ? ORDER BY at, id",
                (tid,),
            )
        ]
        return {
            "tracking_id": tid,
            "gateway_id": row["gateway_id"],
            "status": row["status"],
            "agency": row["agency"],
            "updated_at": row["updated_at"],
            "history": history,
            "responses": responses,
        }

    def changes(self, since: str, after_seq: int, limit: int) -> tuple[list[sqlite3.Row], bool]:
        """Reports changed after `since`, in change order, after the cursor; (rows, more)."""
        rows = list(
            self.conn.execute(
                "SELECT * FROM reports WHERE updated_at > ? AND seq > ? ORDER BY seq LIMIT ?",
                (since, after_seq, limit + 1),
            )
        )
        return rows[:limit], len(rows) > limit

    def all(self) -> list[sqlite3.Row]:
        """Every report, newest first."""
        return list(self.conn.execute("SELECT * FROM reports ORDER BY created_at DESC"))

    def followups_of(self, tracking_id: str) -> list[dict[str, Any]]:
        """A report's follow-ups as sent, oldest first."""
        return [
            json.loads(row[0])
            for row in self.conn.execute(
                "SELECT body FROM followups WHERE tracking_id = ? ORDER BY at", (tracking_id,)
            )
        ]

    def by_status(self) -> dict[str, int]:
        """Reports per status."""
        return {
            r[0]: int(r[1])
            for r in self.conn.execute("SELECT status, count(*) FROM reports GROUP BY status")
        }
