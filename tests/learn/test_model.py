"""Training, evaluation and the model file: figures, round trip, versions, personal data."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.cli import main
from normalizer.learn.features import FAMILIES, char_features, fold_text, prepare, word_features
from normalizer.learn.history import label_resolver, read_history
from normalizer.learn.model import ModelError, TextModel, load_model, save_model
from normalizer.learn.train import train_text_model
from tests.learn.conftest import DATA

DISPATCH = ["--map", str(DATA / "dispatch_mapping.yaml")]


def test_routing_train_and_evaluate_commands(tmp_path: Path) -> None:
    out = tmp_path / "routing.npz"
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "routing",
            "train",
            "--history",
            str(DATA / "dispatch_train.csv"),
            *DISPATCH,
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    meta = json.loads(result.output)
    # The file's own problems are counted, not silently used (tests/data/README.md).
    assert meta["skipped"]["empty_text"] > 0 and meta["skipped"]["duplicate"] > 0
    assert meta["skipped"]["unknown_label"] > 0
    assert meta["rows"] == meta["cv"]["rows"] > 1000
    assert meta["cv"]["top1"] > 0.75 and meta["cv"]["top3"] >= meta["cv"]["top1"]
    assert 0 < meta["recommended_threshold"] < 1
    result = runner.invoke(
        main,
        [
            "routing",
            "evaluate",
            "--model",
            str(out),
            "--test",
            str(DATA / "dispatch_test.csv"),
            *DISPATCH,
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["top1"] > 0.75 and figures["top3"] > figures["top1"]
    assert figures["recommended_threshold"] == meta["recommended_threshold"]
    curve = {round(p["threshold"], 4): p for p in figures["curve"]}
    at_recommended = curve[round(meta["recommended_threshold"], 4)]
    assert at_recommended["precision"] > 0.9 and at_recommended["coverage"] > 0.6
    coverages = [p["coverage"] for p in figures["curve"]]
    assert coverages == sorted(coverages, reverse=True)  # higher threshold, fewer acted on
    text = runner.invoke(
        main,
        [
            "routing",
            "evaluate",
            "--model",
            str(out),
            "--test",
            str(DATA / "dispatch_test.csv"),
            *DISPATCH,
        ],
    ).output
    assert "top-1" in text and "disarankan saat pelatihan" in text


def test_kinds_train_and_evaluate_commands(tmp_path: Path) -> None:
    out = tmp_path / "kinds.npz"
    runner = CliRunner()
    train = ["kinds", "train", "--history", str(DATA / "kinds_train.csv"), "--text-column", "teks"]
    result = runner.invoke(main, [*train, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "ambang whistleblowing" in result.output
    result = runner.invoke(
        main,
        [
            "kinds",
            "evaluate",
            "--model",
            str(out),
            "--test",
            str(DATA / "kinds_test.csv"),
            "--text-column",
            "teks",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["top1"] > 0.7
    assert figures["positive"]["label"] == "whistleblowing"
    assert figures["positive"]["recall"] >= 0.8  # held-out texts, most without keywords


def test_model_file_round_trip_without_pickle(dispatch_model: tuple[TextModel, Path]) -> None:
    model, path = dispatch_model
    loaded = load_model(path)
    texts = ["Jalan nasional berlubang di jalur bypass", "air PDAM mati tiga hari", "halo"]
    for text in texts:
        assert np.allclose(loaded.probabilities(text), model.probabilities(text), atol=1e-6)
        assert loaded.predict(text) == model.predict(text)
    assert loaded.labels == model.labels and loaded.meta == model.meta
    for key in ("trained_at", "rows", "sklearn_version", "cv", "recommended_threshold"):
        assert key in loaded.meta
    # Only plain arrays inside: np.load refuses pickled objects, and none are needed.
    with np.load(path, allow_pickle=False) as data:
        assert all(data[name].dtype != object for name in data.files)
    probs = loaded.probabilities(texts[0])
    assert probs.sum() == pytest.approx(1.0, abs=1e-5)
    assert loaded.predict(texts[0])[0].label == "bpjn"


def test_cached_features_meet_the_definition(dispatch_model: tuple[TextModel, Path]) -> None:
    """The per-word cache, one count and whole-array weighing give exactly the TF-IDF vector
    scikit-learn's definition gives, token by token."""
    model, _ = dispatch_model
    texts = ["Jalan nasional berlubang di jalur bypass", "air PDAM mati", "zzz qqq", ""]
    for text in [*texts, "jalan jalan jalan rusak parah", "Jln. rusak; jalan-jalan", "a"]:
        cols, weights = model.features(text)
        want = _reference_features(model, text)
        assert cols.tolist() == sorted(want)
        assert np.allclose(weights, [want[c] for c in sorted(want)], atol=1e-6)
    assert char_features(prepare("jalan rusak")) == [
        " j", "ja", "al", "la", "an", "n ", " ja", "jal", "ala", "lan", "an ",
        " jal", "jala", "alan", "lan ", " jala", "jalan", "alan ",
        " r", "ru", "us", "sa", "ak", "k ", " ru", "rus", "usa", "sak", "ak ",
        " rus", "rusa", "usak", "sak ", " rusa", "rusak", "usak ",
    ]  # fmt: skip


