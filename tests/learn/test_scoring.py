"""The models' child process: the same answers as in the gateway; a fallback losing nothing."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from gateway.scoring import ScoringProcess, start_scoring
from normalizer.learn.kinds import default_model_path
from normalizer.learn.model import TextModel, calibrate, load_model

TEXTS = [
    "Jalan nasional berlubang di jalur bypass, mohon segera diperbaiki",
    "Pegawai minta uang rokok sebelum izin usaha ditandatangani",
    "Hubungi saya di 0812 3456 7890 atau budi@contoh.id",
    "",
    "teks \udcff rusak",  # a lone surrogate, as a broken form can send
]


def reference(model: TextModel, text: str) -> np.ndarray:
    return calibrate(model.decision(text)[None, :], model.temperature)[0]


@pytest.fixture
def scoring(
    dispatch_model: tuple[TextModel, Path],
) -> Iterator[tuple[ScoringProcess, list[TextModel]]]:
    paths = [default_model_path(), dispatch_model[1]]
    models = [load_model(p) for p in paths]
    process = start_scoring(models, paths)
    assert process is not None
    yield process, models
    process.close()


def test_the_child_answers_as_the_models_read_in_the_gateway(
    scoring: tuple[ScoringProcess, list[TextModel]],
) -> None:
    process, (kinds, routing) = scoring
    assert process.alive and process.process.is_alive()
    for text in TEXTS:
        assert np.allclose(kinds.probabilities(text), reference(kinds, text), atol=2e-6)
        assert np.allclose(routing.probabilities(text), reference(routing, text), atol=2e-6)
    # The routing rule after the kind model: one question to the child, not two.
    before = process._answers.cache_info()
    kinds.probabilities("lampu jalan mati di gang kami")
    routing.predict("lampu jalan mati di gang kami")
    after = process._answers.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 1)


def test_a_batch_is_read_in_one_round_trip_with_the_same_answers(
    scoring: tuple[ScoringProcess, list[TextModel]],
) -> None:
    process, (kinds, routing) = scoring
    process.warm([])  # nothing to ask: no question, the child stays
    batch = [*TEXTS, TEXTS[0]]  # a repeat is asked once
    process.warm(batch)
    assert set(process._warm) == set(TEXTS)
    before = process._answers.cache_info()
    for text in batch:
        assert np.allclose(kinds.probabilities(text), reference(kinds, text), atol=2e-6)
        assert np.allclose(routing.probabilities(text), reference(routing, text), atol=2e-6)
    assert process._answers.cache_info().misses == before.misses  # no question more
    assert process.alive


def test_a_dead_child_leaves_the_models_to_the_gateway_with_the_same_answers(
    scoring: tuple[ScoringProcess, list[TextModel]], caplog: pytest.LogCaptureFixture
) -> None:
    process, (kinds, routing) = scoring
    process.process.kill()
    process.process.join(5)
    caplog.set_level(logging.ERROR, logger="gateway.scoring")
    for text in TEXTS:
        assert np.allclose(routing.probabilities(text), reference(routing, text), atol=2e-6)
        assert np.allclose(kinds.probabilities(text), reference(kinds, text), atol=2e-6)
    assert not process.alive
    assert len(caplog.records) == 1  # said once, and without any report's text
    assert "gateway process" in caplog.records[0].getMessage()
    assert all(t and t not in caplog.text for t in TEXTS[:3])


def test_a_child_that_does_not_answer_in_time_is_given_up(
    scoring: tuple[ScoringProcess, list[TextModel]], monkeypatch: pytest.MonkeyPatch
) -> None:
    process, (kinds, _) = scoring
    monkeypatch.setattr("gateway.scoring.ANSWER_TIMEOUT", 0.0)
    process.process.kill()  # nothing will answer: the poll times out (or the pipe breaks)
    process.process.join(5)
    text = "air PDAM mati tiga hari"
    assert np.allclose(kinds.probabilities(text), reference(kinds, text), atol=2e-6)
    assert not process.alive


def test_a_stopped_child_is_given_up_and_does_not_outlive_the_gateway(
    scoring: tuple[ScoringProcess, list[TextModel]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A child that is alive but never answers (stopped): the report is scored here."""
    process, (kinds, routing) = scoring
    monkeypatch.setattr("gateway.scoring.ANSWER_TIMEOUT", 0.2)
    caplog.set_level(logging.ERROR, logger="gateway.scoring")
    assert process.process.pid is not None
    os.kill(process.process.pid, signal.SIGSTOP)
    text = "air PDAM mati tiga hari di perumahan kami"
    assert np.allclose(routing.probabilities(text), reference(routing, text), atol=2e-6)
    assert np.allclose(kinds.probabilities(text), reference(kinds, text), atol=2e-6)
    assert not process.alive
    assert not process.process.is_alive()  # SIGTERM waits on a stopped process; it was killed
    assert [r.getMessage() for r in caplog.records] == [
        "the model process did not answer in time: the models read reports in the gateway"
        " process from now on"
    ]


def test_models_too_large_for_one_reading_get_no_child(
    dispatch_model: tuple[TextModel, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("normalizer.learn.reading.DENSE_LIMIT", 0)
    model = load_model(dispatch_model[1])
    assert start_scoring([model], [dispatch_model[1]]) is None
    assert start_scoring([], []) is None


def test_a_child_that_cannot_start_leaves_the_models_to_the_gateway(
    dispatch_model: tuple[TextModel, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gateway run inside a daemonic process may not start children: it still serves."""

    def refuse(self: object) -> None:
        raise AssertionError("daemonic processes are not allowed to have children")

    monkeypatch.setattr("multiprocessing.process.BaseProcess.start", refuse)
    model = load_model(dispatch_model[1])
    process = start_scoring([model], [dispatch_model[1]])
    assert process is not None and not process.alive
    text = "Jalan nasional berlubang di jalur bypass"
    assert np.allclose(model.probabilities(text), reference(model, text), atol=2e-6)
    process.close()
