"""Text search index for the reports list; an index for the dashboard's last rejections.

- SQLite: `report_search`, an FTS5 table (trigram tokenizer, contentless) over each
  report's title and body, keyed by `report_search_keys` (report id -> a stable integer);
  triggers on `reports` keep it in step with every writer. Existing reports are indexed here.
- PostgreSQL: `pg_trgm` (a trusted extension: the database owner may create it) and GIN
  trigram indexes on `payload ->> 'title'` and `payload ->> 'body'`.
- Both: `ix_inbound_state_channel_stored` (state, channel, stored_at): the newest rejected
  input per channel without reading every message.

See store/search.py.

Revision ID: 0016
Revises: 0007
Create Date: 2026-11-30 19:30:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0016'
down_revision = '0007'
branch_labels = None
depends_on = None

TITLE = "coalesce(json_extract({row}.payload, '$.title'), '')"
BODY = "coalesce(json_extract({row}.payload, '$.body'), '')"
KEY = "(SELECT rowid FROM report_search_keys WHERE report_id = {row}.id)"


def _index(row: str) -> str:
    return (
        "INSERT INTO report_search(rowid, title, body) VALUES"
        f" ({KEY.format(row=row)}, {TITLE.format(row=row)}, {BODY.format(row=row)});"
    )


def _unindex(row: str) -> str:
    # A contentless table forgets a row only when told the values it indexed.
    return (
        "INSERT INTO report_search(report_search, rowid, title, body) VALUES"
        f" ('delete', {KEY.format(row=row)}, {TITLE.format(row=row)}, {BODY.format(row=row)});"
    )


SQLITE_UP = [
    "CREATE TABLE report_search_keys ("
    " rowid INTEGER PRIMARY KEY, report_id VARCHAR(32) NOT NULL UNIQUE)",
    "CREATE VIRTUAL TABLE report_search USING fts5("
    "title, body, content='', columnsize=0, tokenize='trigram')",
    "CREATE TRIGGER report_search_insert AFTER INSERT ON reports BEGIN"
    " INSERT INTO report_search_keys(report_id) VALUES (new.id); " + _index("new") + " END",
    "CREATE TRIGGER report_search_update AFTER UPDATE OF payload ON reports"
    f" WHEN {TITLE.format(row='old')} IS NOT {TITLE.format(row='new')}"
    f" OR {BODY.format(row='old')} IS NOT {BODY.format(row='new')}"
    " BEGIN " + _unindex("old") + " " + _index("new") + " END",
    "CREATE TRIGGER report_search_delete AFTER DELETE ON reports BEGIN "
    + _unindex("old")
    + " DELETE FROM report_search_keys WHERE report_id = old.id; END",
    "INSERT INTO report_search_keys(report_id) SELECT id FROM reports ORDER BY created_at",
    "INSERT INTO report_search(rowid, title, body)"
    f" SELECT k.rowid, {TITLE.format(row='r')}, {BODY.format(row='r')}"
    " FROM report_search_keys k JOIN reports r ON r.id = k.report_id",
]
SQLITE_DOWN = [
    "DROP TRIGGER report_search_delete",
    "DROP TRIGGER report_search_update",
    "DROP TRIGGER report_search_insert",
    "DROP TABLE report_search",
    "DROP TABLE report_search_keys",
]
POSTGRES_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_reports_title_trgm ON reports USING gin ((payload ->> 'title') gin_trgm_ops)",
    "CREATE INDEX ix_reports_body_trgm ON reports USING gin ((payload ->> 'body') gin_trgm_ops)",
]
POSTGRES_DOWN = ["DROP INDEX ix_reports_body_trgm", "DROP INDEX ix_reports_title_trgm"]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_UP if dialect == 'sqlite' else POSTGRES_UP:
        op.execute(sa.text(statement))
    op.create_index(
        'ix_inbound_state_channel_stored', 'inbound_messages', ['state', 'channel', 'stored_at']
    )


def downgrade() -> None:
    op.drop_index('ix_inbound_state_channel_stored', 'inbound_messages')
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DOWN if dialect == 'sqlite' else POSTGRES_DOWN:
        op.execute(sa.text(statement))
