"""The poll runner: reads a polled channel (IMAP, Gammu SMSD, ...) without losing or repeating.

For each batch the adapter yields, the messages and the cursor after the last of them are
committed in one transaction; only then is the source told (`adapter.confirm`: IMAP Seen flag,
Gammu `Processed`). A crash at any point leaves either the old cursor (the messages come
again and are recognised by their key) or the new one with the messages stored; `confirm`
runs again for repeats, so the source is always released in the end.

On PostgreSQL several worker processes may run; a session-level advisory lock per channel
makes sure only one of them polls a channel at a time. On SQLite there is one process.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from adapters.base import Adapter, PollOptions
from gateway.intake import Intake
from store.cursors import cursor_key, load_cursor
from store.health import ChannelHealth
from store.metrics import Metrics
from vocabulary.drafts import RawMessage
from vocabulary.errors import AdapterUnavailable, PayloadInvalid

log = logging.getLogger(__name__)


def advisory_key(channel: str) -> int:
    """A stable signed 64-bit lock id for a channel (PostgreSQL advisory locks)."""
    digest = hashlib.sha256(f"sp4n-poll:{channel}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Poller:
    """Polls one channel; `run_once` is what the scheduler calls at the channel's interval."""

    def __init__(
        self,
        adapter: Adapter[Any],
        engine: Engine,
        sessions: sessionmaker[Session],
        intake: Intake,
        metrics: Metrics | None = None,
        health: ChannelHealth | None = None,
    ) -> None:
        self.adapter = adapter
        self.engine = engine
        self.sessions = sessions
        self.intake = intake
        self.metrics = metrics
        self.health = health
        if not isinstance(adapter.options, PollOptions):  # the adapter contract ensures it
            raise TypeError(f"{adapter} is not a polled channel")
        self.options: PollOptions = adapter.options
        self.batch_size = self.options.batch_size
        self.key = cursor_key(adapter.name)
        self._local = threading.Lock()
        self.stopping = threading.Event()

    @contextmanager
    def _exclusive(self) -> Iterator[bool]:
        """True while this process alone polls the channel; False when another one does."""
        if not self._local.acquire(blocking=False):
            yield False
            return
        try:
            if self.engine.dialect.name != "postgresql":
                yield True
                return
            with self.engine.connect() as conn:
                lock = advisory_key(self.adapter.name)
                got = bool(
                    conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": lock}).scalar()
                )
                conn.commit()
                try:
                    yield got
                finally:
                    if got:
                        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock})
                        conn.commit()
        finally:
            self._local.release()

    def run_once(self) -> int:
        """Read everything new now; returns how many messages were stored or recognised."""
        with self._exclusive() as mine:
            if not mine:
                return 0
            with self.sessions() as session:
                cursor = load_cursor(session, self.key)
            handled = 0
            batch: list[tuple[RawMessage, str | None]] = []
            try:
                for message, new_cursor in self.adapter.poll(cursor):
                    batch.append((message, new_cursor))
                    if len(batch) >= self.batch_size:
                        full, batch = batch, []
                        handled += self._store(full)
                        if self.stopping.is_set():
                            break
            except AdapterUnavailable as exc:
                self._count_error()
                if self.health is not None:
                    self.health.failed(self.adapter.name, str(exc))
                else:
                    log.warning("channel %s: source unavailable: %s", self.adapter.name, exc)
            else:
                if self.health is not None:
                    self.health.ok(self.adapter.name)
            finally:
                if batch:  # what was read before a failure is still stored and confirmed
                    rest, batch = batch, []
                    handled += self._store(rest)
            return handled

    def _store(self, batch: Sequence[tuple[RawMessage, str | None]]) -> int:
        messages = [m for m, _ in batch]
        last = batch[-1][1]
        try:
            self.intake.accept(
                self.adapter, messages, cursor=(self.key, last) if last is not None else None
            )
        except PayloadInvalid:
            for message, cursor in batch:  # find the bad one(s); keep them, never drop
                self._store_one(message, cursor)
        self.adapter.confirm(messages)
        return len(messages)

    def _store_one(self, message: RawMessage, cursor: str | None) -> None:
        position = (self.key, cursor) if cursor is not None else None
        try:
            self.intake.accept(self.adapter, [message], cursor=position)
        except PayloadInvalid as exc:
            self.intake.reject(
                self.adapter.name,
                message.raw,
                exc,
                message.received_at,
                external_id=message.external_id,
                cursor=position,
            )

    def _count_error(self) -> None:
        if self.metrics:
            self.metrics.poll_errors.labels(self.adapter.name).inc()
