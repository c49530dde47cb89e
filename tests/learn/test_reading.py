"""Shared reading: several models scored from one pass give the reference scores exactly."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from normalizer.learn.kinds import default_model_path
from normalizer.learn.model import FeatureBlock, TextModel, calibrate, load_model
from normalizer.learn.reading import SharedReading, share_reading

WORDS = ["jalan", "Jalan", "rusak", "pungli", "uang", "rokok", "izin", "PDAM", "air", "mati"]
ODD = ["0812 3456 7890", "budi@contoh.id", "#", "  ", "é", "_", "zzqx", "jln.", "di"]


def reference(model: TextModel, text: str) -> np.ndarray:
    """Probabilities by the definition: the sparse walk over `features`, then the softmax."""
    return calibrate(model.decision(text)[None, :], model.temperature)[0]


def fresh(path: Path) -> TextModel:
    return load_model(path)


@pytest.fixture
def pair(dispatch_model: tuple[TextModel, Path]) -> tuple[TextModel, TextModel, SharedReading]:
    """A fresh routing model and kind model, reading together."""
    routing, kinds = fresh(dispatch_model[1]), fresh(default_model_path())
    reading = share_reading([kinds, routing, kinds])  # a model named twice joins once
    assert reading is not None and reading.models == (kinds, routing)
    return routing, kinds, reading


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(WORDS + ODD), max_size=14))
def test_two_models_read_together_score_as_each_alone(
    dispatch_model: tuple[TextModel, Path], words: list[str]
) -> None:
    """Any mix of repeated words (n-grams counted across words), digits, personal data and
    unknown words: each model's probabilities equal the reference within float32 rounding."""
    routing, kinds = fresh(dispatch_model[1]), fresh(default_model_path())
    share_reading([kinds, routing])
    text = " ".join(words)
    for model in (routing, kinds):
        got = model.probabilities(text)
        assert got.shape == (len(model.labels),)
        assert np.allclose(got, reference(model, text), atol=2e-6)
        assert got.sum() == pytest.approx(1.0, abs=1e-5)


def test_the_second_model_is_answered_from_the_first_reading(
    pair: tuple[TextModel, TextModel, SharedReading],
) -> None:
    routing, kinds, reading = pair
    assert kinds._reading == (reading, 0) and routing._reading == (reading, 1)
    text = "Pegawai minta uang rokok sebelum izin usaha ditandatangani di jalan rusak"
    before = reading._answers.cache_info()
    kinds.probabilities(text)
    routing.predict(text)
    after = reading._answers.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 1)
    with pytest.raises(ValueError, match="read-only"):
        routing.probabilities(text)[0] = 1.0  # a shared answer cannot be changed by a caller


def test_a_model_reads_alone_until_shared(dispatch_model: tuple[TextModel, Path]) -> None:
    model = fresh(dispatch_model[1])
    assert model._reading is None
    text = "Jalan nasional berlubang di jalur bypass"
    assert np.allclose(model.probabilities(text), reference(model, text), atol=2e-6)
    assert model._reading is not None and model._reading[0] is not None
    assert model._reading[0].models == (model,)


def test_weights_too_large_for_a_dense_reading_are_walked_sparsely(
    dispatch_model: tuple[TextModel, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("normalizer.learn.reading.DENSE_LIMIT", 0)
    routing, kinds = fresh(dispatch_model[1]), fresh(default_model_path())
    assert share_reading([kinds, routing]) is None
    for text in ["Jalan nasional berlubang", "uang rokok untuk izin", ""]:
        for model in (routing, kinds):
            assert np.allclose(model.probabilities(text), reference(model, text), atol=1e-6)
            assert model._reading == (None, 0)


def test_a_full_word_cache_starts_over_and_scores_the_same(
    pair: tuple[TextModel, TextModel, SharedReading], monkeypatch: pytest.MonkeyPatch
) -> None:
    routing, _, reading = pair
    monkeypatch.setattr("normalizer.learn.features.WORD_CACHE", 3)
    (chars,) = [v for v in reading.vocabularies if v.family == "char"]
    texts = [" ".join(WORDS[i : i + 5]) + f" kata{i}" for i in range(len(WORDS))]
    for text in texts:
        assert np.allclose(routing.probabilities(text), reference(routing, text), atol=2e-6)
        assert 0 < len(chars._words) <= 3


def _hand_made(word: str, labels: list[str], weight: float) -> TextModel:
    """A model that knows one word (and its character n-grams) and nothing else."""
    grams = [f" {word[:2]}", word[:3]]
    return TextModel(
        labels=labels,
        blocks=[
            FeatureBlock("word", [word], np.array([1.5], dtype=np.float32)),
            FeatureBlock("char", grams, np.array([1.2, 2.0], dtype=np.float32)),
        ],
        w_indptr=np.array([0, 1, 2, 3]),
        w_class=np.array([0, 1, 0]),
        w_value=np.array([weight, weight, -weight], dtype=np.float32),
        intercept=np.array([0.1, -0.1], dtype=np.float32),
        temperature=0.7,
    )


def test_a_model_that_knows_none_of_the_words_keeps_its_prior() -> None:
    """Two models with disjoint vocabularies: the one that knows nothing of the message
    scores its intercepts alone, as it would reading alone (no division by a zero norm)."""
    roads = _hand_made("jalan", ["pupr", "dlh"], 2.0)
    water = _hand_made("air", ["pdam", "lain"], 3.0)
    share_reading([roads, water])
    for text in ["jalan jalan rusak", "air mati", "air jalan", "", "zzz"]:
        for model in (roads, water):
            got = model.probabilities(text)
            assert np.allclose(got, reference(model, text), atol=1e-6)
    prior = calibrate(water.intercept[None, :], water.temperature)[0]
    assert np.allclose(water.probabilities("jalan rusak"), prior, atol=1e-6)


def test_threads_reading_at_once_get_their_own_answers(
    pair: tuple[TextModel, TextModel, SharedReading], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server reads from several threads; a small word cache makes them clear it often."""
    routing, kinds, _ = pair
    monkeypatch.setattr("normalizer.learn.features.WORD_CACHE", 8)
    failures: list[str] = []

    def work(worker: int) -> None:
        for i in range(60):  # every text new: no answer comes from the recent-answers cache
            words = [WORDS[(i + k * worker) % len(WORDS)] for k in range(4)]
            text = " ".join(words) + f" kata{worker}x{i}"
            for model in (routing, kinds):
                if not np.allclose(model.probabilities(text), reference(model, text), atol=2e-6):
                    failures.append(text)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_predict_gives_the_best_labels_in_order_the_earlier_label_first_on_a_tie(
    dispatch_model: tuple[TextModel, Path],
) -> None:
    model = fresh(dispatch_model[1])
    for text in ["Jalan nasional berlubang di jalur bypass", "air PDAM mati", "zzz", ""]:
        probs = model.probabilities(text)
        ranked = sorted(range(len(probs)), key=lambda i: (-probs[i], i))
        for top in (1, 3, len(probs) + 2):
            got = model.predict(text, top=top)
            assert [p.label for p in got] == [model.labels[i] for i in ranked[:top]]
            assert [p.confidence for p in got] == [float(probs[i]) for i in ranked[:top]]
    tied = _hand_made("jalan", ["pertama", "kedua"], 2.0)
    tied.intercept[:] = 0.0  # a text it knows nothing of: 0.5 and 0.5
    assert [p.label for p in tied.predict("zzz", top=2)] == ["pertama", "kedua"]
