"""The models decide a new report's kind and agency after intake, before its first forwarding.

Intake stores a new report with the kind and routing that the keyword rules give (the
learned rules passed over) and marks it `awaiting_models`; the forward worker, having
claimed its submission and before calling the central, reads the claimed batch with the
kind and routing models (one round trip to the models' process for the whole batch) and
settles the report as if the models had been asked at intake (normalizer.learn.kinds,
forwarder.routing): the kind, confidentiality (only ever raised: whistleblowing seen by a
model makes the report confidential), the agency, and the `routed` event with the models'
opinions. Nothing leaves the gateway before that: not the report, not its acknowledgement.

Why after the commit: every form of a wait for a model on a request thread cost intake
11-24 % of its throughput on two cores (bench/RESULTS.md, 2026-12-01), far over the 10 %
the models may cost; after the commit the request threads wait for nothing.

An admin who sets a report's kind or agency before the models read it is not overruled
(the kind counts as given, the agency stays). A model that fails is logged and the report
is settled by the rules alone: a report is never held up or lost over a model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from forwarder.routing import Router, RoutingFacts
from normalizer.classify import KindKeywords, as_kind
from normalizer.learn.kinds import LearnedKinds, decide_kind
from normalizer.report import Report as CanonicalReport

log = logging.getLogger(__name__)

GIVEN_KIND = "given_kind"  # keys of Report.awaiting_models
AGENCY_BY_ADMIN = "agency_by_admin"


def awaiting(given_kind: str | None) -> dict[str, Any]:
    """The mark intake leaves on a report for the models to decide later."""
    return {GIVEN_KIND: given_kind, AGENCY_BY_ADMIN: False}


def text_of(wire: dict[str, Any]) -> str:
    """The text the models read: title and body, as intake and training read them."""
    return f"{wire['title']}\n{wire['body']}"


@dataclass
class Settled:
    """A report as the models left it: its new wire payload and the events to record."""

    wire: dict[str, Any]
    kind: str
    agency: str
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


class ModelPass:
    """Settles reports waiting for the models (forwarder.worker calls it per claimed batch)."""

    def __init__(
        self,
        router: Router,
        keywords: KindKeywords,
        learned: LearnedKinds | None,
        warm: Callable[[Sequence[str]], None] | None = None,
    ) -> None:
        self.router = router
        self.keywords = keywords
        self.learned = learned
        self.warm = warm  # reads a batch in one round trip (gateway.scoring), when serving

    @property
    def active(self) -> bool:
        """Whether there are models to wait for (the kind model or a learned rule)."""
        return self.learned is not None or bool(self.router.models)

    def prepare(self, wires: Sequence[dict[str, Any]]) -> None:
        """Read a batch's texts at once, so `settle` finds the answers ready."""
        if self.warm is not None and wires:
            self.warm([text_of(w) for w in wires])

    def settle(self, channel: str, wire: dict[str, Any], mark: dict[str, Any]) -> Settled:
        """Decide kind, confidentiality and agency with the models; by the rules if they fail."""
        try:
            return self._settle(channel, wire, mark, models=True)
        except Exception:  # a broken model must not hold a report back (no wrong door)
            log.exception("the models could not read report %s: decided by the rules", wire["id"])
            settled = self._settle(channel, wire, mark, models=False)
            settled.events.append(
                ("normalizer_note", {"note": "model tidak dapat membaca laporan ini: aturan saja"})
            )
            return settled

    def _settle(
        self, channel: str, wire: dict[str, Any], mark: dict[str, Any], *, models: bool
    ) -> Settled:
        text = text_of(wire)
        events: list[tuple[str, dict[str, Any]]] = []
        given = as_kind(mark.get(GIVEN_KIND))
        decision = decide_kind(
            text, self.keywords, explicit=given, learned=self.learned if models else None
        )
        if decision.note:
            events.append(("normalizer_note", {"note": decision.note}))
        out = dict(wire)
        out["kind"] = str(decision.kind)
        privacy = dict(wire["privacy"])
        privacy["confidential"] = bool(privacy.get("confidential")) or decision.whistleblowing_seen
        out["privacy"] = privacy
        if not mark.get(AGENCY_BY_ADMIN):
            location = wire.get("location") or {}
            route = self.router.decide(
                RoutingFacts(
                    text=text,
                    kind=decision.kind,
                    channel=channel,
                    category=wire.get("category"),
                    region=location.get("region_code"),
                ),
                models=models,
            )
            out["routing"] = route.routing.model_dump(mode="json")
            events.insert(0, ("routed", route.detail()))
        checked = CanonicalReport.model_validate(out)
        return Settled(checked.to_wire(), str(checked.kind), checked.routing.agency, events)
