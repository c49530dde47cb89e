"""The learned models a config names: paths made absolute, files loaded and checked at start.

A routing model may only name agencies of the config (no wrong door: an agency the central
does not know would bounce), and every model file must load; both are config errors that
`config check` and every start report with the rule's path and line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from config.schema import DEFAULT_KIND_MODEL, ConfigModel, KindModelSection
from normalizer.learn.kinds import LearnedKinds, default_model_path
from normalizer.learn.model import ModelError, TextModel, load_cached
from vocabulary.kinds import KIND_NAMES

PathKey = tuple[str | int, ...]


class IssueSink(Protocol):
    """Where problems go (the loader's tree)."""

    def issue(self, path: PathKey, message: str) -> None:
        """Record a problem at a path."""


def _absolute(path: str, base_dir: Path) -> str:
    candidate = Path(path).expanduser()
    return str(candidate if candidate.is_absolute() else (base_dir / candidate).resolve())


def resolve_model_paths(model: ConfigModel, base_dir: Path) -> ConfigModel:
    """The config with every model path absolute (relative ones are from the config's folder)."""
    rules = [
        rule.model_copy(
            update={
                "learned": rule.learned.model_copy(
                    update={"model": _absolute(rule.learned.model, base_dir)}
                )
            }
        )
        if rule.learned is not None
        else rule
        for rule in model.routing.rules
    ]
    kind_model = model.normalizer.kind_model
    if kind_model.model != DEFAULT_KIND_MODEL:
        kind_model = kind_model.model_copy(update={"model": _absolute(kind_model.model, base_dir)})
    return model.model_copy(
        update={
            "routing": model.routing.model_copy(update={"rules": rules}),
            "normalizer": model.normalizer.model_copy(update={"kind_model": kind_model}),
        }
    )


def check_models(sink: IssueSink, model: ConfigModel) -> None:
    """Every named model loads; routing models name only configured agencies."""
    agencies = {a.code for a in model.agencies}
    for i, rule in enumerate(model.routing.rules):
        if rule.learned is None:
            continue
        path: PathKey = ("routing", "rules", i, "learned", "model")
        try:
            loaded = load_cached(rule.learned.model)
        except ModelError as exc:
            sink.issue(path, str(exc))
            continue
        unknown = sorted(set(loaded.labels) - agencies)
        if unknown:
            shown = ", ".join(unknown[:10]) + (" ..." if len(unknown) > 10 else "")
            sink.issue(
                path,
                f"model menyebut {len(unknown)} kode instansi yang tidak ada di agencies: {shown}"
                " (tambahkan, atau latih ulang dengan --map ke kode di konfigurasi)",
            )
        if loaded.meta.get("task") not in (None, "routing"):
            sink.issue(path, f"ini model {loaded.meta.get('task')}, bukan model rute")
    kind_model = model.normalizer.kind_model
    if kind_model.enabled and kind_model.model != DEFAULT_KIND_MODEL:
        path = ("normalizer", "kind_model", "model")
        try:
            loaded_kinds: TextModel = load_cached(kind_model.model)
        except ModelError as exc:
            sink.issue(path, str(exc))
            return
        if not set(loaded_kinds.labels) <= set(KIND_NAMES):
            sink.issue(
                path, "label model ini bukan jenis laporan: " + ", ".join(loaded_kinds.labels)
            )


def kind_model_path(section: KindModelSection) -> Path:
    """The kind model's file: the shipped one by default."""
    return default_model_path() if section.model == DEFAULT_KIND_MODEL else Path(section.model)


def learned_kinds(section: KindModelSection) -> LearnedKinds | None:
    """The kind model the normalizer uses (the shipped one by default), or None if disabled."""
    if not section.enabled:
        return None
    return LearnedKinds.from_model(
        load_cached(kind_model_path(section)), section.whistleblowing_min, section.min_confidence
    )
