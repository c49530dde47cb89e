"""Apply Alembic migrations programmatically (run at start by `run`, `web` and `worker`)."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
_ADVISORY_LOCK = 0x5B4E  # one migrator at a time when several processes start together


def alembic_config() -> AlembicConfig:
    """The Alembic config pointing at the packaged migrations."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema."""
    if is_current(engine):
        return
    log.info("migrating the database to the newest schema")
    cfg = alembic_config()
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@cache
def newest_revision() -> str | None:
    """The head of the packaged migrations (read from disk once per process)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def is_current(engine: Engine) -> bool:
    """Whether the database is at the newest migration (for /readyz)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == newest_revision()
