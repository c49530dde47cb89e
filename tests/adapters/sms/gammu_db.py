"""Throw-away Gammu SMSD databases built from the schema files Debian's gammu-smsd installs.

The schema is read at test time from `/usr/share/doc/gammu-smsd/examples/` (not copied into
the repository). Debian ships version 17 only; version 18 is derived from it by what the
Gammu 1.44 release notes say changed ("new inbox grouping columns and outbox SendDays
column"), see `V18_CHANGES`: the adapter must work whatever extra columns a newer schema
brings, since it reads and writes only columns both versions have.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.helpers import need_service

EXAMPLES = Path("/usr/share/doc/gammu-smsd/examples")
MARIADB_ADMIN = os.environ.get("SP4N_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/")

# Debian ships Gammu 1.42 (schema 17). Gammu 1.44's schema 18, as its own docs/sql scripts
# define it, adds to `inbox` InsertIntoDB and the multipart grouping columns MessageID,
# SequencePosition and PartCount, and to `outbox` the weekday mask SendDays (127 = every
# day): the upgrade an existing database gets.
V18_CHANGES = {
    "mysql": [
        "ALTER TABLE inbox ADD COLUMN InsertIntoDB timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP",
        "ALTER TABLE inbox ADD COLUMN MessageID bigint unsigned NOT NULL DEFAULT 0",
        "ALTER TABLE inbox ADD COLUMN SequencePosition integer NOT NULL DEFAULT 1",
        "ALTER TABLE inbox ADD COLUMN PartCount integer NOT NULL DEFAULT 1",
        "ALTER TABLE outbox ADD COLUMN SendDays integer NOT NULL DEFAULT 127",
        "UPDATE gammu SET Version = 18",
    ],
}


@dataclass
class GammuDb:
    """One Gammu database: its URL, dialect and schema version."""

    url: str
    dialect: str
    version: int

    def engine(self) -> sa.Engine:
        """A fresh engine (the caller disposes of it)."""
        return sa.create_engine(self.url)

    def insert_inbox(self, *rows: dict[str, Any]) -> list[int]:
        """Insert inbox rows (as Gammu would) and return their IDs."""
        ids = []
        engine = self.engine()
        with engine.begin() as conn:
            for row in rows:
                values = {
                    "Text": "",
                    "UDH": "",
                    "RecipientID": "modem1",
                    "Coding": "Default_No_Compression",
                    "SMSCNumber": "+62816124",
                    "ReceivingDateTime": dt.datetime(2026, 11, 22, 3, 0, 0),
                    **row,
                }
                table = sa.table("inbox", sa.column("ID"), *(sa.column(k) for k in values))
                insert = sa.insert(table).values(**values)
                if conn.dialect.insert_returning:
                    ids.append(int(conn.execute(insert.returning(table.c.ID)).scalar_one()))
                else:
                    ids.append(int(conn.execute(insert).lastrowid))
        engine.dispose()
        return ids

    def rows(
        self, table: str, *columns: str, order: tuple[str, ...] = ("ID",)
    ) -> list[dict[str, Any]]:
        """Some columns of every row of a Gammu table, in order."""
        clause = sa.table(table, *(sa.column(c) for c in {*columns, *order}))
        query = sa.select(*(clause.c[c] for c in columns)).order_by(*(clause.c[c] for c in order))
        engine = self.engine()
        with engine.connect() as conn:
            result = [dict(r._mapping) for r in conn.execute(query)]
        engine.dispose()
        return result


def _statements(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in re.split(r";\s*\n", "\n".join(lines)) if s.strip()]


@contextmanager
def gammu_database(kind: str, tmp_path: Path) -> Iterator[GammuDb]:
    """A fresh Gammu database: `mariadb-v17`, `mariadb-v18`, `postgres-v17`, `sqlite-v17`."""
    backend, version = kind.split("-v")
    schema_file = {"mariadb": "mysql.sql", "postgres": "pgsql.sql", "sqlite": "sqlite.sql"}[backend]
    schema = EXAMPLES / schema_file
    if not schema.exists():
        need_service("gammu-smsd", f"{schema} is not installed (apt-get install gammu-smsd)")
    sql = schema.read_text(encoding="utf-8")
    name = f"gammu_test_{uuid.uuid4().hex[:10]}"
    if backend == "sqlite":
        path = tmp_path / f"{name}.db"
        with sqlite3.connect(path) as conn:
            conn.executescript(sql)
        yield GammuDb(f"sqlite:///{path}", "sqlite", int(version))
        return
    if backend == "postgres":
        admin = os.environ.get("SP4N_TEST_POSTGRES_URL")
        if not admin:
            need_service("PostgreSQL", "SP4N_TEST_POSTGRES_URL is not set")
        import psycopg

        try:
            with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
        except psycopg.OperationalError as exc:
            need_service("PostgreSQL", f"cannot connect: {exc}")
        url = admin.rsplit("/", 1)[0] + f"/{name}"
        # The shipped script says CREATE LANGUAGE plpgsql, which PostgreSQL >= 9 has built in.
        sql = sql.replace("CREATE LANGUAGE plpgsql;", "CREATE OR REPLACE LANGUAGE plpgsql;")
        try:  # from here on the database exists: it is dropped whatever happens
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(sql)  # no parameters: the whole script in one simple query
            yield GammuDb(
                url.replace("postgresql://", "postgresql+psycopg://"), "postgresql", int(version)
            )
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    admin_engine = sa.create_engine(MARIADB_ADMIN)
    try:
        with admin_engine.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    except sa.exc.OperationalError as exc:
        admin_engine.dispose()
        need_service("MariaDB", f"cannot connect to {MARIADB_ADMIN}: {exc.orig}")
    url = (
        sa.make_url(MARIADB_ADMIN)
        .set(database=name)
        .update_query_dict({"charset": "utf8mb4"})
        .render_as_string(hide_password=False)
    )
    try:  # from here on the database exists: it is dropped whatever happens
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            for statement in _statements(sql):
                conn.exec_driver_sql(statement.replace("%", "%%"))
            if version == "18":
                for statement in V18_CHANGES["mysql"]:
                    conn.exec_driver_sql(statement)
        engine.dispose()
        yield GammuDb(url, "mysql", int(version))
    finally:
        with admin_engine.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin_engine.dispose()
