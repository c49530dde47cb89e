"""Shared values (signing keys): processes starting together all get the same one."""

from __future__ import annotations

import threading
from pathlib import Path

from store import migrate
from store.db import make_engine, make_sessionmaker
from store.state import shared_value


def test_processes_starting_together_agree_on_one_key(db_url: str, tmp_path: Path) -> None:
    """Two web processes made the link key at once; one died on a unique violation."""
    engines = [make_engine(db_url, base_dir=tmp_path) for _ in range(8)]
    try:
        migrate.upgrade(engines[0])
        barrier = threading.Barrier(len(engines))
        found: list[str] = []
        errors: list[BaseException] = []

        def start(index: int) -> None:
            sessions = make_sessionmaker(engines[index])
            barrier.wait()
            try:
                found.append(shared_value(sessions, "test.key"))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=start, args=(i,)) for i in range(len(engines))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(found) == len(engines) and len(set(found)) == 1
        assert len(found[0]) == 64
    finally:
        for engine in engines:
            engine.dispose()
