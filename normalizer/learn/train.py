"""Training a TextModel with scikit-learn (the optional `learn` extra).

The method, chosen by measurement (bench/learn.py, bench/RESULTS.md):

1. TF-IDF of word 1-2-grams and of character 2-5-grams inside words (normalizer.learn.features),
   sublinear term frequency, each block scaled to unit length, terms seen in at least two
   messages;
2. a linear support vector machine per label (one against the rest);
3. `folds`-fold cross-validation gives every training row a score from a model that did not
   see it. A softmax at a fitted temperature maps scores to probabilities; the temperature
   is fitted on the other folds' scores for each fold, so the out-of-fold probabilities are
   honest. From them:
   the cross-validated top-1/top-3 accuracy, the coverage/precision curve, and the
   recommended threshold (the lowest confidence keeping `target_precision`);
4. the final model is fitted on every row; its temperature on all out-of-fold scores. Weights
   too small to move a probability are dropped (`prune`) to keep model files small.

Imported only by the training commands: the core install never needs scikit-learn.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from normalizer.learn.features import FAMILIES, prepare
from normalizer.learn.metrics import figures, recall_threshold, threshold_for_precision
from normalizer.learn.model import FeatureBlock, TextModel, calibrate, utc_now_iso

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrainOptions:
    """Knobs of the method; the defaults are the measured choice."""

    C: float = 0.5
    folds: int = 5
    min_df: int = 2
    max_features: int = 400_000  # per feature family
    target_precision: float = 0.95
    prune: float = 0.02  # measured: no loss of accuracy, a third of the weights
    seed: int = 13


def _vectorizers(options: TrainOptions) -> list[TfidfVectorizer]:
    return [
        TfidfVectorizer(
            analyzer=FAMILIES[family],
            sublinear_tf=True,
            min_df=options.min_df,
            max_features=options.max_features,
            dtype=np.float32,
        )
        for family in FAMILIES
    ]


def _fit_svm(x: Any, y: npt.NDArray[np.int64], k: int, c: float, seed: int) -> Any:
    """Linear scores for all k labels: (coef k x features, intercept k)."""
    present = np.unique(y)
    coef = np.zeros((k, x.shape[1]), dtype=np.float64)
    intercept = np.full(k, -1.0, dtype=np.float64)  # a label absent from a fold: unlikely
    if len(present) == 1:
        intercept[present[0]] = 1.0
        return coef, intercept
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        svm = LinearSVC(C=c, random_state=seed, dual=True, max_iter=2000).fit(x, y)
    rows = svm.coef_
    if len(present) == 2:  # scikit-learn keeps one row for two classes
        rows = np.vstack([-rows[0], rows[0]])
        icpt = np.array([-svm.intercept_[0], svm.intercept_[0]])
    else:
        icpt = svm.intercept_
    coef[present] = rows
    intercept[present] = icpt
    return coef, intercept


def fit_temperature(scores: npt.NDArray[Any], truth: npt.NDArray[np.int64]) -> float:
    """The temperature T minimising the log loss of softmax(scores / T) (golden-section search).

    Measured against per-label Platt sigmoids on the synthetic history: the same ranking,
    but probabilities that are not squashed by summing two hundred small ones, so more
    reports clear a 95%-precision threshold (bench/RESULTS.md).
    """
    rows = np.arange(len(truth))

    def loss(log_t: float) -> float:
        scaled = scores / np.exp(log_t)
        scaled = scaled - scaled.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(scaled).sum(axis=1))
        return float((log_norm - scaled[rows, truth]).mean())

    lo, hi = np.log(1e-3), np.log(10.0)
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    c, d = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fc, fd = loss(c), loss(d)
    for _ in range(60):
        if fc < fd:
            hi, d, fd = d, c, fc
            c = hi - ratio * (hi - lo)
            fc = loss(c)
        else:
            lo, c, fc = c, d, fd
            d = lo + ratio * (hi - lo)
            fd = loss(d)
    return float(np.exp((lo + hi) / 2.0))


def _features(
    texts: Sequence[str], options: TrainOptions
) -> tuple[list[TfidfVectorizer], sp.csr_matrix]:
    prepared = [prepare(t) for t in texts]
    vectorizers = _vectorizers(options)
    blocks = [v.fit_transform(prepared) for v in vectorizers]
    return vectorizers, sp.hstack(blocks, format="csr", dtype=np.float32)


def _out_of_fold(
    x: sp.csr_matrix, y: npt.NDArray[np.int64], k: int, options: TrainOptions, say: Progress
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    folds = max(2, min(options.folds, int(np.bincount(y).max())))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=options.seed)
    scores = np.zeros((len(y), k))
    fold_of = np.zeros(len(y), dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # labels rarer than the fold count
        splits = list(splitter.split(np.zeros(len(y)), y))
    for number, (train, test) in enumerate(splits):
        say(f"lipatan {number + 1}/{folds}")
        coef, intercept = _fit_svm(x[train], y[train], k, options.C, options.seed)
        scores[test] = np.asarray(x[test] @ coef.T) + intercept
        fold_of[test] = number
    return scores, fold_of


def _honest_probabilities(
    scores: npt.NDArray[np.float64],
    y: npt.NDArray[np.int64],
    fold_of: npt.NDArray[np.int64],
    k: int,
) -> npt.NDArray[np.float32]:
    probs = np.zeros(scores.shape, dtype=np.float32)
    for fold in np.unique(fold_of):
        rest = fold_of != fold
        probs[~rest] = calibrate(scores[~rest], fit_temperature(scores[rest], y[rest]))
    return probs


def _by_feature(coef: npt.NDArray[np.float64], prune: float) -> sp.csr_matrix:
    """Weights as rows per feature, the negligible ones dropped."""
    kept = np.where(np.abs(coef) >= prune, coef, 0.0).astype(np.float32)
    return sp.csr_matrix(kept.T)


def train_text_model(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    task: str,
    options: TrainOptions | None = None,
    say: Progress | None = None,
    positive_label: str | None = None,
    positive_recall: float = 0.97,
) -> TextModel:
    """Train, cross-validate and calibrate a model on labelled texts.

    With `positive_label` (whistleblowing for kinds), the metadata also gets the highest
    probability threshold that still caught `positive_recall` of that label out of fold.
    """
    opts = options or TrainOptions()
    tell = say or (lambda _message: None)
    names = sorted(set(labels))
    if len(names) < 2:
        raise ValueError("at least two different labels are needed to train")
    y = np.array([names.index(label) for label in labels], dtype=np.int64)
    k = len(names)
    tell(f"fitur dari {len(texts)} teks")
    vectorizers, x = _features(texts, opts)
    scores, fold_of = _out_of_fold(x, y, k, opts, tell)
    probs = _honest_probabilities(scores, y, fold_of, k)
    confidence, correct = probs.max(axis=1), probs.argmax(axis=1) == y
    threshold = threshold_for_precision(confidence, correct, opts.target_precision)
    cv = figures(probs, y, extra=(threshold,) if threshold is not None else ())
    meta: dict[str, Any] = {
        "task": task,
        "trained_at": utc_now_iso(),
        "rows": len(texts),
        "sklearn_version": sklearn.__version__,
        "method": "tfidf word 1-2 + char_wb 2-5, LinearSVC one-vs-rest, temperature-scaled softmax",
        "options": {
            "C": opts.C,
            "folds": opts.folds,
            "min_df": opts.min_df,
            "max_features": opts.max_features,
            "prune": opts.prune,
        },
        "target_precision": opts.target_precision,
        "recommended_threshold": threshold,
        "cv": cv,
        "label_counts": {
            name: int(n) for name, n in zip(names, np.bincount(y, minlength=k), strict=True)
        },
    }
    if positive_label is not None and positive_label in names:
        column = names.index(positive_label)
        meta["positive_label"] = positive_label
        meta["positive_threshold"] = recall_threshold(
            probs[:, column], y == column, positive_recall
        )
        meta["positive_recall_target"] = positive_recall
    tell("model akhir pada semua baris")
    coef, intercept = _fit_svm(x, y, k, opts.C, opts.seed)
    temperature = fit_temperature(scores, y)
    weights = _by_feature(coef, opts.prune)
    return TextModel(
        labels=names,
        blocks=[
            FeatureBlock(family, list(v.get_feature_names_out()), v.idf_.astype(np.float32))
            for family, v in zip(FAMILIES, vectorizers, strict=True)
        ],
        w_indptr=weights.indptr.astype(np.int64),
        w_class=weights.indices.astype(np.int64),
        w_value=weights.data.astype(np.float32),
        intercept=intercept.astype(np.float32),
        temperature=temperature,
        meta=meta,
    )
