"""A learned text classifier as a file of our own: no pickle, prediction with numpy alone.

The file is a NumPy `.npz` archive read with `allow_pickle=False`, so loading it can never run
code. It holds:

- `header`: UTF-8 JSON: `format`, `format_version`, `features_version`, `labels`, the
  feature blocks (family and size) and `meta` (task, training date, rows, scikit-learn
  version, cross-validated figures, recommended threshold, how it was trained);
- per feature block: `vocab_<family>` (the tokens joined by newlines, UTF-8) and `idf_<family>`;
- the linear model, stored by feature (compressed sparse rows: `w_indptr`, `w_class`,
  `w_value`) and its `intercept`; the calibration `temperature` is in the header.

Prediction rebuilds the TF-IDF vector exactly as training did (sublinear term frequency,
idf, unit length per block), takes each class's linear score and turns the scores into
probabilities with a softmax at the fitted temperature (temperature scaling).

Versions: prediction depends only on this format, so a routing or kind model loads for use
whatever scikit-learn is installed (or none). Training and evaluation compare the model with
the installed scikit-learn and refuse one made by another version (`check_version=True`):
its recorded cross-validated figures and thresholds were measured with that version.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from array import array
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from normalizer.learn.features import FAMILIES, FEATURES_VERSION, Vocabulary, prepared
from normalizer.learn.reading import Reading, SharedReading
from vocabulary.errors import GatewayError

FORMAT: Final = "sp4n-text-model"
FORMAT_VERSION: Final = 1
_ALONE: Final[tuple[None, int]] = (None, 0)  # a model read by the sparse walk
FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


class ModelError(GatewayError):
    """A model file cannot be used; the message is for the pemda admin (Bahasa Indonesia)."""


@dataclass(frozen=True)
class Prediction:
    """One label with its calibrated probability."""

    label: str
    confidence: float


@dataclass
class FeatureBlock:
    """One feature family's vocabulary and inverse document frequencies.

    The block's tokens are columns `offset .. offset + len(tokens) - 1` of its model's
    feature space; `TextModel` places its blocks one after the other.
    """

    family: str
    tokens: list[str]
    idf: FloatArray
    offset: int = 0
    vocabulary: Vocabulary = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ModelError(f"keluarga fitur tidak dikenal: {self.family!r}")
        if len(self.tokens) != len(self.idf):
            raise ModelError("berkas model rusak: ukuran kosakata dan idf berbeda")
        self.place(self.offset)

    @property
    def index(self) -> dict[str, int]:
        """Token -> model column."""
        return self.vocabulary.index

    def place(self, offset: int) -> None:
        """Number this block's columns from `offset` on."""
        self.offset = offset
        self.vocabulary = Vocabulary(self.family, self.tokens, offset)

    def add_columns(self, prepared: str, out: array[int]) -> None:
        """Append to `out` the model column of every known token of the text."""
        self.vocabulary.add_columns(prepared, out)


