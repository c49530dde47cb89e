"""No-wrong-door routing: rules in order, the default, and the walk up the agency tree."""

from __future__ import annotations

import pytest

from config.schema import RoutingSection
from forwarder.routing import ModelOpinion, NoHigherAgency, Router, RoutingFacts
from normalizer.learn.model import Prediction
from normalizer.report import Routing

PARENTS = {
    "nasional": None,
    "pemkab": "nasional",
    "dinas-pupr": "pemkab",
    "upt-jalan": "dinas-pupr",
    "inspektorat": "pemkab",
    "dinkes": "pemkab",
}

ROUTING = RoutingSection.model_validate(
    {
        "default": "nasional",
        "rules": [
            {"name": "wbs", "when": {"kind": "whistleblowing"}, "agency": "inspektorat"},
            {
                "name": "jalan",
                "when": {"keywords": ["jalan rusak", "jembatan"]},
                "agency": "upt-jalan",
            },
            {"when": {"keywords": ["puskesmas"], "channel": ["sms-1708"]}, "agency": "dinkes"},
            {"when": {"region": ["33.01"]}, "agency": "pemkab"},
            {"when": {"category": ["infrastruktur"]}, "agency": "dinas-pupr"},
        ],
    }
)


def facts(
    text: str = "",
    kind: str = "pengaduan",
    channel: str = "web",
    category: str | None = None,
    region: str | None = None,
) -> RoutingFacts:
    return RoutingFacts(text=text, kind=kind, channel=channel, category=category, region=region)


ROUTE_CASES = [
    (
        "kind rule first",
        facts("jalan rusak dan pungli", kind="whistleblowing"),
        "inspektorat",
        "rule wbs",
    ),
    ("keyword rule", facts("Ada JALAN RUSAK di desa"), "upt-jalan", "rule jalan"),
    (
        "all conditions of a rule must hold",
        facts("puskesmas tutup", channel="web"),
        "nasional",
        "default",
    ),
    (
        "keyword and channel both hold",
        facts("puskesmas tutup", channel="sms-1708"),
        "dinkes",
        "rule rules[2]",
    ),
    ("region prefix", facts("x", region="33.01.05"), "pemkab", "rule rules[3]"),
    ("region is not a string prefix", facts("x", region="33.011"), "nasional", "default"),
    ("category", facts("x", category="infrastruktur"), "dinas-pupr", "rule rules[4]"),
    ("nothing matches: default", facts("lampu mati"), "nasional", "default"),
]


@pytest.mark.parametrize(
    ("case", "agency", "reason"), [c[1:] for c in ROUTE_CASES], ids=[c[0] for c in ROUTE_CASES]
)
def test_route(case: RoutingFacts, agency: str, reason: str) -> None:
    routing = Router(ROUTING, PARENTS).route(case)
    assert (routing.agency, routing.reason, routing.hops) == (agency, reason, [])


def test_escalation_walks_to_the_root_each_agency_once() -> None:
    router = Router(ROUTING, PARENTS)
    routing = Routing(agency="upt-jalan", reason="rule jalan")
    seen = [routing.agency]
    while True:
        try:
            routing = router.escalate(routing)
        except NoHigherAgency:
            break
        seen.append(routing.agency)
        assert routing.reason == f"returned by {seen[-2]}"
        assert routing.hops == seen[:-1]
    assert seen == ["upt-jalan", "dinas-pupr", "pemkab", "nasional"]
    assert len(set(seen)) == len(seen)


def test_escalation_skips_an_agency_that_already_had_it() -> None:
    router = Router(ROUTING, PARENTS)
    # Went to pemkab first, was returned, then a rule sent it down to dinas-pupr which
    # returns it too: pemkab is skipped, the national admin gets it.
    routing = Routing(agency="dinas-pupr", reason="x", hops=["pemkab"])
    assert router.escalate(routing).agency == "nasional"


def test_returned_by_another_agency_than_addressed() -> None:
    router = Router(ROUTING, PARENTS)
    routing = router.escalate(Routing(agency="pemkab", reason="x"), returned_by="inspektorat")
    assert routing.agency == "nasional"
    assert routing.hops == ["pemkab", "inspektorat"]


def test_no_template_ever_renders_a_missing_value() -> None:
    """Issue 8.8: every reply template, every variant, optional fields empty: no "None"."""
    from forwarder.replies import DEFAULT_TEMPLATES, ReplyTemplates

    templates = ReplyTemplates()
    # The replies the queue renders from a report (chat prompts have their own context;
    # the SLA digest goes to agencies, not citizens).
    names = sorted(
        {p.name.split(".")[0] for p in DEFAULT_TEMPLATES.glob("*.txt")}
        - {p.name.split(".")[0] for p in DEFAULT_TEMPLATES.glob("chat_*.txt")}
        - {"sla_digest"}
    )
    assert {"ack", "status", "response", "status_query"} <= set(names)
    empty = {
        "tracking_id": "LPR1234567",
        "agency": None,
        "agency_name": None,
        "kind": None,
        "status": None,
        "status_label": None,
        "note": None,
        "text": None,
        "status_url": None,
        # sla_overdue's own (forwarder.sla.watch)
        "stage": None,
        "stage_label": None,
        "allowed": None,
        "working_days": True,
        "due_day": None,
        "started_day": None,
    }
    variants = sorted({p.name.split(".")[1] for p in DEFAULT_TEMPLATES.glob("*.*.txt")})
    for name in names:
        for variant in [None, *variants]:
            for found in (True, False):
                text = templates.render(name, variant, **empty, found=found, include_response=True)
                assert "None" not in text, (name, variant, text)
                assert "{{" not in text and text.strip(), (name, variant)


def test_a_model_opinion_as_the_timeline_and_the_reason_show_it() -> None:
    sure = ModelOpinion(
        "dispatch",
        [
            Prediction("dinas-pupr", 0.934567),
            Prediction("bpjn", 0.04321),
            Prediction("dlh", 0.0149),
        ],
        threshold=0.654321,
    )
    assert sure.acted
    assert sure.summary() == "dinas-pupr 0.93; alternatives bpjn 0.04, dlh 0.01"
    assert sure.detail() == {
        "rule": "dispatch",
        "acted": True,
        "threshold": 0.6543,
        "top3": [
            {"agency": "dinas-pupr", "confidence": 0.9346},
            {"agency": "bpjn", "confidence": 0.0432},
            {"agency": "dlh", "confidence": 0.0149},
        ],
    }
    alone = ModelOpinion("dispatch", [Prediction("dlh", 0.5)], threshold=0.5)
    assert alone.summary() == "dlh 0.50" and alone.acted
    assert not ModelOpinion("dispatch", [Prediction("dlh", 0.49)], threshold=0.5).acted
