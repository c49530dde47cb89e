"""Text search over reports' title and body, served by an index on both databases.

The console's "Cari" box finds reports whose title or body contains the typed text (a
substring, any case: `lubang` finds `berlubang`), as `ILIKE '%…%'` would, without reading
every report:

- SQLite: an FTS5 table with the `trigram` tokenizer (`report_search`), contentless (it
  keeps no copy of the text), whose rowids are those of `report_search_keys`, a table of
  report ids with a stable integer key (a report's own rowid may change on `VACUUM`).
  Triggers on `reports` keep both in step with every writer (intake, edits, replays).
  A phrase query over trigrams is a substring match. Only the newest `SQLITE_MATCHES`
  matches (in the order stored, which is the order of arrival) are listed: text found in
  more reports than that asks for more words (the page says so).
- PostgreSQL: `pg_trgm` GIN indexes on `payload ->> 'title'` and `payload ->> 'body'`;
  the same `ILIKE` uses them. The expressions here are written exactly as in the index
  (the key as a literal, never a bound parameter), so a prepared plan still matches it.

Only the title and the body are indexed: what every console user may read of a report.
The reporter's name, phone, email and identity number are never indexed, so a search can
never find a confidential report by who sent it. Text shorter than 3 characters has no
trigram: it is not looked for in titles and bodies (only as a tracking id or report id).
See migration 0016.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, String, column, literal_column, or_, select, table
from sqlalchemy.sql.elements import ColumnElement

from store.models import Report

SEARCH_TABLE = "report_search"  # SQLite only; its shadow tables share the prefix
KEYS_TABLE = "report_search_keys"
POSTGRES_INDEXES = ("ix_reports_title_trgm", "ix_reports_body_trgm")
MIN_INDEXED = 3  # a trigram index cannot serve shorter text
# SQLite: the newest matches considered, by the order they were stored. Past that many,
# reading and sorting every match (100,000 in 0.4 s) is worse than asking for more words.
SQLITE_MATCHES = 5000

_fts = table(SEARCH_TABLE, column("rowid", Integer))
_keys = table(KEYS_TABLE, column("rowid", Integer), column("report_id", String))


def fts_phrase(text: str) -> str:
    """The FTS5 query for `text` as one phrase (quotes doubled, so nothing is syntax)."""
    return '"' + text.replace('"', '""') + '"'


def _json_text(key: str, dialect: str) -> Any:
    if dialect == "postgresql":
        # Literally as in the GIN index (migration 0016), so the planner can use it.
        return literal_column(f"(reports.payload ->> '{key}')", String)
    return Report.payload[key].as_string()


def _like(text: str, dialect: str) -> ColumnElement[bool]:
    """`ILIKE '%text%'`, with `%`, `_` and the escape character taken as themselves."""
    escaped = text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    pattern = f"%{escaped}%"
    return or_(
        _json_text("title", dialect).ilike(pattern, escape="!"),
        _json_text("body", dialect).ilike(pattern, escape="!"),
    )


def searchable(text: str) -> bool:
    """Whether `text` is long enough to look for in titles and bodies.

    Shorter text has no trigram, so no index can serve it: it would read every report
    (seconds at 100,000) to find what nearly every report contains anyway.
    """
    return len(text.strip()) >= MIN_INDEXED


def text_matches(text: str, dialect: str) -> ColumnElement[bool] | None:
    """Reports whose title or body contains `text` (any case); None when too short."""
    if not searchable(text):
        return None
    if dialect == "sqlite":
        matching = (
            select(_keys.c.report_id)
            .join(_fts, _fts.c.rowid == _keys.c.rowid)
            .where(literal_column(SEARCH_TABLE).op("MATCH")(fts_phrase(text)))
            .order_by(_fts.c.rowid.desc())  # FTS5 walks its index backwards and stops
            .limit(SQLITE_MATCHES)
        )
        return Report.id.in_(matching)
    return _like(text, dialect)
