"""`gammu_smsd`: a pemda's old GSM-modem hotline run by Gammu SMSD, read from its SQL database.

Gammu SMSD stores each received SMS as a row of `inbox`. The adapter polls rows with
`Processed = 'false'` in ID order, reassembles long SMS from their UDH (`adapters.sms.multipart`),
and yields one message per SMS; `confirm` sets `Processed = 'true'` once the gateway has
stored them. A crash in between yields the same message again with the same external id
(`inbox:12+13+14`), which the gateway recognises. Replies are INSERTed into `outbox` (and
`outbox_multipart` for long texts) for the daemon to send. Gammu's schema (versions 17 and
18) is only read and written, never altered. MySQL/MariaDB, PostgreSQL and SQLite all work.
"""

from __future__ import annotations

import builtins
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import Field, SecretStr, field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from adapters.base import ChannelOptions, Mode, OutgoingReply, PollOptions
from adapters.sms.common import SmsAdapter, SmsFields, sms_draft, sms_reply_text
from adapters.sms.gsm import build_udh, encoding_of, split_parts
from adapters.sms.multipart import Assembled, Part, assemble
from normalizer.redact import redact_text
from vocabulary.drafts import RawMessage
from vocabulary.durations import Duration
from vocabulary.errors import AdapterUnavailable, SendError
from vocabulary.holds import HoldReason

SUPPORTED_VERSIONS = frozenset({17, 18})
# Literals, not parameters: Processed/MultiPart are ENUM (MySQL), boolean (PostgreSQL), text.
TRUE: sa.ColumnClause[Any] = sa.literal_column("'true'")
FALSE: sa.ColumnClause[Any] = sa.literal_column("'false'")

INBOX = sa.table(
    "inbox",
    *(
        sa.column(c)
        for c in (
            "ID",
            "ReceivingDateTime",
            "SenderNumber",
            "Coding",
            "UDH",
            "TextDecoded",
            "Processed",
            "RecipientID",
            "SMSCNumber",
            "Class",
        )
    ),
)
OUTBOX = sa.table(
    "outbox",
    *(
        sa.column(c)
        for c in (
            "ID",
            "DestinationNumber",
            "TextDecoded",
            "Coding",
            "UDH",
            "MultiPart",
            "CreatorID",
            "SenderID",
            "Class",
            "SendingTimeOut",
        )
    ),
)
OUTBOX_MULTIPART = sa.table(
    "outbox_multipart",
    *(sa.column(c) for c in ("ID", "SequencePosition", "TextDecoded", "Coding", "UDH", "Class")),
)
# Schema 18 (Gammu 1.44) groups the parts of a long SMS in the inbox itself.
INBOX_18 = sa.table(
    "inbox",
    *(sa.column(c) for c in (*INBOX.c.keys(), "MessageID", "SequencePosition", "PartCount")),
)
SENTITEMS = sa.table(
    "sentitems", sa.column("ID"), sa.column("CreatorID"), sa.column("DestinationNumber")
)
GAMMU = sa.table("gammu", sa.column("Version"))


class GammuOptions(PollOptions, SmsFields):
    """YAML fields of a `gammu_smsd` channel."""

    type: Literal["gammu_smsd"] = "gammu_smsd"
    database: str
    password: SecretStr | None = None
    multipart_wait: Duration = 600.0
    creator_id: str = Field(default="sp4n-gateway", min_length=1, max_length=200)
    sender_id: str | None = None  # PhoneID of the daemon that sends replies
    time_zone: str = "Asia/Jakarta"
    window: int = Field(default=5000, ge=10, le=100000)  # unprocessed rows read per poll

    @field_validator("database")
    @classmethod
    def _url(cls, value: str) -> str:
        try:
            make_url(value)
        except ArgumentError:
            raise ValueError(
                "expected an SQLAlchemy URL such as mysql+pymysql://gammu@localhost/smsd"
            ) from None
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        ZoneInfo(value)
        return value


