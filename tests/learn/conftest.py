"""Models trained once per test session on the labelled sets in tests/data/."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from normalizer.learn.history import label_resolver, read_history, read_mapping
from normalizer.learn.model import TextModel, save_model
from normalizer.learn.train import train_text_model
from tests.data import dispatch

DATA = Path(__file__).resolve().parent.parent / "data"

# The test config's agencies, each given the topics of one agency of the synthetic city.
TEST_AGENCIES = {
    "upt-jalan": "bpjn",
    "dinas-pupr": "dinas-pupr",
    "pemkab": "dlh",
    "inspektorat": "bkpsdm",
}


@pytest.fixture(scope="session")
def dispatch_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[TextModel, Path]:
    """A routing model trained on tests/data/dispatch_train.csv (the centre's names mapped)."""
    resolve = label_resolver(read_mapping(DATA / "dispatch_mapping.yaml"), None)
    history = read_history(DATA / "dispatch_train.csv", "keluhan", "instansi", resolve)
    model = train_text_model(history.texts, history.labels, task="routing")
    path = tmp_path_factory.mktemp("models") / "dispatch.npz"
    save_model(model, path)
    return model, path


def write_small_history(path: Path, rows: int = 400, seed: int = 5) -> None:
    """A history labelled with the test config's agency codes (tests.helpers.AGENCIES)."""
    rng = random.Random(seed)
    pool = {a.code: a for a in dispatch.agencies(4)}
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["keluhan", "instansi"])
        for _ in range(rows):
            code, source = rng.choice(sorted(TEST_AGENCIES.items()))
            writer.writerow([dispatch.complaint(pool[source], rng), code])


@pytest.fixture(scope="session")
def small_routing_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A routing model over the test config's agencies, written where a config can name it."""
    folder = tmp_path_factory.mktemp("small")
    history_path = folder / "history.csv"
    write_small_history(history_path)
    history = read_history(history_path, "keluhan", "instansi", label_resolver(None, None))
    model = train_text_model(history.texts, history.labels, task="routing")
    path = folder / "routing.npz"
    save_model(model, path)
    return path
