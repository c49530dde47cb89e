"""No-wrong-door routing: ordered YAML rules pick an agency; a returned report goes up the tree.

The first rule whose every given condition holds wins; `routing.default` (the national admin
in a typical config) takes everything else. When an agency refuses a report as outside its
authority, the report moves to that agency's parent, skipping any agency that already had it,
so each agency sees it at most once and the chain ends at the root.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from config.schema import RoutingRule, RoutingSection
from normalizer.classify import keyword_matches
from normalizer.report import Routing


@dataclass(frozen=True)
class RoutingFacts:
    """What rules may look at in a normalized message."""

    text: str
    kind: str
    channel: str
    category: str | None = None
    region: str | None = None


class NoHigherAgency(Exception):
    """The returning agency has no parent left that has not had the report."""


class Router:
    """Applies the configured rules and walks the agency tree."""

    def __init__(self, routing: RoutingSection, parents: Mapping[str, str | None]) -> None:
        self.routing = routing
        self.parents = dict(parents)

    @staticmethod
    def _rule_matches(rule: RoutingRule, facts: RoutingFacts) -> bool:
        cond = rule.when
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
        for index, rule in enumerate(self.routing.rules):
            if self._rule_matches(rule, facts):
                label = rule.name or f"rules[{index}]"
                return Routing(agency=rule.agency, reason=f"rule {label}", hops=[])
        return Routing(agency=self.routing.default, reason="default", hops=[])

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
            raise NoHigherAgency(f"{refused} returned the report and no higher agency is left")
        return Routing(agency=candidate, reason=f"returned by {refused}", hops=hops)
