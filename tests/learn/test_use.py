"""The models at work: learned routing rules, the kind model, config checks, corrections."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select
from threadpoolctl import threadpool_info

from config.errors import ConfigError
from config.schema import RoutingSection
from forwarder.routing import Router, RoutingFacts
from gateway.cli import main
from gateway.runtime import build_runtime
from normalizer.classify import KindKeywords, classify_kind
from normalizer.learn.history import label_resolver, read_history
from normalizer.learn.kinds import LearnedKinds, decide_kind, default_model_path
from normalizer.learn.model import load_cached, load_model
from normalizer.pipeline import NormalizerSettings, normalize_draft
from store.models import Report, TimelineEvent, TrainingRow
from store.states import CorrectionSource
from store.training import record_correction
from tests.helpers import WEB_SECRET, config_text, load_test_config
from tests.learn.conftest import DATA
from vocabulary.drafts import MessageDraft

PARENTS = {
    "nasional": None,
    "pemkab": "nasional",
    "dinas-pupr": "pemkab",
    "upt-jalan": "dinas-pupr",
    "inspektorat": "pemkab",
}
ROAD = "Jalan nasional berlubang di jalur lintas provinsi rusak, sudah berbulan-bulan"


def learned_rules(model: Path, min_confidence: float | None = None) -> list[dict[str, Any]]:
    learned: dict[str, Any] = {"model": str(model)}
    if min_confidence is not None:
        learned["min_confidence"] = min_confidence
    return [
        {"name": "wbs", "when": {"kind": "whistleblowing"}, "agency": "inspektorat"},
        {"name": "riwayat", "learned": learned, "agency": "from_model"},
        {"name": "kucing", "when": {"keywords": ["kucing"]}, "agency": "pemkab"},
    ]


def router(model: Path, min_confidence: float | None = None) -> Router:
    section = RoutingSection.model_validate(
        {"default": "nasional", "rules": learned_rules(model, min_confidence)}
    )
    return Router(section, PARENTS)


def facts(text: str, kind: str = "pengaduan") -> RoutingFacts:
    return RoutingFacts(text=text, kind=kind, channel="web")


def test_a_sure_model_routes_with_its_confidence_and_top3(small_routing_model: Path) -> None:
    decision = router(small_routing_model).decide(facts(ROAD))
    assert decision.routing.agency == "upt-jalan"
    assert decision.routing.reason.startswith("model riwayat: upt-jalan ")
    assert "alternatives" in decision.routing.reason
    detail = decision.detail()
    assert detail["agency"] == "upt-jalan" and detail["confidence"] >= 0.5
    (opinion,) = detail["models"]
    assert opinion["acted"] is True and len(opinion["top3"]) == 3
    assert opinion["top3"][0] == {"agency": "upt-jalan", "confidence": detail["confidence"]}


def test_below_the_threshold_later_rules_then_the_default_decide(
    small_routing_model: Path,
) -> None:
    vague = "Selamat pagi, mohon bantuannya ya"
    model = load_model(small_routing_model)
    best = model.predict(vague)[0]
    assert best.confidence < 0.9
    unsure = router(small_routing_model, min_confidence=0.9)
    decision = unsure.decide(facts(vague))
    assert decision.routing.agency == "nasional"  # no wrong door: the national admin
    assert decision.routing.reason.startswith(f"default (model riwayat unsure: {best.label}")
    assert decision.detail()["models"][0]["acted"] is False
    assert "confidence" not in decision.detail()
    # A later keyword rule still wins over the default when the model is unsure.
    routing = unsure.route(facts("Selamat pagi, ada kucing liar, mohon bantuannya ya"))
    assert routing.agency == "pemkab" and routing.reason.startswith("rule kucing (model")


def test_rules_above_the_model_win(small_routing_model: Path) -> None:
    routing = router(small_routing_model).route(facts(ROAD, kind="whistleblowing"))
    assert (routing.agency, routing.reason) == ("inspektorat", "rule wbs")


def test_threshold_defaults_to_the_one_recommended_at_training(small_routing_model: Path) -> None:
    model = load_model(small_routing_model)
    opinion = router(small_routing_model).decide(facts(ROAD)).opinions[0]
    assert opinion.threshold == pytest.approx(model.threshold or 0.85)


def config_with_model(model: Path, tmp_path: Path, *, relative: bool = False) -> str:
    where = model.name if relative else str(model)  # relative: to the config file's folder
    rules = (
        "\nrouting:\n  default: nasional\n  rules:\n"
        f"    - {{name: riwayat, learned: {{model: {where}}}, agency: from_model}}\n"
    )
    text = config_text(f"sqlite:///{tmp_path / 'g.db'}", "http://127.0.0.1:9")
    head, _, tail = text.partition("\nrouting:\n")
    return head + rules + tail[tail.index("forwarder:") :]


def test_config_check_refuses_a_model_naming_unknown_agencies(
    dispatch_model: tuple[Any, Path], small_routing_model: Path, tmp_path: Path
) -> None:
    _, foreign = dispatch_model  # trained on the synthetic city's ~80 agencies
    (tmp_path / "routing.npz").write_bytes(foreign.read_bytes())
    with pytest.raises(ConfigError) as caught:
        load_test_config(config_with_model(tmp_path / "routing.npz", tmp_path))
    (issue,) = caught.value.issues
    assert issue.path == "routing.rules[0].learned.model"
    assert "tidak ada di agencies" in issue.message and "bpjn" in issue.message
    # The same rule with a model over configured agencies is fine; its path is made absolute.
    (tmp_path / "routing.npz").write_bytes(small_routing_model.read_bytes())
    config_file = tmp_path / "gateway.yaml"
    config_file.write_text(
        config_with_model(tmp_path / "routing.npz", tmp_path, relative=True), encoding="utf-8"
    )
    result = CliRunner().invoke(
        main,
        ["config", "check", "--config", str(config_file)],
        env={"CENTRAL_TOKEN": "test-token", "WEB_SECRET": WEB_SECRET},
    )
    assert result.exit_code == 0, result.output


def test_config_check_refuses_a_missing_model(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_test_config(config_with_model(tmp_path / "nowhere.npz", tmp_path))
    assert "tidak ada" in caught.value.issues[0].message


def shipped() -> LearnedKinds:
    return LearnedKinds.from_model(load_model(default_model_path()))


def whistleblowing_examples(name: str) -> list[str]:
    history = read_history(DATA / name, "teks", "kind", label_resolver(None, None))
    return [t for t, k in zip(history.texts, history.labels, strict=True) if k == "whistleblowing"]


def test_every_whistleblowing_example_the_keywords_miss_is_caught_by_the_shipped_model() -> None:
    learned = shipped()
    keywords = KindKeywords()
    examples = whistleblowing_examples("kinds_train.csv") + whistleblowing_examples(
        "kinds_test.csv"
    )
    missed = [t for t in examples if classify_kind(t, keywords) != "whistleblowing"]
    assert len(missed) > 80  # the set is mostly reports that name no keyword
    train_missed = [t for t in whistleblowing_examples("kinds_train.csv") if t in missed]
    for text in train_missed:
        decision = decide_kind(text, keywords, learned=learned)
        assert decision.kind == "whistleblowing", text
    held_out = [t for t in whistleblowing_examples("kinds_test.csv") if t in missed]
    caught = [
        t for t in held_out if decide_kind(t, keywords, learned=learned).kind == "whistleblowing"
    ]
    assert len(caught) / len(held_out) >= 0.8  # texts the model never saw


def make_draft(body: str) -> MessageDraft:
    return MessageDraft(external_id="k-1", received_at=dt.datetime.now(dt.UTC), body=body)


def test_the_kind_model_makes_a_report_confidential() -> None:
    settings = NormalizerSettings(learned_kinds=shipped())
    draft = make_draft("Petugas kelurahan minta uang kopi supaya surat saya cepat diteken")
    message = normalize_draft(draft, settings)
    assert message.kind == "whistleblowing" and message.privacy.confidential
    assert any("dari model" in note for note in message.notes)
    # A channel that forces its kind keeps it, but the reporter is protected all the same.
    forced = normalize_draft(
        draft, NormalizerSettings(learned_kinds=shipped(), default_kind="pengaduan")
    )
    assert forced.kind == "pengaduan" and forced.privacy.confidential
    plain = normalize_draft(make_draft("Lampu jalan di gang kami mati"), settings)
    assert plain.kind == "pengaduan" and not plain.privacy.confidential


def test_aspirasi_and_questions_from_the_model_when_keywords_are_silent() -> None:
    learned = shipped()
    keywords = KindKeywords()
    question = "Kapan pendaftaran sekolah negeri dibuka dan berkas apa yang dibawa?"
    assert classify_kind(question, keywords) == "pengaduan"
    assert decide_kind(question, keywords, learned=learned).kind == "permintaan_informasi"


def test_reroute_and_admin_correction_become_training_rows_and_export(
    gateway: Any, tmp_path: Path
) -> None:
    gateway.post("web", {"body": "jembatan putus, hubungi 081234567890", "external_id": "t-1"})
    gateway.drain()
    (report,) = gateway.rows(Report)
    requests.post(
        f"{gateway.sandbox.url}/sandbox/reports/{report.tracking_id}/status",
        json={"status": "returned", "agency": "upt-jalan"},
        timeout=5,
    ).raise_for_status()
    gateway.runtime.status_sync().run_once()
    (row,) = gateway.rows(TrainingRow)
    assert (row.agency, row.previous_agency, row.source) == ("dinas-pupr", "upt-jalan", "reroute")
    assert "081234567890" not in row.text and "jembatan putus" in row.text
    with gateway.runtime.sessions.begin() as session:
        stored = session.get(Report, report.id)
        assert stored is not None
        record_correction(session, stored, "inspektorat", CorrectionSource.ADMIN)
    (row,) = gateway.rows(TrainingRow)  # the later correction replaces the earlier one
    assert row.agency == "inspektorat" and row.source is CorrectionSource.ADMIN
    assert "agency_corrected" in [e.event for e in gateway.rows(TimelineEvent)]
    config = tmp_path / "export.yaml"
    config.write_text(
        config_text(
            gateway.runtime.config.model.gateway.database,
            gateway.sandbox.url,
            data_dir=str(tmp_path / "data"),
        ),
        encoding="utf-8",
    )
    out = tmp_path / "history.csv"
    result = CliRunner().invoke(
        main,
        ["routing", "export-history", "--config", str(config), "--out", str(out)],
        env={"CENTRAL_TOKEN": "test-token", "WEB_SECRET": WEB_SECRET},
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(r["instansi"], r["sumber"]) for r in rows] == [("inspektorat", "admin")]
    assert "0812" not in out.read_text(encoding="utf-8")
    # The export is exactly what `routing train` reads.
    history = read_history(out, "keluhan", "instansi", label_resolver(None, None))
    assert history.labels == ["inspektorat"]


def test_the_models_decide_after_intake_and_before_the_central_hears_of_it(
    db_url: str, small_routing_model: Path, tmp_path: Path
) -> None:
    (tmp_path / "routing.npz").write_bytes(small_routing_model.read_bytes())
    text = config_with_model(tmp_path / "routing.npz", tmp_path, relative=True).replace(
        f"sqlite:///{tmp_path / 'g.db'}", db_url
    )
    config_file = tmp_path / "gateway.yaml"
    config_file.write_text(text, encoding="utf-8")
    from config.loader import load_config

    config = load_config(config_file, env={"CENTRAL_TOKEN": "test-token", "WEB_SECRET": WEB_SECRET})
    runtime = build_runtime(config, base_dir=tmp_path)
    forwarder = runtime.forwarder()
    try:
        from gateway.app import create_app

        client = create_app(runtime).test_client()
        response = client.post("/channels/web/inbound", json={"body": ROAD, "external_id": "m-1"})
        assert response.status_code == 201
        # Stored by the rules alone (the learned rule passed over), waiting for the models.
        with runtime.sessions() as session:
            report = session.scalars(select(Report)).one()
            events = [e.event for e in session.scalars(select(TimelineEvent))]
        assert report.awaiting_models is not None and report.agency == "nasional"
        assert events == ["received"]
        # The forward worker lets the models decide before it calls the central (here an
        # unreachable one: the decision stands, the submission waits for its retry).
        forwarder.run_once()
        with runtime.sessions() as session:
            report = session.scalars(select(Report)).one()
            routed = session.scalars(
                select(TimelineEvent).where(TimelineEvent.event == "routed")
            ).one()
        assert report.awaiting_models is None
        assert report.agency == report.payload["routing"]["agency"] == "upt-jalan"
        assert report.payload["routing"]["reason"].startswith("model riwayat: upt-jalan")
        assert routed.detail["agency"] == "upt-jalan"
        assert routed.detail["models"][0]["top3"][0]["agency"] == "upt-jalan"
        # The kind model and the routing model read each report in one shared pass.
        (routing_model,) = runtime.intake.router.models.values()
        kind_model = load_cached(default_model_path())
        assert routing_model._reading is not None and kind_model._reading is not None
        assert routing_model._reading[0] is kind_model._reading[0] is not None
        # ...and numpy's BLAS keeps to the calling thread (no spinning helper threads).
        blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
        assert blas and all(pool["num_threads"] == 1 for pool in blas)
    finally:
        forwarder.close()
        runtime.close()


def test_a_model_the_keywords_miss_makes_the_report_confidential_before_it_is_sent(
    gateway: Any,
) -> None:
    bribe = "Petugas kelurahan minta uang kopi supaya surat saya cepat diteken"
    plain = "Lampu jalan di gang kami mati sejak minggu lalu"
    for n, body in enumerate((bribe, plain)):
        gateway.post("web", {"body": body, "external_id": f"u-{n}", "phone": "081234567890"})
    waiting = {r.external_id: r for r in gateway.rows(Report)}
    assert all(r.awaiting_models is not None for r in waiting.values())
    assert waiting["u-0"].kind == "pengaduan"  # the keywords alone do not see it
    assert gateway.drain() == 2
    stored = {r.external_id: r for r in gateway.rows(Report)}
    sent = {r["gateway_id"]: r for r in gateway.central_reports()}
    bribed, lamp = sent[stored["u-0"].id], sent[stored["u-1"].id]
    assert bribed["kind"] == "whistleblowing" and bribed["confidential"]
    assert lamp["kind"] == "pengaduan" and not lamp["confidential"]
    assert stored["u-0"].kind == "whistleblowing" and stored["u-0"].awaiting_models is None
    assert stored["u-0"].payload["privacy"]["confidential"]
    by_report: dict[str, list[str]] = {}
    for event in gateway.rows(TimelineEvent):
        by_report.setdefault(event.report_id, []).append(event.event)
    assert by_report[stored["u-0"].id][:3] == ["received", "routed", "normalizer_note"]
    assert by_report[stored["u-1"].id][:2] == ["received", "routed"]
    assert "forwarded" in by_report[stored["u-0"].id]


def test_request_threads_never_wait_for_a_model(
    intake_gateway: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind_model = load_cached(default_model_path())

    def refuse(text: str) -> Any:
        raise AssertionError("a model read a report on the request path")

    monkeypatch.setattr(kind_model, "probabilities", refuse)
    response = intake_gateway.post("web", {"body": "uang kopi untuk petugas", "external_id": "r"})
    assert response.status_code == 201
    # ...and a model that fails later holds nothing back: the rules decide, with a note.
    assert intake_gateway.forwarder.run_once() == 1
    (report,) = intake_gateway.rows(Report)
    assert report.awaiting_models is None and report.agency == "nasional"
    notes = [e.detail.get("note") for e in intake_gateway.rows(TimelineEvent)]
    assert "model tidak dapat membaca laporan ini: aturan saja" in notes


def test_what_an_admin_sets_before_the_models_read_it_stands(intake_gateway: Any) -> None:
    from gateway.console.actions import edit_report

    bribe = "Petugas kelurahan minta uang kopi supaya surat saya cepat diteken"
    intake_gateway.post("web", {"body": bribe, "external_id": "a-1"})
    with intake_gateway.runtime.sessions.begin() as session:
        report = session.scalars(select(Report)).one()
        edit_report(
            session, report, {"agency": "dinas-pupr", "kind": "aspirasi"}, "admin1", set(PARENTS)
        )
    intake_gateway.forwarder.run_once()
    (report,) = intake_gateway.rows(Report)
    # The admin's agency and kind stay; the model still protects the reporter.
    assert (report.agency, report.kind) == ("dinas-pupr", "aspirasi")
    assert report.payload["privacy"]["confidential"] and report.awaiting_models is None


def test_a_serving_runtime_scores_in_a_child_process_and_stops_it_on_close(
    small_routing_model: Path, tmp_path: Path
) -> None:
    from config.loader import load_config
    from gateway.app import create_app

    config_file = tmp_path / "gateway.yaml"
    config_file.write_text(config_with_model(small_routing_model, tmp_path), encoding="utf-8")
    config = load_config(config_file, env={"CENTRAL_TOKEN": "test-token", "WEB_SECRET": WEB_SECRET})
    runtime = build_runtime(config, base_dir=tmp_path, model_process=True)
    try:
        assert runtime.scoring is not None and runtime.scoring.alive
        client = create_app(runtime).test_client()
        response = client.post("/channels/web/inbound", json={"body": ROAD, "external_id": "p-1"})
        assert response.status_code == 201
        forwarder = runtime.forwarder()
        forwarder.run_once()  # the models decide in the child, a batch in one round trip
        forwarder.close()
        with runtime.sessions() as session:
            assert session.scalars(select(Report)).one().agency == "upt-jalan"
        assert runtime.scoring.alive  # answered by the child, not by the fallback
        assert any(ROAD in text for text in runtime.scoring._warm)  # read as a batch
    finally:
        runtime.close()
    assert runtime.scoring is not None and not runtime.scoring.process.is_alive()


def test_an_admin_changing_the_agency_in_the_console_records_a_training_row(
    intake_gateway: Any,
) -> None:
    from gateway.console.actions import edit_report

    intake_gateway.post("web", {"body": "Lampu jalan mati di gang kami", "external_id": "c-1"})
    with intake_gateway.runtime.sessions.begin() as session:
        report = session.scalars(select(Report)).one()
        changed = edit_report(session, report, {"agency": "dinas-pupr"}, "admin1", set(PARENTS))
        assert changed == ["agency"]
    (row,) = intake_gateway.rows(TrainingRow)
    assert (row.agency, row.previous_agency, row.source) == ("dinas-pupr", "nasional", "admin")
    assert "Lampu jalan mati" in row.text


def test_a_worker_that_dies_before_the_models_decide_loses_nothing(gateway: Any) -> None:
    from store.models import ForwardItem

    bribe = "Petugas kelurahan minta uang kopi supaya surat saya cepat diteken"
    gateway.post("web", {"body": bribe, "external_id": "d-1"})
    with gateway.runtime.sessions.begin() as session:  # claimed, then the worker dies
        claimed, _ = gateway.forwarder.claim(session)
    assert claimed == 1
    with gateway.runtime.sessions.begin() as session:  # ...and its lease runs out
        for item in session.scalars(select(ForwardItem)):
            item.lease_until = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    (waiting,) = gateway.rows(Report)
    assert waiting.awaiting_models is not None and waiting.tracking_id is None
    assert gateway.drain() == 1
    (report,) = gateway.rows(Report)
    (sent,) = gateway.central_reports()
    assert report.tracking_id == sent["tracking_id"] and report.awaiting_models is None
    assert sent["kind"] == "whistleblowing" and sent["confidential"]
    assert [e.event for e in gateway.rows(TimelineEvent)].count("routed") == 1


def test_an_admin_edit_between_the_claim_and_the_models_decision_stands(
    intake_gateway: Any,
) -> None:
    from gateway.console.actions import edit_report

    bribe = "Petugas kelurahan minta uang kopi supaya surat saya cepat diteken"
    intake_gateway.post("web", {"body": bribe, "external_id": "e-1"})
    forwarder = intake_gateway.forwarder
    with intake_gateway.runtime.sessions.begin() as session:
        _, work = forwarder.claim(session)
    with intake_gateway.runtime.sessions.begin() as session:  # the admin, meanwhile
        report = session.scalars(select(Report)).one()
        edit_report(session, report, {"agency": "upt-jalan"}, "admin1", set(PARENTS))
    (call,) = forwarder.prepare(work)
    (report,) = intake_gateway.rows(Report)
    assert report.agency == call.wire["routing"]["agency"] == "upt-jalan"
    assert report.kind == call.wire["kind"] == "whistleblowing"  # the kind was not set
    assert call.wire["privacy"]["confidential"] and call.awaiting_models is None
