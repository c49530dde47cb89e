"""One reading of a message for every model that scores it: one token pass, one count.

A gateway with the kind model and a learned routing rule asks two models about every report.
Their arithmetic is small (a few hundred TF-IDF cells against 200 classes); what costs is the
work around it: tokenizing, vocabulary lookups and numpy calls on arrays so small that the
call costs more than its work. A shared reading joins the models' vocabularies per feature
family (the "union columns"), so a message is tokenized, looked up, counted and weighed once
for all of them. It keeps, per model j, a (union column x class) matrix of idf_j(t) x w_j(t, c)
(zero where j does not know token t) and, for all models, idf_j(t)^2.

For a message with distinct union columns t and counts n(t), tf(t) = 1 + log n(t). Model j's
TF-IDF weight is tf(t) idf_j(t) / |x_jb|, with |x_jb|^2 = sum over the family b of
tf^2 idf_j^2, so its scores are sum_t tf(t) / |x_j,family(t)| x scaled_j[t, c] + intercept_j:
the vector and scores of `TextModel.features` and `TextModel.decision` (the reference,
scikit-learn's definition) up to float32 rounding. Probabilities are a softmax at the model's
temperature. The last messages' answers are kept, so the routing rule that reads a report
after the kind model has read it costs nothing more.
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Final, Protocol

import numpy as np
import numpy.typing as npt

from normalizer.learn.features import FAMILIES, Vocabulary, prepared

if TYPE_CHECKING:
    from normalizer.learn.model import TextModel

# Above this many (union column x class) cells (100 MiB of float32) weights stay sparse.
DENSE_LIMIT: Final = 25_000_000
RECENT: Final = 64  # messages whose answers a reading keeps (threads read in turn)
FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


class Reading(Protocol):
    """What a model reads messages through: this module's reading, or one in another process."""

    def probabilities(self, text: str) -> tuple[FloatArray, ...]:
        """Each of its models' probabilities for the message, in its order of models."""
        ...