@dataclass
class TextModel:
    """A calibrated linear classifier over TF-IDF word and character n-grams."""

    labels: list[str]
    blocks: list[FeatureBlock]
    w_indptr: IntArray  # per feature column: where its class weights start in w_class/w_value
    w_class: IntArray
    w_value: FloatArray
    intercept: FloatArray
    temperature: float
    meta: dict[str, Any] = field(default_factory=dict)
    # How prediction reads a message (`share`); None until first use.
    _reading: tuple[Reading | None, int] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        total = sum(len(b.tokens) for b in self.blocks)
        k = len(self.labels)
        if len(self.w_indptr) != total + 1 or len(self.intercept) != k or self.temperature <= 0:
            raise ModelError("berkas model rusak: ukuran bobot tidak cocok dengan kosakata")
        if len(self.w_class) and int(self.w_class.max()) >= k:
            raise ModelError("berkas model rusak: bobot menunjuk label yang tidak ada")
        offset = 0
        for block in self.blocks:
            if block.offset != offset:
                block.place(offset)
            offset += len(block.tokens)
        self._idf = np.concatenate(
            [np.zeros(0, dtype=np.float32)] + [b.idf.astype(np.float32) for b in self.blocks]
        )
        # Where each block's columns end: a column's block is its rank among these.
        self._block_ends = np.array([b.offset + len(b.tokens) for b in self.blocks][:-1])

    @property
    def threshold(self) -> float | None:
        """The confidence above which training recommends acting (None if not recorded)."""
        value = self.meta.get("recommended_threshold")
        return float(value) if value is not None else None

    def features(self, text: str) -> tuple[IntArray, FloatArray]:
        """The message's feature columns (ascending) and their TF-IDF weights.

        As scikit-learn's vectorizers compute them in training: sublinear term frequency
        (1 + log count) times idf, scaled to unit length within each block. Personal data
        never reaches them (`prepared`). Written for few numpy calls: one list of every
        known token's column, counted once, weighed and scaled per block in whole arrays.
        """
        clean = prepared(text)
        found: array[int] = array("q")  # 64-bit ints, read by numpy without a copy
        for block in self.blocks:
            block.add_columns(clean, found)
        if not found:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        cols, counts = np.unique(np.frombuffer(found, dtype=np.int64), return_counts=True)
        weights = (1.0 + np.log(counts)) * self._idf.take(cols)
        block_of = np.searchsorted(self._block_ends, cols, side="right")
        norms = np.sqrt(np.bincount(block_of, weights=weights * weights))
        return cols, (weights / norms[block_of]).astype(np.float32)

    def decision(self, text: str) -> FloatArray:
        """Each class's linear score, walking the sparse weights of `features`.

        The reference scoring, and the path for a model whose weights are too large to read
        densely (`reading.DENSE_LIMIT`); prediction otherwise goes through a shared reading.
        """
        cols, weights = self.features(text)
        starts = self.w_indptr[cols]
        lengths = self.w_indptr[cols + 1] - starts
        keep = lengths > 0
        positions = _ranges(starts[keep], lengths[keep])
        if not len(positions):
            return self.intercept.copy()
        scale = np.repeat(weights[keep], lengths[keep])
        scores = np.bincount(
            self.w_class[positions],
            weights=self.w_value[positions] * scale,
            minlength=len(self.labels),
        )
        result: FloatArray = (scores + self.intercept).astype(np.float32)
        return result

    def share(self, reading: Reading | None, position: int = 0) -> None:
        """Read messages through `reading` (as its model `position`), or alone with None."""
        self._reading = (reading, position) if reading is not None else _ALONE

    def probabilities(self, text: str) -> FloatArray:
        """Calibrated probabilities per label (they sum to one); the array is read-only.

        Through the model's shared reading (built for this model alone on first use, or
        joined with others by `reading.share_reading`); by the sparse walk when the weights
        are too large to read densely.
        """
        reading = self._reading
        if reading is None:
            alone = SharedReading.of([self])
            reading = self._reading = (alone, 0) if alone is not None else _ALONE
        shared, position = reading
        if shared is None:
            return _read_only(calibrate(self.decision(text)[None, :], self.temperature)[0])
        return shared.probabilities(text)[position]

    def predict(self, text: str, top: int = 3) -> list[Prediction]:
        """The `top` most likely labels, most likely first."""
        probs = self.probabilities(text)
        left = probs.copy()
        best: list[int] = []
        for _ in range(min(top, len(probs))):  # argmax takes the earlier label of a tie
            best.append(int(left.argmax()))
            left[best[-1]] = -1.0  # probabilities are never negative
        return [Prediction(self.labels[i], float(probs[i])) for i in best]

    def probability_of(self, text: str, label: str) -> float:
        """The calibrated probability of one label (0 when the model does not know it)."""
        if label not in self.labels:
            return 0.0
        return float(self.probabilities(text)[self.labels.index(label)])