class GammuSmsdAdapter(SmsAdapter[GammuOptions]):
    """Gammu SMSD's SQL backend: poll `inbox`, reply through `outbox`."""

    type: ClassVar[str] = "gammu_smsd"
    modes: ClassVar[frozenset[Mode]] = frozenset({"poll"})
    Options: ClassVar[builtins.type[ChannelOptions]] = GammuOptions
    secret_fields: ClassVar[frozenset[str]] = frozenset({"password"})
    docs_url: ClassVar[str] = "https://docs.gammu.org/smsd/tables.html"

    def __init__(
        self,
        options: ChannelOptions,
        *,
        public_url: str = "",
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        super().__init__(options, public_url=public_url)
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.zone = ZoneInfo(self.options.time_zone)
        self._engine: sa.Engine | None = None
        self.schema_version: int | None = None

    def engine(self) -> sa.Engine:
        """This adapter's own engine on Gammu's database (checked on first use)."""
        if self._engine is None:
            url = make_url(self.options.database)
            if self.options.password is not None:
                url = url.set(password=self.options.password.get_secret_value())
            engine = (
                sa.create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=2)
                if url.get_backend_name() != "sqlite"
                else sa.create_engine(url)
            )
            try:
                with engine.connect() as conn:
                    version = conn.execute(sa.select(sa.func.max(GAMMU.c.Version))).scalar()
            except SQLAlchemyError as exc:
                engine.dispose()
                raise AdapterUnavailable(
                    "basis data Gammu tidak terjangkau atau bukan skema Gammu"
                    f" ({type(exc).__name__})"
                ) from None
            if version not in SUPPORTED_VERSIONS:
                engine.dispose()
                raise AdapterUnavailable(
                    f"skema Gammu versi {version} tidak didukung"
                    f" (yang didukung: {sorted(SUPPORTED_VERSIONS)})"
                )
            self._engine, self.schema_version = engine, int(version)
        return self._engine

    def poll(self, cursor: str | None) -> Iterator[tuple[RawMessage, str | None]]:
        """Unprocessed inbox rows as whole messages, each with the cursor that follows it.

        The cursor lists the groups of row ids handed out but maybe not yet confirmed, so a
        repeat after a crash is formed exactly as before (same external id).
        """
        known = _groups(cursor)
        engine = self.engine()
        inbox = INBOX_18 if (self.schema_version or 0) >= 18 else INBOX
        query = (
            sa.select(*inbox.c)
            .where(inbox.c.Processed == FALSE)
            .order_by(inbox.c.ID)
            .limit(self.options.window)
        )
        try:
            with engine.connect() as conn:
                rows = [dict(r._mapping) for r in conn.execute(query)]
        except SQLAlchemyError as exc:
            raise AdapterUnavailable(
                f"kotak masuk Gammu tidak terbaca ({type(exc).__name__})"
            ) from None
        by_id = {int(r["ID"]): r for r in rows}
        parts = [
            Part(
                i,
                str(r["SenderNumber"] or ""),
                self._utc(r["ReceivingDateTime"]),
                str(r["TextDecoded"] or ""),
                str(r["UDH"] or "") or _udh_from_group(r),
            )
            for i, r in by_id.items()
        ]
        ready = assemble(
            parts, known, self.clock(), dt.timedelta(seconds=self.options.multipart_wait)
        )
        pending = [g for g in known if all(i in by_id for i in g)]
        for message in ready[: self.options.batch_size]:
            if list(message.ids) not in pending:
                pending.append(list(message.ids))
            yield (
                self._message(message, [by_id[i] for i in message.ids]),
                json.dumps({"groups": pending}),
            )

    def _utc(self, value: Any) -> dt.datetime:
        moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        return moment.astimezone(dt.UTC)

    def _message(self, message: Assembled, rows: list[dict[str, Any]]) -> RawMessage:
        external_id = "inbox:" + "+".join(str(i) for i in message.ids)
        first = rows[0]
        text, hold = message.text(), None
        if all(r["Coding"] == "8bit" for r in rows):
            text, hold = "[SMS biner 8-bit tanpa teks]", HoldReason.BINARY
        elif self.grammar.is_empty(text):
            hold = HoldReason.EMPTY
        extra = {"phone_id": str(first["RecipientID"])} if first.get("RecipientID") else None
        draft = sms_draft(
            external_id=external_id,
            received_at=message.received_at,
            sender=message.parts[0].sender,
            text=text,
            grammar=self.grammar,
            region=self.options.region,
            reply_extra=extra,
        )
        if not message.complete:
            draft.notes.append(
                f"SMS panjang tidak lengkap: bagian {', '.join(map(str, message.missing()))}"
                f" dari {message.total} tidak tiba dalam {self.options.multipart_wait:g} detik"
            )
        raw = {
            "source": "gammu_smsd",
            "schema_version": self.schema_version,
            "inbox_ids": list(message.ids),
            "complete": message.complete,
            "rows": [
                {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in r.items()}
                for r in rows
            ],
        }
        return RawMessage(external_id, message.received_at, raw, draft, hold=hold)

    def confirm(self, messages: Sequence[RawMessage]) -> None:
        """Mark the messages' inbox rows processed (idempotent)."""
        ids = [int(i) for m in messages for i in m.raw.get("inbox_ids", [])]
        try:
            with self.engine().begin() as conn:
                for start in range(0, len(ids), 500):
                    conn.execute(
                        sa.update(INBOX)
                        .where(INBOX.c.ID.in_(ids[start : start + 500]))
                        .values(Processed=TRUE)
                    )
        except SQLAlchemyError as exc:
            raise AdapterUnavailable(
                f"kotak masuk Gammu tidak dapat diperbarui ({type(exc).__name__})"
            ) from None

    def close(self) -> None:
        """Dispose of the engine."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def send_reply(self, reply: OutgoingReply) -> str | None:
        """Queue the reply in Gammu's outbox; long texts as multipart with a concat UDH.

        `CreatorID` names the gateway and the reply (`sp4n-gateway:<reply id>`): a retry after
        a crash between this insert and our own record finds the row (waiting in the outbox
        or already in sentitems) and does not queue the SMS a second time; a long one left
        without some of its parts (see `_hold`) gets them and is released.
        """
        creator = f"{self.options.creator_id}:{reply.reply_id}"
        first, parts = self._rows(reply, creator)
        try:
            with self.engine().begin() as conn:
                sent = _find(conn, SENTITEMS, creator, first["DestinationNumber"])
                if sent is not None:
                    return f"sent:{sent}"
                outbox_id = _find(conn, OUTBOX, creator)
                if outbox_id is None:
                    outbox_id = _insert_outbox(conn, {**first, **_hold(conn, parts)})
                if parts:
                    _write_parts(conn, outbox_id, parts)
        except DBAPIError as exc:
            raise SendError(
                f"kotak keluar Gammu tidak dapat ditulis: {database_error(exc)}",
                retryable=exc.connection_invalidated or isinstance(exc, sa.exc.OperationalError),
            ) from None
        except AdapterUnavailable as exc:
            raise SendError(str(exc), retryable=True) from None
        return f"outbox:{outbox_id}"

    def _rows(
        self, reply: OutgoingReply, creator: str
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The reply's `outbox` row and its `outbox_multipart` rows (no ID yet)."""
        text = sms_reply_text(reply.text, self.options.max_reply_parts)
        texts = split_parts(text) or [text]
        coding = (
            "Default_No_Compression" if encoding_of(text) == "gsm7" else "Unicode_No_Compression"
        )
        # The reference is derived from the reply id: a retried reply carries the same one.
        ref = hashlib.sha256(reply.reply_id.encode()).digest()[0]
        udh = [
            build_udh(ref, len(texts), n) if len(texts) > 1 else ""
            for n in range(1, len(texts) + 1)
        ]
        first = {
            "DestinationNumber": reply.reply_to["phone"],
            "TextDecoded": texts[0],
            "Coding": coding,
            "UDH": udh[0],
            "Class": -1,
            "MultiPart": TRUE if len(texts) > 1 else FALSE,
            "CreatorID": creator,
            "SenderID": self.options.sender_id or reply.reply_to.get("phone_id"),
        }
        parts = [
            {
                "SequencePosition": n,
                "TextDecoded": part,
                "Coding": coding,
                "UDH": udh[n - 1],
                "Class": -1,
            }
            for n, part in enumerate(texts[1:], start=2)
        ]
        return first, parts


