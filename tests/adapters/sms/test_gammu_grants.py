"""`gammu_smsd` under least privilege: a MariaDB or PostgreSQL user holding exactly the grants
the README documents (read from the README itself) polls, confirms and replies on Gammu's
real schema; a user missing one of them gets the database's own error text, without
personal data."""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.base import OutgoingReply
from adapters.sms.gammu_smsd import GammuOptions, GammuSmsdAdapter
from tests.adapters.sms.gammu_db import MARIADB_ADMIN, GammuDb, gammu_database
from vocabulary.errors import SendError

README = Path(__file__).resolve().parents[3] / "README.md"
SENDER = "+6281200000031"
PASSWORD = "gammu-least-privilege-7c1e"  # a throw-away test user's password


BLOCKS = {"mysql": "-- MariaDB / MySQL", "postgresql": "-- PostgreSQL"}


def documented_grants(dialect: str) -> list[str]:
    """The GRANT statements of the README's Gammu SMSD section for one database, as written."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("**Gammu SMSD**") : text.index("### Telegram")]
    blocks = re.findall(r"```sql\n(.*?)```", section, re.S)
    (block,) = [b for b in blocks if b.startswith(BLOCKS[dialect])]
    grants = [s.strip() for s in block.split(";") if s.strip()]
    grants = [re.sub(r"^--.*\n", "", g).strip() for g in grants]
    assert grants and all(g.upper().startswith("GRANT ") for g in grants)
    return grants


def _for(grant: str, database: str, user: str) -> str:
    """A documented grant made for this test's database and user (nothing else changed)."""
    grant = re.sub(r"\bsmsd\.", f"`{database}`.", grant)
    # This server resolves no names: the user connects from 127.0.0.1, not 'localhost'.
    grant = grant.replace("'sp4n'@'localhost'", f"'{user}'@'127.0.0.1'")
    return re.sub(r"\bTO sp4n$", f"TO {user}", grant)


@pytest.fixture(params=["mariadb-v17", "mariadb-v18", "postgres-v17"])
def gammu(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GammuDb]:
    with gammu_database(request.param, tmp_path) as db:
        yield db


@pytest.fixture(params=["mariadb-v17", "mariadb-v18"])
def mariadb(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GammuDb]:
    with gammu_database(request.param, tmp_path) as db:
        yield db


@contextmanager
def _user_with(gammu: GammuDb, grants: list[str]) -> Iterator[str]:
    """A new database user holding `grants` only; yields its database URL, drops it after."""
    url = sa.make_url(gammu.url)
    assert url.database
    user = f"sp4n_{uuid.uuid4().hex[:10]}"
    if gammu.dialect == "postgresql":
        admin = sa.create_engine(url)  # grants live in Gammu's own database there
        create = f"CREATE ROLE {user} LOGIN PASSWORD '{PASSWORD}'"
        drop = [f"DROP OWNED BY {user}", f"DROP ROLE IF EXISTS {user}"]
    else:
        admin = sa.create_engine(MARIADB_ADMIN)
        create = f"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'"
        drop = [f"DROP USER IF EXISTS '{user}'@'127.0.0.1'"]
    with admin.begin() as conn:
        conn.exec_driver_sql(create)
        for grant in grants:
            conn.exec_driver_sql(_for(grant, url.database, user))
    try:
        yield url.set(username=user, password=None).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            for statement in drop:
                conn.exec_driver_sql(statement)
        admin.dispose()


@pytest.fixture
def least_privileged(gammu: GammuDb) -> Iterator[str]:
    with _user_with(gammu, documented_grants(gammu.dialect)) as url:
        yield url


def _adapter(url: str) -> GammuSmsdAdapter:
    options = GammuOptions(
        name="hotline", database=url, password=PASSWORD, time_zone="UTC", max_reply_parts=3
    )
    return GammuSmsdAdapter(options, clock=lambda: dt.datetime(2026, 11, 22, 4, 0, tzinfo=dt.UTC))


def _reply(reply_id: str, text: str) -> OutgoingReply:
    return OutgoingReply(
        reply_id=reply_id,
        report_id="rep",
        tracking_id="LPR1234567",
        event="ack",
        text=text,
        reply_to={"phone": SENDER},
        external_id="inbox:1",
    )


def _held(gammu: GammuDb) -> list[bool]:
    """Per outbox row: whether SMSD would pass it by (its send lock runs into the future)."""
    outbox = sa.table("outbox", sa.column("ID"), sa.column("SendingTimeOut"))
    engine = gammu.engine()
    with engine.connect() as conn:
        held = conn.execute(
            sa.select(outbox.c.SendingTimeOut > sa.func.now()).order_by(outbox.c.ID)
        ).scalars()
        result = [bool(h) for h in held]
    engine.dispose()
    return result


def _cut_short(gammu: GammuDb) -> None:
    """The state a crash right after the first insert leaves on MyISAM tables."""
    engine = gammu.engine()
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM outbox_multipart WHERE SequencePosition > 2")
        conn.exec_driver_sql("UPDATE outbox SET SendingTimeOut = NOW() + INTERVAL 1 HOUR")
    engine.dispose()


