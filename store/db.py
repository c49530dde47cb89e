"""Engine and session factory: SQLite in WAL with synchronous=FULL, or PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

READ_ONLY = "sp4n_read_only"


def make_engine(url: str, *, base_dir: Path | None = None, pool_size: int = 10) -> Engine:
    """An engine for the gateway's database; a relative SQLite path is below `base_dir`."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed.database, base_dir)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _sqlite_engine(database: str | None, base_dir: Path | None) -> Engine:
    if database in (None, "", ":memory:"):
        raise ValueError(
            "an in-memory SQLite database loses every message on restart; "
            "give a file path, e.g. sqlite:///data/gateway.db"
        )
    path = Path(database)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        f"sqlite:///{path}", connect_args={"timeout": 30, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite's own transaction handling is off; we say BEGIN ourselves (below).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")  # a committed message survives power loss
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front: two workers never read the same due row
        # and then both write it, and a reader never fails when upgrading to a writer.
        # Read-only work (status pages, health, admin lists) begins DEFERRED: in WAL mode it
        # reads a snapshot without waiting for, or holding off, the intake writer.
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (the caller owns the session)."""
    return sessionmaker(engine, expire_on_commit=False)


def make_read_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions for read-only work: on SQLite they never take the write lock.

    Writing through one is a bug: SQLite then fails with "database is locked" instead of
    waiting, so every path that writes must use `make_sessionmaker`'s sessions.
    """
    return sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)


def is_sqlite(engine: Engine) -> bool:
    """Whether this is the embedded single-process database."""
    return engine.dialect.name == "sqlite"