def _reference_features(model: TextModel, text: str) -> dict[int, float]:
    """Column -> weight by the definition: (1 + log count) x idf, unit length per block."""
    clean = prepare(text)
    vector: dict[int, float] = {}
    for block in model.blocks:
        counts = Counter(FAMILIES[block.family](clean))
        raw = {
            block.index[token]: (1 + math.log(count))
            * float(block.idf[block.index[token] - block.offset])
            for token, count in counts.items()
            if token in block.index
        }
        norm = math.sqrt(sum(w * w for w in raw.values()))
        vector.update({col: w / norm for col, w in raw.items()})
    return vector


def test_a_model_from_another_scikit_learn_is_refused_for_evaluation(
    dispatch_model: tuple[TextModel, Path], tmp_path: Path
) -> None:
    model, _ = dispatch_model
    model.meta = {**model.meta, "sklearn_version": "0.24.2"}
    foreign = tmp_path / "foreign.npz"
    save_model(model, foreign)
    with pytest.raises(ModelError, match=r"scikit-learn 0\.24\.2"):
        load_model(foreign, check_version=True)
    result = CliRunner().invoke(
        main,
        [
            "routing",
            "evaluate",
            "--model",
            str(foreign),
            "--test",
            str(DATA / "dispatch_test.csv"),
            *DISPATCH,
        ],
    )
    assert result.exit_code == 1
    assert "dilatih dengan scikit-learn 0.24.2" in result.output
    assert "Latih ulang" in result.output
    # Routing with it needs no scikit-learn at all: prediction only reads the format.
    assert load_model(foreign).predict("jalan nasional berlubang")[0].label == "bpjn"


@pytest.mark.parametrize(
    "content",
    [b"not a model", b"PK\x03\x04broken zip", None],
    ids=["text-file", "broken-zip", "missing"],
)
def test_what_is_not_a_model_is_refused_clearly(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "model.npz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelError, match="model"):
        load_model(path)


def test_a_pickled_array_is_never_loaded(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    np.savez(path, header=np.array([{"format": "sp4n-text-model"}], dtype=object))
    with pytest.raises(ModelError):
        load_model(path)


PERSONAL = (
    "Saya Budi, hubungi 0812-3456-7890 atau +62 813 9876 5432, email budi.santoso@contoh.co.id,"
    " NIK 3273011201900001. Jalan rusak di depan rumah."
)


def test_features_never_carry_phone_email_or_nik() -> None:
    prepared = prepare(PERSONAL)
    tokens = word_features(prepared) + char_features(prepared)
    joined = " ".join(tokens)
    for secret in ("0812", "3456", "7890", "9876", "5432", "santoso", "contoh", "3273", "0001"):
        assert secret not in joined
    assert "xteleponx" in prepared and "xsurelx" in prepared and "xnikx" in prepared
    assert "jalan rusak" in word_features(prepared)


def test_a_trained_model_stores_no_personal_data(tmp_path: Path) -> None:
    texts = [f"{PERSONAL} nomor {i}" for i in range(10)] + [
        f"Sampah menumpuk, lapor ke warga{i}@contoh.id atau 08571234{i:04d}" for i in range(10)
    ]
    labels = ["dinas-pupr"] * 10 + ["dlh"] * 10
    path = tmp_path / "m.npz"
    save_model(train_text_model(texts, labels, task="routing"), path)
    with np.load(path, allow_pickle=False) as data:
        vocabulary = " ".join(
            data[name].tobytes().decode() for name in data.files if name.startswith("vocab_")
        )
    assert "jalan rusak" in vocabulary
    for secret in ("0812", "3456", "santoso", "contoh", "3273", "warga0", "0857"):
        assert secret not in vocabulary
    assert not any(ch in vocabulary for ch in "123456789")  # every digit run became "0"


def test_history_skips_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text(
        "keluhan;instansi\n"
        "Jalan rusak;DINAS PUPR\n"
        "  ;DINAS PUPR\n"
        "Jalan   RUSAK!;Dinas PU & PR\n"
        "Sampah;\n"
        "Lampu mati;Dinas Entah\n",
        encoding="utf-8",
    )
    resolve = label_resolver({"dinas pupr": "dinas-pupr", "dinas pu & pr": "dinas-pupr"}, None)
    history = read_history(path, "keluhan", "instansi", resolve)
    assert history.texts == ["Jalan rusak"] and history.labels == ["dinas-pupr"]
    assert history.summary()["skipped"] == {
        "empty_text": 1,
        "empty_label": 1,
        "unknown_label": 1,
        "duplicate": 1,
    }
    assert dict(history.unknown_labels) == {"Dinas Entah": 1}
    with pytest.raises(ModelError, match="kolom 'isi' tidak ada"):
        read_history(path, "isi", "instansi", resolve)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=60))
def test_ascii_folding_by_table_equals_the_pattern(text: str) -> None:
    """The table fast path for ASCII folds exactly as the pattern does (model files rely on it)."""
    assert fold_text(text) == re.sub(r"[\W_]+", " ", text.casefold()).strip()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["jalan", "Jalan", "rusak", "0812", "#", "  ", "é", "_"]), max_size=12)
)
def test_cached_features_equal_the_definition(
    dispatch_model: tuple[TextModel, Path], words: list[str]
) -> None:
    """Any mix of repeated words, digits and punctuation: the fast path meets the definition."""
    model, _ = dispatch_model
    text = " ".join(words)
    cols, weights = model.features(text)
    want = _reference_features(model, text)
    assert cols.tolist() == sorted(want)
    assert np.allclose(weights, [want[c] for c in sorted(want)], atol=1e-6)
