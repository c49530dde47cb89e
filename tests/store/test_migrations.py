"""The Alembic migrations build exactly the schema the models declare, on both databases."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from store import migrate
from store.db import make_engine
from store.models import Base


def test_migrations_match_models(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url, base_dir=tmp_path)
    try:
        migrate.upgrade(engine)
        migrate.upgrade(engine)  # a second start changes nothing
        assert migrate.is_current(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
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
