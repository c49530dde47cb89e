"""How good a classifier's probabilities are: top-k accuracy, and coverage against precision.

Coverage is the share of reports whose best label's confidence reaches a threshold (the share
the gateway would act on); precision is the share of those whose best label is right. Used by
training (on out-of-fold predictions, to choose the recommended threshold) and by `evaluate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

THRESHOLDS: Final = (0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.98)


@dataclass(frozen=True)
class CurvePoint:
    """Coverage and precision when acting only at or above `threshold`."""

    threshold: float
    coverage: float
    precision: float | None  # None when nothing reaches the threshold


def top_k_accuracy(probs: npt.NDArray[Any], truth: npt.NDArray[np.int64], k: int) -> float:
    """Share of rows whose true label is among the k most probable (truth -1: never)."""
    if len(truth) == 0:
        return 0.0
    k = min(k, probs.shape[1])
    best = np.argpartition(-probs, k - 1, axis=1)[:, :k]
    return float(np.mean((best == truth[:, None]).any(axis=1)))


def curve(
    confidence: npt.NDArray[Any], correct: npt.NDArray[np.bool_], thresholds: Sequence[float]
) -> list[CurvePoint]:
    """Coverage and precision at each threshold."""
    points = []
    n = max(len(confidence), 1)
    for t in thresholds:
        acted = confidence >= t
        count = int(acted.sum())
        precision = float(correct[acted].mean()) if count else None
        points.append(CurvePoint(float(t), count / n, precision))
    return points


def threshold_for_precision(
    confidence: npt.NDArray[Any],
    correct: npt.NDArray[np.bool_],
    target: float,
    min_rows: int = 20,
    spare_se: float = 1.0,
) -> float | None:
    """The lowest confidence at which acting on everything above it is still `target` precise.

    Scans the predictions from the most confident down and keeps the largest set whose
    precision, less `spare_se` standard errors, still reaches the target: a threshold chosen
    on held-out training rows then holds on new reports too, not only on average. At least
    `min_rows` rows, so a handful of lucky ones cannot set it. None when no set qualifies.
    """
    order = np.argsort(-confidence, kind="stable")
    count = np.arange(1, len(order) + 1)
    precision = np.cumsum(correct[order]) / count
    spare = spare_se * np.sqrt(precision * (1.0 - precision) / count)
    good = np.nonzero(precision - spare >= target)[0]
    good = good[good + 1 >= min_rows]
    if not len(good):
        return None
    return float(confidence[order][good[-1]])


def figures(
    probs: npt.NDArray[Any],
    truth: npt.NDArray[np.int64],
    thresholds: Sequence[float] = THRESHOLDS,
    extra: Sequence[float | None] = (),
) -> dict[str, Any]:
    """Top-1 and top-3 accuracy and the coverage/precision curve (JSON-ready)."""
    best = probs.argmax(axis=1)
    confidence = probs.max(axis=1)
    correct = best == truth
    points = sorted({round(t, 4) for t in (*thresholds, *extra) if t is not None})
    return {
        "rows": len(truth),
        "top1": top_k_accuracy(probs, truth, 1),
        "top3": top_k_accuracy(probs, truth, 3),
        "curve": [asdict(p) for p in curve(confidence, correct, points)],
    }


def recall_threshold(
    scores: npt.NDArray[Any], positive: npt.NDArray[np.bool_], recall: float
) -> float:
    """The highest threshold that still catches `recall` of the positive rows."""
    if not positive.any():
        return 0.5
    ranked = np.sort(scores[positive])
    index = int(np.floor((1.0 - recall) * len(ranked)))
    return float(ranked[min(index, len(ranked) - 1)])
