"""The kind of a message from keyword rules and a learned model together.

Order of decision (a missed whistleblowing report is the costliest mistake: it exposes the
reporter, so that signal is taken from either source at a low threshold):

1. a kind given explicitly (the channel's `kind`, a form's field) is kept; if keywords or the
   model still see whistleblowing, the report is made confidential all the same;
2. whistleblowing keywords, or the model's whistleblowing probability at or above
   `whistleblowing_min`, make it whistleblowing;
3. aspirasi and permintaan_informasi keywords decide next;
4. when the keyword rules are silent, the model's best kind counts if it is aspirasi or
   permintaan_informasi with at least `min_confidence`;
5. otherwise pengaduan.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final

from normalizer.classify import DEFAULT_KIND, KindKeywords, as_kind, fold, folded_matches
from normalizer.learn.model import ModelError, TextModel
from vocabulary.kinds import Kind

DEFAULT_MODEL_FILE: Final = "kinds-default.npz"
FALLBACK_WHISTLEBLOWING_MIN: Final = 0.2
FALLBACK_MIN_CONFIDENCE: Final = 0.75


@dataclass(frozen=True)
class LearnedKinds:
    """A kind model with the thresholds it is used at."""

    model: TextModel
    whistleblowing_min: float
    min_confidence: float

    @classmethod
    def from_model(
        cls,
        model: TextModel,
        whistleblowing_min: float | None = None,
        min_confidence: float | None = None,
    ) -> LearnedKinds:
        """Thresholds not given are the ones recorded at training (or safe fallbacks)."""
        if not set(model.labels) <= {k.value for k in Kind}:
            raise ModelError("model ini bukan model jenis laporan: " + ", ".join(model.labels))
        recorded_wb = model.meta.get("positive_threshold")
        recorded = model.threshold
        return cls(
            model,
            whistleblowing_min
            if whistleblowing_min is not None
            else min(float(recorded_wb), 0.5)
            if recorded_wb is not None
            else FALLBACK_WHISTLEBLOWING_MIN,
            min_confidence
            if min_confidence is not None
            else recorded
            if recorded is not None
            else FALLBACK_MIN_CONFIDENCE,
        )


@dataclass(frozen=True)
class KindDecision:
    """The kind, whether whistleblowing was seen (confidentiality), and why."""

    kind: Kind
    whistleblowing_seen: bool
    source: str  # explicit, keywords, model or default
    note: str | None = None


def default_model_path() -> Path:
    """The kind model shipped with the gateway."""
    return Path(str(resources.files("normalizer") / "models" / DEFAULT_MODEL_FILE))


def _keyword_kind(folded_text: str, keywords: KindKeywords, kind: Kind) -> bool:
    return folded_matches(folded_text, getattr(keywords, kind))


def decide_kind(
    text: str,
    keywords: KindKeywords,
    explicit: str | None = None,
    learned: LearnedKinds | None = None,
) -> KindDecision:
    """The message's kind by the module's order of decision."""
    folded = fold(text)
    wb_keywords = _keyword_kind(folded, keywords, Kind.WHISTLEBLOWING)
    probs: dict[str, float] = {}
    if learned is not None:
        probs = dict(
            zip(learned.model.labels, map(float, learned.model.probabilities(text)), strict=True)
        )
    wb_probability = probs.get(Kind.WHISTLEBLOWING, 0.0)
    wb_model = learned is not None and wb_probability >= learned.whistleblowing_min
    chosen = as_kind(explicit)
    if chosen is not None:
        seen = chosen == Kind.WHISTLEBLOWING or wb_keywords or wb_model
        note = (
            f"tanda whistleblowing (model {wb_probability:.2f}) pada laporan {chosen}:"
            " dijaga rahasia"
            if seen and chosen != Kind.WHISTLEBLOWING
            else None
        )
        return KindDecision(chosen, seen, "explicit", note)
    if wb_keywords:
        return KindDecision(Kind.WHISTLEBLOWING, True, "keywords")
    if wb_model:
        note = f"jenis whistleblowing dari model ({wb_probability:.2f})"
        return KindDecision(Kind.WHISTLEBLOWING, True, "model", note)
    for kind in (Kind.ASPIRASI, Kind.PERMINTAAN_INFORMASI):
        if _keyword_kind(folded, keywords, kind):
            return KindDecision(kind, False, "keywords")
    if learned is not None and probs:
        best = max(probs, key=lambda label: probs[label])
        if best in (Kind.ASPIRASI, Kind.PERMINTAAN_INFORMASI) and (
            probs[best] >= learned.min_confidence
        ):
            note = f"jenis {best} dari model ({probs[best]:.2f})"
            return KindDecision(Kind(best), False, "model", note)
    return KindDecision(DEFAULT_KIND, False, "default")