def _lock_as_smsd(gammu: GammuDb) -> None:
    """SMSD's lock on a row it is sending (`refresh_send_status`, locktime 60 s)."""
    engine = gammu.engine()
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE outbox SET SendingTimeOut = NOW() + INTERVAL 60 SECOND")
    engine.dispose()


SENT_COLUMNS = ("ID", "DestinationNumber", "TextDecoded", "Coding", "UDH", "Class", "CreatorID")


def _move_outbox_to_sentitems(gammu: GammuDb) -> None:
    """What gammu-smsd does once it has sent a message (as its own, fully privileged user)."""
    outbox = sa.table("outbox", *(sa.column(c) for c in (*SENT_COLUMNS, "Text", "SenderID")))
    fixed = {
        "SequencePosition": 1,
        "Text": sa.func.coalesce(outbox.c.Text, ""),
        "SenderID": sa.func.coalesce(outbox.c.SenderID, ""),
        "Status": sa.literal_column("'SendingOK'"),
        "SMSCNumber": "",
        "TPMR": -1,
        "StatusError": -1,
        "RelativeValidity": -1,
    }
    names = [*SENT_COLUMNS, *fixed]
    values = [outbox.c[c] for c in SENT_COLUMNS] + [
        v if isinstance(v, sa.ColumnElement) else sa.literal(v) for v in fixed.values()
    ]
    sentitems = sa.table("sentitems", *(sa.column(c) for c in names))
    engine = gammu.engine()
    with engine.begin() as conn:
        conn.execute(sa.insert(sentitems).from_select(names, sa.select(*values)))
        conn.execute(sa.delete(sa.table("outbox_multipart")))
        conn.execute(sa.delete(outbox))
    engine.dispose()


def test_the_documented_grants_poll_confirm_and_reply_once(
    gammu: GammuDb, least_privileged: str
) -> None:
    (row_id,) = gammu.insert_inbox(
        {"TextDecoded": "LAPOR lampu jalan mati", "SenderNumber": SENDER, "Processed": "false"}
    )
    adapter = _adapter(least_privileged)
    try:
        ((message, _cursor),) = list(adapter.poll(None))
        assert message.draft.body == "lampu jalan mati"
        adapter.confirm([message])
        (inbox,) = gammu.rows("inbox", "ID", "Processed")
        assert inbox["ID"] == row_id and inbox["Processed"] in ("true", True)

        # A long reply: outbox plus outbox_multipart.
        long = _reply("01LONG", "Tanggapan Dinas PUPR: " + "perbaikan dijadwalkan minggu ini. " * 8)
        first = adapter.send_reply(long)
        assert first is not None and first.startswith("outbox:")
        assert len(gammu.rows("outbox_multipart", "ID", order=("ID", "SequencePosition"))) >= 1
        # Written whole, then released for SMSD (only MySQL holds it meanwhile).
        assert gammu.dialect != "mysql" or _held(gammu) == [False]
        parts = gammu.rows("outbox_multipart", "SequencePosition", "TextDecoded", "UDH")
        # Tried again (a crash before the gateway recorded it): found, not queued again.
        assert adapter.send_reply(long) == first
        assert len(gammu.rows("outbox", "ID")) == 1
        if gammu.dialect == "mysql":
            # A try cut short after the first row (MyISAM keeps what was written): still
            # held, so SMSD leaves it; the next try writes the missing parts and releases it.
            _cut_short(gammu)
            assert _held(gammu) == [True]
            assert adapter.send_reply(long) == first
            assert gammu.rows("outbox_multipart", "SequencePosition", "TextDecoded", "UDH") == (
                parts
            )
            assert _held(gammu) == [False]
            # SMSD sending it right now holds its own lock: a try then leaves that alone.
            _lock_as_smsd(gammu)
            assert adapter.send_reply(long) == first
            assert _held(gammu) == [True]
        # Sent by the daemon meanwhile: found in sentitems, still not queued again.
        _move_outbox_to_sentitems(gammu)
        assert adapter.send_reply(long) == first.replace("outbox:", "sent:")
        assert gammu.rows("outbox", "ID") == []
        # Another reply is queued as usual.
        other = adapter.send_reply(_reply("01SHORT", "Laporan diterima: LPR1234567"))
        assert other is not None and other.startswith("outbox:")
        (row,) = gammu.rows("outbox", "CreatorID", "DestinationNumber")
        assert row == {"CreatorID": "sp4n-gateway:01SHORT", "DestinationNumber": SENDER}
    finally:
        adapter.close()


