"""No-wrong-door routing: ordered YAML rules pick an agency; a returned report goes up the tree.

The first rule whose every given condition holds wins; `routing.default` (the national admin
in a typical config) takes everything else. A `learned` rule asks a model trained on the
pemda's dispatch history: at or above its `min_confidence` the model's agency wins, below it
the next rules are tried (no wrong door: an unsure model never decides). The model's
confidence and its three best agencies go into `routing.reason` and the `routed` event.

When an agency refuses a report as outside its authority, the report moves to that agency's
parent, skipping any agency that already had it, so each agency sees it at most once and the
chain ends at the root.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from config.schema import LearnedCondition, RoutingRule, RoutingSection
from normalizer.classify import keyword_matches
from normalizer.learn.model import Prediction, TextModel, load_cached
from normalizer.report import Routing

FALLBACK_MIN_CONFIDENCE = 0.85


@dataclass(frozen=True)
class RoutingFacts:
    """What rules may look at in a normalized message."""

    text: str
    kind: str
    channel: str
    category: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class ModelOpinion:
    """What a learned rule's model said about one report."""

    rule: str
    candidates: list[Prediction]
    threshold: float

    @property
    def acted(self) -> bool:
        """Whether the model was sure enough to choose the agency."""
        return bool(self.candidates) and self.candidates[0].confidence >= self.threshold

    def summary(self) -> str:
        """For `routing.reason`: 'dinas-pupr 0.93; alternatives bpjn 0.04, dlh 0.01'."""
        best, *rest = self.candidates
        others = ", ".join(f"{p.label} {p.confidence:.2f}" for p in rest)
        return f"{best.label} {best.confidence:.2f}" + (
            f"; alternatives {others}" if others else ""
        )

    def detail(self) -> dict[str, Any]:
        """For the timeline's `routed` event."""
        return {
            "rule": self.rule,
            "acted": self.acted,
            "threshold": round(self.threshold, 4),
            "top3": [
                {"agency": p.label, "confidence": round(p.confidence, 4)} for p in self.candidates
            ],
        }


@dataclass(frozen=True)
class RouteDecision:
    """The routing of a new report and what the models said on the way."""

    routing: Routing
    opinions: list[ModelOpinion] = field(default_factory=list)

    def detail(self) -> dict[str, Any]:
        """The `routed` timeline event's detail."""
        out: dict[str, Any] = {"agency": self.routing.agency, "reason": self.routing.reason}
        if self.opinions:
            chosen = next((o for o in self.opinions if o.acted), None)
            if chosen is not None:
                out["confidence"] = round(chosen.candidates[0].confidence, 4)
            out["models"] = [o.detail() for o in self.opinions]
        return out


class NoHigherAgency(Exception):
    """The returning agency has no parent left that has not had the report."""


class Router:
    """Applies the configured rules and walks the agency tree."""

    def __init__(self, routing: RoutingSection, parents: Mapping[str, str | None]) -> None:
        self.routing = routing
        self.parents = dict(parents)
        # Loaded at start: a missing or broken model file stops the gateway, loudly.
        self.models: dict[str, TextModel] = {
            rule.learned.model: load_cached(rule.learned.model)
            for rule in routing.rules
            if rule.learned is not None
        }

    def _threshold(self, learned: LearnedCondition) -> float:
        if learned.min_confidence is not None:
            return learned.min_confidence
        return self.models[learned.model].threshold or FALLBACK_MIN_CONFIDENCE

    @staticmethod
    def _rule_matches(rule: RoutingRule, facts: RoutingFacts) -> bool:
        cond = rule.when
        if cond is None:
            return True
        checks = []
        if cond.keywords:
            checks.append(keyword_matches(facts.text, cond.keywords))
        if cond.kind:
            checks.append(facts.kind in cond.kind)
        if cond.channel:
            checks.append(facts.channel in cond.channel)
        if cond.category:
            checks.append(facts.category in cond.category)
        if cond.region:
            # A rule for region 33 covers 33.01 and 33.01.02: Kemendagri codes nest by prefix.
            region = facts.region or ""
            checks.append(any(region == r or region.startswith(r + ".") for r in cond.region))
        return all(checks)

    def route(self, facts: RoutingFacts) -> Routing:
        """The agency for a new report, and why."""
        return self.decide(facts).routing

    def decide(self, facts: RoutingFacts, *, models: bool = True) -> RouteDecision:
        """The agency for a new report, why, and every model's opinion on the way.

        `models=False` passes over the learned rules (intake's first, provisional routing;
        the models decide later, forwarder.model_pass).
        """
        opinions: list[ModelOpinion] = []
        for index, rule in enumerate(self.routing.rules):
            if not self._rule_matches(rule, facts) or (rule.learned and not models):
                continue
            label = rule.name or f"rules[{index}]"
            if rule.learned is None:
                return RouteDecision(
                    self._routing(rule.agency, f"rule {label}", opinions), opinions
                )
            model = self.models[rule.learned.model]
            opinion = ModelOpinion(
                label, model.predict(facts.text, top=3), self._threshold(rule.learned)
            )
            opinions.append(opinion)
            if opinion.acted:
                reason = f"model {label}: {opinion.summary()}"
                return RouteDecision(
                    self._routing(opinion.candidates[0].label, reason, []), opinions
                )
        return RouteDecision(self._routing(self.routing.default, "default", opinions), opinions)

    @staticmethod
    def _routing(agency: str, reason: str, unsure: list[ModelOpinion]) -> Routing:
        # A model that was not sure enough is still named, so an admin sees what it thought.
        for opinion in unsure:
            reason += (
                f" (model {opinion.rule} unsure: {opinion.summary()} < {opinion.threshold:.2f})"
            )
        return Routing(agency=agency, reason=reason, hops=[])

    def escalate(self, current: Routing, returned_by: str | None = None) -> Routing:
        """The routing after `returned_by` (default: the current agency) refused the report.

        Raises NoHigherAgency at the root, or when every ancestor already had it.
        """
        refused = returned_by or current.agency
        hops = [*current.hops]
        for code in (current.agency, refused):
            if code not in hops:
                hops.append(code)
        candidate = self.parents.get(refused)
        while candidate is not None and candidate in hops:
            candidate = self.parents.get(candidate)
        if candidate is None:
            raise NoHigherAgency(
                f"{refused} mengembalikan laporan dan tidak ada instansi di atasnya"
            )
        return Routing(agency=candidate, reason=f"returned by {refused}", hops=hops)
