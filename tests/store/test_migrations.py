"""The Alembic migrations build exactly the schema the models declare, on both databases."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from store import migrate
from store.db import make_engine
from store.models import Base
from store.search import POSTGRES_INDEXES, SEARCH_TABLE


def _not_search(name: str | None, type_: str, _parent: object) -> bool:
    """The text search's tables and indexes are made by SQL in migration 0016, not by models.

    (FTS5 and its keys on SQLite, pg_trgm expression indexes on PostgreSQL.)
    """
    if type_ == "table":
        return not (name or "").startswith(SEARCH_TABLE)
    return not (type_ == "index" and name in POSTGRES_INDEXES)


def test_migrations_match_models(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url, base_dir=tmp_path)
    try:
        migrate.upgrade(engine)
        migrate.upgrade(engine)  # a second start changes nothing
        assert migrate.is_current(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_name": _not_search})
            diff = compare_metadata(context, Base.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_with_full_sync(sqlite_url: str, tmp_path: Path) -> None:
    engine = make_engine(sqlite_url, base_dir=tmp_path)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


def test_in_memory_sqlite_is_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="loses every message"):
        make_engine("sqlite:///:memory:")


def test_sqlite_reads_do_not_wait_for_the_writer(sqlite_url: str, tmp_path: Path) -> None:
    """Issue 8.4: a read-only session reads a snapshot while a write transaction is open."""
    import threading
    import time

    from store.db import make_read_sessionmaker, make_sessionmaker
    from store.models import SyncState

    engine = make_engine(sqlite_url, base_dir=tmp_path)
    try:
        migrate.upgrade(engine)
        writes, reads = make_sessionmaker(engine), make_read_sessionmaker(engine)
        with writes.begin() as session:
            session.add(SyncState(key="k", value="before"))
        holding, release = threading.Event(), threading.Event()

        def writer() -> None:
            with writes.begin() as session:
                session.get(SyncState, "k").value = "during"  # type: ignore[union-attr]
                session.flush()
                holding.set()
                release.wait(10)

        thread = threading.Thread(target=writer)
        thread.start()
        assert holding.wait(10)
        started = time.monotonic()
        with reads() as session:
            value = session.get(SyncState, "k").value  # type: ignore[union-attr]
        waited = time.monotonic() - started
        release.set()
        thread.join()
        assert value == "before"  # the committed snapshot, not the writer's change
        assert waited < 1.0, f"a read waited {waited:.1f}s for the writer"
        # A plain (write) session does wait: the lock is what reads now avoid.
        with writes.begin() as session:
            assert session.get(SyncState, "k").value == "during"  # type: ignore[union-attr]
    finally:
        engine.dispose()
