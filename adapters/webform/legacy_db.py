"""`legacy_db`: polls an old pemda complaint website's own database table, read-only.

Many pemda sites keep complaints in a MySQL/MariaDB, PostgreSQL or SQLite table and cannot be
changed to post webhooks. This channel reads new rows in the order of an increasing id
column and maps the site's columns onto report fields with the same `fields:` entry as the
`webform` channel. The site's database is never written: the cursor (the last id read) is
the gateway's, stored with the messages in one transaction.

Old sites store local time without a zone (MySQL `DATETIME`, or text such as
`2026-11-20 08:00:00`): such a value is read in the channel's `time_zone`, which defaults to
the gateway's (`gateway.timezone`, filled in by the config loader). A value with an offset
keeps its offset. The raw row is kept as the database gave it (no offset invented).
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from sqlalchemy import Engine, MetaData, Table, create_engine, select
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError

from adapters.base import Adapter, ChannelOptions, Mode, PollOptions
from adapters.webform.adapter import draft_from_fields, field_map
from vocabulary.drafts import MessageDraft, RawMessage
from vocabulary.errors import AdapterUnavailable, PayloadInvalid

DEFAULT_TIME_ZONE = "Asia/Jakarta"  # as gateway.timezone, for options made without the loader


class LegacyDbOptions(PollOptions):
    """YAML fields of a `legacy_db` channel."""

    type: Literal["legacy_db"] = "legacy_db"
    database: SecretStr  # a URL that may hold a password: write it as ${LEGACY_DB_URL}
    table: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.]*$")
    id_column: str = Field(default="id", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    fields: dict[str, str] = Field(default_factory=dict)
    start_after: str | None = None  # rows up to this id were handled before the gateway
    # The zone of times stored without one; None: gateway.timezone (set by the config loader).
    time_zone: str | None = None

    @field_validator("fields")
    @classmethod
    def _known_report_fields(cls, value: dict[str, str]) -> dict[str, str]:
        return field_map(value)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Jakarta)") from None
        return value


class LegacyDbAdapter(Adapter[LegacyDbOptions]):
    """Reads new rows of a legacy complaint table; answers citizens only by letter or hand."""

    type: ClassVar[str] = "legacy_db"
    kind: ClassVar[str] = "webform"
    modes: ClassVar[frozenset[Mode]] = frozenset({"poll"})
    Options: ClassVar[builtins.type[ChannelOptions]] = LegacyDbOptions
    secret_fields: ClassVar[frozenset[str]] = frozenset({"database"})
    docs_url: ClassVar[str] = "README.md#legacy-website-database-legacy_db"

    def __init__(self, options: ChannelOptions, *, public_url: str = "") -> None:
        super().__init__(options, public_url=public_url)
        self._engine: Engine | None = None
        self._table: Table | None = None
        self.zone = ZoneInfo(self.options.time_zone or DEFAULT_TIME_ZONE)

    def _source(self) -> tuple[Engine, Table]:
        if self._engine is None or self._table is None:
            try:
                engine = create_engine(self.options.database.get_secret_value(), pool_pre_ping=True)
                schema, _, name = self.options.table.rpartition(".")
                table = Table(name, MetaData(), schema=schema or None, autoload_with=engine)
            except NoSuchTableError as exc:
                raise AdapterUnavailable(f"tabel `{self.options.table}` tidak ada") from exc
            except (SQLAlchemyError, ImportError) as exc:
                raise AdapterUnavailable(
                    f"basis data tidak terjangkau ({type(exc).__name__})"
                ) from exc
            if self.options.id_column not in table.c:
                raise AdapterUnavailable(
                    f"tabel `{self.options.table}` tidak punya kolom `{self.options.id_column}`"
                )
            self._engine, self._table = engine, table
        return self._engine, self._table

    def poll(self, cursor: str | None) -> Iterator[tuple[RawMessage, str | None]]:
        """Every row after the cursor, oldest first, read a batch at a time."""
        engine, table = self._source()
        id_col = table.c[self.options.id_column]
        last = json.loads(cursor)["last"] if cursor else self.options.start_after
        while True:
            query = select(table).order_by(id_col).limit(self.options.batch_size)
            if last is not None:
                query = query.where(id_col > _typed(last, id_col.type))
            try:
                with engine.connect() as conn:
                    rows = [dict(row._mapping) for row in conn.execute(query)]
            except SQLAlchemyError as exc:
                raise AdapterUnavailable(
                    f"membaca tabel `{self.options.table}` gagal ({type(exc).__name__})"
                ) from exc
            for row in rows:
                last = _jsonable(row[self.options.id_column])
                yield self.message_from_row(row), json.dumps({"last": last})
            if len(rows) < self.options.batch_size:
                return

    def message_from_row(self, row: dict[str, Any]) -> RawMessage:
        """One row as a message; a row that cannot be read carries its error instead."""
        record = {k: _jsonable(v) for k, v in row.items()}
        row_key = f"{self.options.table}:{record[self.options.id_column]}"
        now = dt.datetime.now(dt.UTC)
        try:
            external_id, draft = draft_from_fields(
                record, self.options.fields, now, local_zone=self.zone
            )
            if "external_id" not in self.options.fields:
                external_id = draft.external_id = row_key
        except PayloadInvalid as exc:
            return RawMessage(
                row_key,
                now,
                {"row": record},
                MessageDraft(external_id=row_key, received_at=now, body=""),
                problem=exc,
            )
        return RawMessage(external_id, draft.received_at, {"row": record}, draft)

    def reread(self, raw: Mapping[str, Any], received_at: dt.datetime) -> list[RawMessage]:
        """A kept row, read again with today's `fields:` (after a config fix)."""
        row = raw.get("row")
        if not isinstance(row, dict):
            raise NotImplementedError("this kept input holds no table row")
        return [self.message_from_row(dict(row))]

    def close(self) -> None:
        """Release the source database's pool."""
        if self._engine is not None:
            self._engine.dispose()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()  # naive stays naive: read in the channel's zone
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _typed(value: Any, column_type: Any) -> Any:
    """The cursor value as the id column's Python type (an int id compares as an int)."""
    try:
        return column_type.python_type(value)
    except (NotImplementedError, TypeError, ValueError):
        return value
