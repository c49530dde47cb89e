"""The group-commit writer: one thread stores every caller waiting at that moment at once.

Concurrent callers share one transaction, so the fsync and the write lock are paid once per
batch instead of once per request, and each caller still returns only after the commit that
holds its messages ("acknowledge after commit" holds).

A batch that fails for any reason is retried job by job, so one bad message or one lost race
never fails its neighbours: each job then gets its own outcome. A job that loses a race alone
(another process stored the same key first, a deadlock, a serialization failure) is simply
tried again and finds the winner's row; one the database refuses for its content is turned
into `PayloadInvalid` (kept as rejected input, HTTP 400); anything else (the database is
down) is handed back to its caller as it is.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError, OperationalError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from adapters.base import Adapter, StoredOutcome
from gateway.intake.plan import Plan
from vocabulary.errors import PayloadInvalid

log = logging.getLogger(__name__)

# PostgreSQL SQLSTATEs of a transaction that lost to a concurrent one and may simply retry.
_RETRY_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure


@dataclass(eq=False)
class WriteJob:
    """One caller's planned messages waiting for the writer."""

    adapter: Adapter[Any]
    plans: Sequence[Plan]
    cursor: tuple[str, str] | None = None
    done: threading.Event = field(default_factory=threading.Event)
    outcomes: list[StoredOutcome] | None = None
    error: BaseException | None = None


StoreJobs = Callable[[Session, Sequence[WriteJob]], None]


def lost_a_race(exc: BaseException) -> bool:
    """Whether a failed transaction only collided with a concurrent one (worth retrying)."""
    if isinstance(exc, IntegrityError):
        return True
    if isinstance(exc, OperationalError):
        orig = exc.orig
        if getattr(orig, "sqlstate", None) in _RETRY_SQLSTATES:
            return True
        return "database is locked" in str(orig)
    return False


def refused_content(exc: BaseException) -> PayloadInvalid | None:
    """The database refused the message's own content: a 400 for its caller, not a 500."""
    if isinstance(exc, DataError):
        return PayloadInvalid(f"pesan tidak dapat disimpan ({type(exc.orig).__name__})")
    if isinstance(exc, StatementError) and isinstance(
        exc.orig, ValueError | OverflowError | UnicodeError | TypeError
    ):
        return PayloadInvalid(f"pesan tidak dapat disimpan ({type(exc.orig).__name__})")
    return None


class GroupCommitWriter:
    """Runs `store(session, jobs)` for batches of jobs in one writer thread."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        store: StoreJobs,
        *,
        max_batch: int = 64,
        attempts: int = 5,
    ) -> None:
        self.sessions = sessions
        self.store = store
        self.max_batch = max_batch
        self.attempts = attempts
        self._jobs: queue.SimpleQueue[WriteJob] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def run(self, job: WriteJob) -> list[StoredOutcome]:
        """Store one job with whoever else is waiting; return once committed (or raise)."""
        self._ensure_thread()
        self._jobs.put(job)
        job.done.wait()
        if job.error is not None:
            raise job.error
        assert job.outcomes is not None
        return job.outcomes

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._forever, name="intake-writer", daemon=True
                )
                self._thread.start()

    def _forever(self) -> None:
        while True:
            batch = [self._jobs.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._jobs.get_nowait())
                except queue.Empty:
                    break
            try:
                self._write(batch)
            except BaseException as exc:
                log.exception("intake writer failed on a batch of %d", len(batch))
                for job in batch:
                    if job.outcomes is None and job.error is None:
                        job.error = exc
            finally:
                for job in batch:
                    job.done.set()

    def _write(self, batch: list[WriteJob]) -> None:
        if len(batch) > 1:
            try:
                self._transaction(batch)
                return
            except Exception as exc:  # noqa: BLE001 (settled job by job below)
                log.info(
                    "an intake batch of %d failed (%s); storing its jobs one by one",
                    len(batch),
                    type(exc).__name__,
                )
        for job in batch:
            self._write_alone(job)

    def _write_alone(self, job: WriteJob) -> None:
        for attempt in range(self.attempts):
            try:
                self._transaction([job])
                return
            except Exception as exc:  # noqa: BLE001 (classified: retry, 400 or handed back)
                job.outcomes = None
                if lost_a_race(exc) and attempt + 1 < self.attempts:
                    time.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311
                    continue
                refused = refused_content(exc)
                job.error = refused if refused is not None else exc
                if refused is None:
                    log.error("storing a message failed: %s", _describe(exc))
                return

    def _transaction(self, jobs: Sequence[WriteJob]) -> None:
        for job in jobs:
            job.outcomes, job.error = None, None
        try:
            with self.sessions.begin() as session:
                self.store(session, jobs)
        except BaseException:
            for job in jobs:
                job.outcomes = None
            raise


def _describe(exc: BaseException) -> str:
    """An error's type and SQLSTATE, never its statement parameters (personal data)."""
    orig: Any = getattr(exc, "orig", None)
    state = getattr(orig, "sqlstate", None)
    return f"{type(exc).__name__}/{type(orig).__name__}" + (f" [{state}]" if state else "")
