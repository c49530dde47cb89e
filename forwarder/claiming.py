"""What the forward worker and the reply sender share: claim a batch, work it in a pool.

Both drain an outbox the same way: one short transaction leases a batch of due rows and
reads what the work needs, then the work (HTTP calls) runs in a thread pool outside any
transaction, and each result is recorded in its own transaction. A crash between the work
and its record leaves a leased row that is claimed again once its lease runs out.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar, Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from config.schema import ForwarderSection
from store.metrics import Metrics

WorkT = TypeVar("WorkT")


def worker_identity(role: str) -> str:
    """A lease owner name unique to this process and start."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}:{time.monotonic_ns() % 10**9}"


class ClaimLoop(Generic[WorkT]):
    """Claims due rows in one transaction, then works them in a pool of threads."""

    role: ClassVar[str]

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: ForwarderSection,
        *,
        metrics: Metrics | None = None,
        owner: str | None = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.metrics = metrics
        self.owner = owner or worker_identity(self.role)
        self.stopping = threading.Event()
        self.pool = ThreadPoolExecutor(
            max_workers=settings.concurrency, thread_name_prefix=self.role
        )

    def close(self) -> None:
        """Stop taking new batches and wait for the work in flight."""
        self.stopping.set()
        self.pool.shutdown(wait=True)

    def run_once(self) -> int:
        """Claim one batch and work it; returns how many rows were claimed."""
        with self.sessions.begin() as session:
            claimed, work = self.claim(session)
        if work:
            work = self.prepare(work)
        if work:
            self.work(work)
        return claimed

    def prepare(self, batch: list[WorkT]) -> list[WorkT]:
        """What a claimed batch needs before its work, outside the claim's transaction."""
        return batch

    def claim(self, session: Session) -> tuple[int, list[WorkT]]:
        """Lease due rows in the caller's transaction: (rows claimed, work to do)."""
        raise NotImplementedError

    def work(self, batch: Sequence[WorkT]) -> None:
        """Do the batch's work in the pool (each piece records its own result)."""
        raise NotImplementedError