def _find(
    conn: sa.Connection, table: sa.TableClause, creator: str, number: str | None = None
) -> int | None:
    """The ID of a row `table` holds for this reply (`CreatorID`), if any.

    `sentitems` keeps every SMS ever sent and has no index on `CreatorID`: looked up by the
    number too, through Gammu's index on `DestinationNumber` (0.8 ms instead of a 150 ms
    scan of 300,000 rows on MariaDB, holding MyISAM's table lock against SMSD meanwhile).
    """
    query = sa.select(table.c.ID).where(table.c.CreatorID == creator)
    if number is not None:
        query = query.where(table.c.DestinationNumber == number)
    found = conn.execute(query.limit(1)).scalar()
    return None if found is None else int(found)


def _hold(conn: sa.Connection, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Columns that keep SMSD off a long reply's first row until its parts are written.

    Gammu's MySQL schema keeps its tables in MyISAM, without transactions: SMSD could read
    the `outbox` row between our inserts and send a long reply without its later parts, and
    a crash in between would leave it so. The row is inserted holding Gammu's own send lock
    (`SendingTimeOut` ahead, as SMSD sets it while it sends) and released once every part
    is there. Elsewhere the transaction already shows the rows together.
    """
    if not parts or conn.dialect.name != "mysql":
        return {}
    return {"SendingTimeOut": sa.literal_column("NOW() + INTERVAL 1 HOUR")}


def _insert_outbox(conn: sa.Connection, row: dict[str, Any]) -> int:
    insert = sa.insert(OUTBOX).values(**row)
    # MariaDB's INSERT ... RETURNING wants SELECT on every inserted column, which the
    # documented grants leave out: there the driver's last insert id serves.
    if conn.dialect.insert_returning and conn.dialect.name != "mysql":
        return int(conn.execute(insert.returning(OUTBOX.c.ID)).scalar_one())
    return int(conn.execute(insert).lastrowid)


def _write_parts(conn: sa.Connection, outbox_id: int, parts: list[dict[str, Any]]) -> None:
    """Insert the parts `outbox_multipart` lacks for this row, then release its hold."""
    multipart, outbox = OUTBOX_MULTIPART.c, OUTBOX.c
    present = set(
        conn.execute(
            sa.select(multipart.SequencePosition).where(multipart["ID"] == outbox_id)
        ).scalars()
    )
    for part in parts:
        if part["SequencePosition"] not in present:
            conn.execute(sa.insert(OUTBOX_MULTIPART).values(ID=outbox_id, **part))
    if _hold(conn, parts):
        # Only our own hold (an hour ahead) is lifted, never SMSD's lock on a row it is
        # sending (its `locktime`, a minute or so ahead): that would let it send twice.
        conn.execute(
            sa.update(OUTBOX)
            .where(
                outbox["ID"] == outbox_id,
                outbox.SendingTimeOut > sa.literal_column("NOW() + INTERVAL 10 MINUTE"),
            )
            .values(SendingTimeOut=sa.func.now())
        )


_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")
# MariaDB quotes names too ("for column 'CreatorID' in table 'outbox'"): those stay.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$.]{0,63}")


def _unquote_values(text: str) -> str:
    return _QUOTED.sub(lambda m: m.group(0) if _NAME.fullmatch(m.group(1)) else "'…'", text)


def database_error(exc: DBAPIError) -> str:
    """The database's own words on a failed statement, safe for a log line.

    The driver's code and first line of its message (MySQL's `(1142, "INSERT command denied
    ... for table `outbox`")`, PostgreSQL's primary message without its DETAIL), with quoted
    values that are not plain names replaced by `'…'` (MySQL quotes the offending value: a
    text's bytes, a number) and what still looks like personal data masked. Names (tables,
    columns, the database user) stay readable.
    """
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    primary = getattr(diag, "message_primary", None)
    args: tuple[Any, ...] = tuple(getattr(orig, "args", ()))
    if primary:
        text = str(primary)
    elif len(args) >= 2 and isinstance(args[0], int):
        text = f"({args[0]}) {args[1]}"
    else:
        text = str(orig)
    first = (text.strip().splitlines() or [""])[0]
    masked = redact_text(_unquote_values(first))
    return f"{type(orig).__name__}: {masked}"[:300]


def _udh_from_group(row: dict[str, Any]) -> str:
    """A concatenation header from schema 18's grouping columns, for a part stored without UDH.

    The 16-bit reference form carries the low bits of the group's MessageID; parts are matched
    by sender and reference, as with a UDH the phone delivered.
    """
    total, position = int(row.get("PartCount") or 1), int(row.get("SequencePosition") or 1)
    group = int(row.get("MessageID") or 0)
    if total <= 1 or group == 0 or not 1 <= position <= total <= 255:
        return ""
    return f"060804{group % 65536:04X}{total:02X}{position:02X}"


def _groups(cursor: str | None) -> list[list[int]]:
    """The row groups a cursor lists; an unreadable cursor lists none (regrouped afresh)."""
    try:
        groups = json.loads(cursor)["groups"] if cursor else []
        return [[int(i) for i in group] for group in groups]
    except (ValueError, KeyError, TypeError):
        return []