@pytest.mark.parametrize("table", ["sentitems", "outbox"])
def test_a_missing_grant_is_reported_in_the_databases_words(mariadb: GammuDb, table: str) -> None:
    gammu = mariadb
    documented = documented_grants("mysql")
    grants = [g for g in documented if f"smsd.{table} " not in g]
    assert len(grants) == len(documented) - 1
    with _user_with(gammu, grants) as url:
        adapter = _adapter(url)
        try:
            with pytest.raises(SendError) as caught:
                adapter.send_reply(_reply("01DENIED", "Tanggapan: " + "jalan diperbaiki. " * 12))
        finally:
            adapter.close()
    message = str(caught.value)
    assert "(1142)" in message and "denied" in message and f"`{table}`" in message
    assert caught.value.retryable  # the admin fixes the grant; the reply goes then
    assert SENDER not in message and SENDER[1:] not in message
    assert "jalan" not in message
    assert gammu.rows("outbox", "ID") == []  # nothing half-written


@pytest.mark.parametrize(
    "code, text, kept, gone",
    [
        (
            1366,
            "Incorrect string value: '\\xF0\\x9F\\x99\\x8F' for column `smsd`.`outbox`."
            "`TextDecoded` at row 1",
            "(1366) Incorrect string value: '…' for column `smsd`.`outbox`.`TextDecoded`",
            "\\xF0",
        ),
        (
            1062,
            "Duplicate entry '+6281200000031-1' for key 'PRIMARY'",
            "(1062) Duplicate entry '…' for key 'PRIMARY'",
            "6281200000031",
        ),
        (
            1143,
            "SELECT command denied to user 'gammu'@'10.0.0.5' for column 'ID' in table 'outbox'",
            "SELECT command denied to user 'gammu'@'…' for column 'ID' in table 'outbox'",
            "10.0.0.5",
        ),
    ],
    ids=["a text's bytes", "a number in a key", "names stay, an address goes"],
)
def test_database_error_text_keeps_names_and_drops_values(
    code: int, text: str, kept: str, gone: str
) -> None:
    import pymysql

    from adapters.sms.gammu_smsd import database_error

    error = sa.exc.OperationalError("INSERT ...", {}, pymysql.err.OperationalError(code, text))
    said = database_error(error)
    assert kept in said
    assert gone not in said


def test_a_refused_reply_is_logged_with_the_databases_words(
    mariadb: GammuDb, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from sqlalchemy import select

    from store.models import ReplyItem, Report
    from tests.adapters.sms.runtime import sms_runtime

    grants = [g for g in documented_grants("mysql") if "smsd.sentitems " not in g]
    mariadb.insert_inbox({"TextDecoded": "LAPOR got mampet", "SenderNumber": SENDER})
    with _user_with(mariadb, grants) as url:
        runtime = sms_runtime(
            tmp_path,
            channel_yaml=f"""\
  - {{name: hotline, type: gammu_smsd, database: "{url}", password: "${{GAMMU_PW}}",
      time_zone: UTC}}
""",
            env={"GAMMU_PW": PASSWORD},
        )
        try:
            (poller,) = runtime.pollers()
            assert poller.run_once() == 1
            with runtime.sessions.begin() as session:
                (report,) = session.scalars(select(Report))
                report.tracking_id, report.state = "LPR0000001", "submitted"
                runtime.replies.acknowledge(session, report)
            caplog.set_level(logging.DEBUG)
            runtime.reply_sender().run_once()
            with runtime.sessions() as session:
                (reply,) = session.scalars(select(ReplyItem))
                last_error = reply.last_error
        finally:
            runtime.close()
    said = "(1142) SELECT command denied to user"
    assert said in str(last_error) and "`sentitems`" in str(last_error)
    assert said in caplog.text  # the channel's first failure is logged with the cause
    for value in (SENDER, SENDER[1:], "got mampet"):
        assert value not in caplog.text and value not in str(last_error)


def test_sentitems_is_searched_through_gammus_index_on_the_number(mariadb: GammuDb) -> None:
    engine = mariadb.engine()
    with engine.begin() as conn:  # a history of 2,000 SMS to 500 numbers
        conn.exec_driver_sql(
            "INSERT INTO sentitems (ID, DestinationNumber, TextDecoded, Text, UDH, SenderID,"
            " CreatorID) SELECT seq, CONCAT('+62812', LPAD(seq MOD 500, 7, '0')), 'ok', '', '',"
            " 'modem1', CONCAT('sp4n-gateway:', seq) FROM seq_1_to_2000"
        )
        conn.exec_driver_sql("ANALYZE TABLE sentitems")
    adapter = GammuSmsdAdapter(GammuOptions(name="hotline", database=mariadb.url))
    seen: list[tuple[str, Any]] = []
    sa.event.listen(
        adapter.engine(),
        "before_cursor_execute",
        lambda _c, _cur, statement, parameters, _ctx, _many: seen.append((statement, parameters)),
    )
    try:
        adapter.send_reply(_reply("01INDEX", "Laporan diterima: LPR1234567"))
    finally:
        adapter.close()
    lookups = [(q, p) for q, p in seen if "FROM sentitems" in q]
    assert len(lookups) == 1
    with engine.connect() as conn:
        plan = [
            dict(r._mapping)
            for r in conn.exec_driver_sql("EXPLAIN " + lookups[0][0], lookups[0][1])
        ]
    engine.dispose()
    assert [p["key"] for p in plan] == ["sentitems_dest"]