class SharedReading:
    """Scores messages for several models at once (see the module docstring)."""

    def __init__(self, models: Sequence[TextModel]) -> None:
        self.models = tuple(models)
        self.vocabularies = _union_vocabularies(self.models)
        columns = sum(len(v.index) for v in self.vocabularies)
        # Where each family's union columns end (the last family's end is not needed).
        self._ends = np.array([v.offset + len(v.index) for v in self.vocabularies][:-1])
        sizes = [len(m.labels) for m in self.models]
        starts = np.cumsum([0, *sizes]).tolist()
        self._segments = [slice(lo, hi) for lo, hi in itertools.pairwise(starts)]
        self._classes = starts[-1]
        # One row per union column: every model's idf x weights, then every model's idf^2.
        # A message's rows are gathered in one pass: each row is one run of memory, where
        # separate matrices per model would cost a cache miss per row and matrix.
        self._rows = np.zeros((columns, self._classes + len(self.models)), dtype=np.float32)
        for j, model in enumerate(self.models):
            self._fill(j, model)
        # Scores are divided by each model's temperature on the way: its bias here, and its
        # weights with the norms (`_weights`).
        self._bias = [(m.intercept / m.temperature).astype(np.float32) for m in self.models]
        self._inverse_temperature = np.array(
            [1.0 / m.temperature for m in self.models], dtype=np.float32
        )
        self._answers = lru_cache(maxsize=RECENT)(self._read)

    @staticmethod
    def cells(models: Sequence[TextModel]) -> int:
        """How many matrix cells reading these models together takes (at most, before union)."""
        columns = sum(len(b.tokens) for m in models for b in m.blocks)
        return columns * (sum(len(m.labels) for m in models) + len(models))

    @classmethod
    def of(cls, models: Sequence[TextModel]) -> SharedReading | None:
        """A reading of these models, or None when their weights are too large for one."""
        return cls(models) if cls.cells(models) <= DENSE_LIMIT else None

    def _fill(self, j: int, model: TextModel) -> None:
        union = {v.family: v for v in self.vocabularies}
        rows = np.concatenate(
            [np.zeros(0, dtype=np.int64)]
            + [
                np.fromiter(map(union[b.family].index.__getitem__, b.tokens), np.int64)
                for b in model.blocks
            ]
        )  # model column -> union column
        idf = np.concatenate(
            [np.zeros(0, dtype=np.float32)] + [b.idf.astype(np.float32) for b in model.blocks]
        )
        column_of = np.repeat(np.arange(len(rows)), np.diff(model.w_indptr))
        first = self._segments[j].start
        self._rows[rows[column_of], first + model.w_class] = model.w_value * idf[column_of]
        self._rows[rows, self._classes + j] = idf * idf

    def probabilities(self, text: str) -> tuple[FloatArray, ...]:
        """Each model's calibrated probabilities for the message (read-only arrays)."""
        return self._answers(text)

    def _read(self, text: str) -> tuple[FloatArray, ...]:
        clean = prepared(text)
        found: array[int] = array("q")  # 64-bit ints, read by numpy without a copy
        for vocabulary in self.vocabularies:
            vocabulary.add_columns(clean, found)
        if found:
            rows, weights = self._weights(np.frombuffer(found, dtype=np.int64))
        answers = []
        for j, segment in enumerate(self._segments):  # scores already over the temperature
            if found:
                scores = weights[j] @ rows[:, segment]
                scores += self._bias[j]
            else:
                scores = self._bias[j].copy()
            scores -= scores.max()
            np.exp(scores, out=scores)
            scores /= scores.sum()
            scores.flags.writeable = False
            answers.append(scores)
        return tuple(answers)

    def _weights(self, ids: IntArray) -> tuple[FloatArray, FloatArray]:
        """The rows of the message's distinct union columns and each model's weight per row.

        Weights are tf / (|x_jb| T_j) (the idf is in the rows, T_j is model j's temperature):
        a (models x columns) array.
        """
        ids.sort()
        n = len(ids)
        edge = np.empty(n + 1, dtype=bool)  # where a run of one column starts (and the end)
        edge[0] = edge[n] = True
        np.not_equal(ids[1:], ids[:-1], out=edge[1:n])
        bounds = edge.nonzero()[0]
        cols = ids.take(bounds[:-1])
        tf = np.log(bounds[1:] - bounds[:-1], dtype=np.float32)
        tf += 1
        # The families present (runs of columns): where each starts and how long it is.
        total = len(cols)
        starts = sorted({0, *(c for c in cols.searchsorted(self._ends).tolist() if c < total)})
        lengths = [end - start for start, end in itertools.pairwise([*starts, total])]
        rows = self._rows.take(cols, axis=0)
        norms = np.add.reduceat(
            (tf * tf)[:, None] * rows[:, self._classes :], starts, axis=0
        )  # (families present x models): |x_jb|^2
        np.sqrt(norms, out=norms)
        np.divide(self._inverse_temperature, norms, out=norms, where=norms > 0)  # none: 0
        weights = norms.T.repeat(lengths, axis=1)
        weights *= tf
        return rows, weights


def _union_vocabularies(models: Sequence[TextModel]) -> list[Vocabulary]:
    """Per feature family, every model's tokens once, numbered one family after another."""
    out: list[Vocabulary] = []
    offset = 0
    for family in FAMILIES:
        tokens = list(
            dict.fromkeys(
                t for m in models for b in m.blocks if b.family == family for t in b.tokens
            )
        )
        if tokens:
            out.append(Vocabulary(family, tokens, offset))
            offset += len(tokens)
    return out


def share_reading(models: Sequence[TextModel]) -> SharedReading | None:
    """Have these models read each message together (a kind model and the routing models).

    Returns the reading, or None when their weights together are too large for one: each
    model then keeps reading alone. A model belongs to one reading at a time (the latest).
    """
    distinct = list({id(m): m for m in models}.values())
    if not distinct:
        return None
    reading = SharedReading.of(distinct)
    if reading is not None:
        for position, model in enumerate(distinct):
            model.share(reading, position)
    return reading