def _ranges(starts: IntArray, lengths: IntArray) -> IntArray:
    """Concatenated `range(s, s + n)` for each start and length, without a Python loop."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    out = np.ones(total, dtype=np.int64)
    out[0] = starts[0]
    heads = np.cumsum(lengths)[:-1]
    out[heads] = starts[1:] - (starts[:-1] + lengths[:-1] - 1)
    return np.cumsum(out)


def _read_only(array_: FloatArray) -> FloatArray:
    array_.flags.writeable = False
    return array_


def calibrate(scores: npt.NDArray[Any], temperature: float) -> FloatArray:
    """Probabilities per row: the softmax of the linear scores divided by the temperature."""
    scaled = scores / temperature
    scaled = scaled - scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    probs: FloatArray = (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)
    return probs


# --- the file ------------------------------------------------------------------------------


def save_model(model: TextModel, path: str | Path) -> None:
    """Write the model file (see the module docstring for its layout)."""
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "features_version": FEATURES_VERSION,
        "labels": model.labels,
        "blocks": [{"family": b.family, "size": len(b.tokens)} for b in model.blocks],
        "temperature": model.temperature,
        "meta": model.meta,
    }
    arrays: dict[str, npt.NDArray[Any]] = {
        "header": np.frombuffer(json.dumps(header, ensure_ascii=False).encode(), dtype=np.uint8),
        "w_indptr": model.w_indptr.astype(np.int64),
        "w_class": model.w_class.astype(np.int32),
        "w_value": model.w_value.astype(np.float32),
        "intercept": model.intercept.astype(np.float32),
    }
    for block in model.blocks:
        text = "\n".join(block.tokens).encode()
        arrays[f"vocab_{block.family}"] = np.frombuffer(text, dtype=np.uint8)
        arrays[f"idf_{block.family}"] = block.idf.astype(np.float32)
    target = Path(path)
    with target.open("wb") as out:  # a file object: numpy adds no ".npz" to the name
        np.savez_compressed(out, **arrays)  # type: ignore[arg-type]


def load_model(path: str | Path, *, check_version: bool = False) -> TextModel:
    """Read a model file; ModelError (Indonesian) when it is not one or cannot be used.

    With `check_version`, a model trained with another scikit-learn version than the one
    installed is refused (training and evaluation); prediction loads it regardless.
    """
    source = Path(path)
    try:
        with np.load(source, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except FileNotFoundError:
        raise ModelError(f"berkas model {source} tidak ada") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{source} bukan berkas model SP4N ({exc.__class__.__name__})") from None
    header = _header(arrays, source)
    if check_version:
        check_sklearn_version(header.get("meta", {}), source)
    try:
        blocks = [
            FeatureBlock(
                b["family"],
                _tokens(arrays[f"vocab_{b['family']}"]) if b["size"] else [],
                arrays[f"idf_{b['family']}"].astype(np.float32),
            )
            for b in header["blocks"]
        ]
        return TextModel(
            labels=[str(label) for label in header["labels"]],
            blocks=blocks,
            w_indptr=arrays["w_indptr"].astype(np.int64),
            w_class=arrays["w_class"].astype(np.int64),
            w_value=arrays["w_value"].astype(np.float32),
            intercept=arrays["intercept"].astype(np.float32),
            temperature=float(header["temperature"]),
            meta=dict(header.get("meta") or {}),
        )
    except (KeyError, TypeError) as exc:
        raise ModelError(f"berkas model {source} rusak: bagian {exc} tidak ada") from None


def _header(arrays: dict[str, npt.NDArray[Any]], source: Path) -> dict[str, Any]:
    try:
        header = json.loads(arrays["header"].tobytes().decode())
    except (KeyError, ValueError):
        raise ModelError(f"{source} bukan berkas model SP4N (tidak ada kepala JSON)") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelError(f"{source} bukan berkas model SP4N")
    if header.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{source} memakai format model versi {header.get('format_version')}, gateway ini"
            f" membaca versi {FORMAT_VERSION}; latih ulang model dengan gateway ini"
        )
    if header.get("features_version", 1) != FEATURES_VERSION:
        raise ModelError(
            f"{source} dibuat dengan cara membaca teks versi {header.get('features_version')},"
            f" gateway ini memakai versi {FEATURES_VERSION}; latih ulang model dengan gateway ini"
        )
    return header


def _tokens(blob: npt.NDArray[Any]) -> list[str]:
    return blob.tobytes().decode().split("\n")


def installed_sklearn_version() -> str | None:
    """The installed scikit-learn version, or None without the `learn` extra."""
    try:
        import sklearn  # noqa: PLC0415
    except ImportError:
        return None
    return str(sklearn.__version__)


def check_sklearn_version(meta: dict[str, Any], source: Path | str) -> None:
    """Refuse a model trained with another scikit-learn than the installed one."""
    recorded = meta.get("sklearn_version")
    installed = installed_sklearn_version()
    if installed is None:
        raise ModelError(
            "scikit-learn belum terpasang: pasang dengan pip install 'sp4n-gateway[learn]'"
        )
    if recorded != installed:
        raise ModelError(
            f"model {source} dilatih dengan scikit-learn {recorded}, sedangkan yang terpasang"
            f" {installed}; angka dan ambangnya tidak dapat dipercaya pada versi ini."
            " Latih ulang model dengan versi yang terpasang (routing train / kinds train)."
        )


def utc_now_iso() -> str:
    """Training time stamp for the metadata."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@lru_cache(maxsize=8)
def _cached(path: str, mtime_ns: int) -> TextModel:
    return load_model(path)


def load_cached(path: str | Path) -> TextModel:
    """A model file, loaded once per path and modification time."""
    target = Path(path)
    try:
        stamp = target.stat().st_mtime_ns
    except OSError:
        stamp = 0  # load_model says what is wrong
    return _cached(str(target), stamp)
