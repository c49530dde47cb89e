"""The models read reports in a process of their own, beside the gateway's.

The gateway's Python work runs under one GIL, so a web process uses about one core however
many request threads it has (bench/RESULTS.md). Scoring a report with the kind and routing
models is numpy work whose every call may hand the GIL to another thread and back; in a
child process it runs on the second core instead, and a request thread waits for it once,
on a pipe, with the GIL released. The answers are the shared reading's
(`normalizer.learn.reading`), computed there. The forward worker, which settles the reports
waiting for the models (forwarder.model_pass), asks for a whole claimed batch in one round
trip (`warm`).

If the child cannot start, dies or does not answer in time, the models read reports in the
gateway's own process from then on (the same numbers), and the error is logged once: a
report is never held up or lost over it.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import threading
from collections.abc import Sequence
from functools import lru_cache
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Final

import numpy as np
from threadpoolctl import threadpool_limits

from normalizer.learn import reading
from normalizer.learn.model import TextModel, load_model
from normalizer.learn.reading import RECENT, FloatArray, SharedReading

log = logging.getLogger(__name__)

START_TIMEOUT: Final = 120.0  # seconds for the child to load the models
ANSWER_TIMEOUT: Final = 10.0  # seconds for one report (a few milliseconds when well)
READY: Final = b"ready"


class ScoringProcess:
    """A child process that scores reports for these models (in this order)."""

    def __init__(self, models: Sequence[TextModel], paths: Sequence[Path]) -> None:
        self.models = tuple(models)
        context = multiprocessing.get_context("spawn")  # no fork of a threaded server
        self._conn, child = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child, [str(p) for p in paths]), daemon=True, name="sp4n-models"
        )
        self._lock = threading.Lock()
        self._local: SharedReading | None = None
        self._failed = False
        starts = np.cumsum([0, *(len(m.labels) for m in self.models)]).tolist()
        self._bounds = list(itertools.pairwise(starts))
        self._width = int(starts[-1])
        self._answers = lru_cache(maxsize=RECENT)(self._ask)
        self._warm: dict[str, tuple[FloatArray, ...]] = {}  # the last batch read at once
        try:
            self.process.start()  # refused in a daemonic process, for one
            child.close()
            ready = self._conn.poll(START_TIMEOUT) and self._conn.recv_bytes() == READY
        except (OSError, EOFError, AssertionError):
            ready = False
        if not ready:
            self._fail("did not start")

    @property
    def alive(self) -> bool:
        """Whether reports are scored in the child (not yet fallen back)."""
        return not self._failed

    def probabilities(self, text: str) -> tuple[FloatArray, ...]:
        """Each model's calibrated probabilities for the message (read-only arrays)."""
        ready = self._warm.get(text)
        return ready if ready is not None else self._answers(text)

    def warm(self, texts: Sequence[str]) -> None:
        """Read these texts in one round trip; `probabilities` then answers them at once.

        Only the last batch is kept (the forward worker's, settled right after).
        """
        unique = list(dict.fromkeys(texts))
        if not unique:
            return
        answers = self._round_trip(unique)
        if answers is not None:
            self._warm = dict(zip(unique, answers, strict=True))

    def _ask(self, text: str) -> tuple[FloatArray, ...]:
        answers = self._round_trip([text])
        if answers is not None:
            return answers[0]
        with self._lock:
            if self._local is None:  # built once, by the first thread that needs it
                self._local = SharedReading(self.models)
            local = self._local
        return local.probabilities(text)  # outside the lock: threads read at once

    def _round_trip(self, texts: list[str]) -> list[tuple[FloatArray, ...]] | None:
        """The child's answers for these texts; None once it has failed."""
        with self._lock:
            if self._failed:
                return None
            try:
                self._conn.send(texts)
                if self._conn.poll(ANSWER_TIMEOUT * max(1, len(texts) // 100)):
                    values = np.frombuffer(self._conn.recv_bytes(), dtype=np.float32)
                    rows = values.reshape(len(texts), self._width)
                    return [tuple(row[lo:hi] for lo, hi in self._bounds) for row in rows]
                self._fail("did not answer in time")
            except (OSError, EOFError, ValueError) as exc:
                self._fail(f"failed ({exc.__class__.__name__})")
        return None

    def _fail(self, what: str) -> None:
        self._failed = True
        log.error(
            "the model process %s: the models read reports in the gateway process from now on",
            what,
        )
        self.close()

    def close(self) -> None:
        """Stop the child (it also stops by itself when the gateway's end of the pipe closes)."""
        self._conn.close()
        if self.process.pid is not None and self.process.is_alive():
            self.process.terminate()
            self.process.join(2)
            if self.process.is_alive():  # stopped or stuck: SIGTERM waits, SIGKILL does not
                self.process.kill()
                self.process.join(5)


def _serve(conn: Connection, paths: list[str]) -> None:
    """The child: load the models, then answer every text with their probabilities."""
    threadpool_limits(limits=1, user_api="blas")
    reading = SharedReading([load_model(path) for path in paths])
    conn.send_bytes(READY)
    while True:
        try:
            texts: list[str] = conn.recv()
        except (EOFError, OSError):
            return
        conn.send_bytes(
            np.concatenate(
                [np.zeros(0, np.float32)]
                + [part for text in texts for part in reading.probabilities(text)]
            )
            .astype(np.float32, copy=False)
            .tobytes()
        )


def start_scoring(models: Sequence[TextModel], paths: Sequence[Path]) -> ScoringProcess | None:
    """Score these models' reports in a child process.

    None when none are in use, or when they are too large for one reading (each then reads
    alone, in the gateway).
    """
    if not models or SharedReading.cells(models) > reading.DENSE_LIMIT:
        return None
    scoring = ScoringProcess(models, paths)
    for position, model in enumerate(models):
        model.share(scoring, position)
    return scoring
