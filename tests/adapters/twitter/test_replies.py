"""Replies on X: public acknowledgement without exposure, DM for everything private.

The templates are rendered for real (packaged defaults) with the longest agency name a pemda
might configure, and sent through the reply sender to the local X API.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from adapters.twitter.text import fit_post, weighted_length
from forwarder.replies import STATUS_LABELS, ReplyTemplates
from store.models import ReplyItem, Report
from tests.adapters.twitter.conftest import LONGEST_AGENCY
from tests.adapters.twitter.fake_x import ACCOUNT_ID, FakeX, Fault, payload


def test_every_public_template_fits_280_with_the_longest_agency_name() -> None:
    templates = ReplyTemplates()
    longest_label = max(STATUS_LABELS.values(), key=len)
    common = {"tracking_id": "LPR1234567", "agency": "upt", "agency_name": LONGEST_AGENCY}
    texts = [
        templates.render("ack", "twitter", **common, kind="whistleblowing"),
        templates.render(
            "status", "twitter", **common, status="returned", status_label=longest_label, note="x"
        ),
        templates.render(
            "status_query",
            "twitter",
            **common,
            found=True,
            status="returned",
            status_label=longest_label,
            include_response=True,
            text="jawaban yang panjang " * 30,
        ),
        templates.render("status_query", "twitter", **common, found=False),
        templates.render("response", "twitter", **common, text=""),
    ]
    for text in texts:
        assert weighted_length(text) <= 280, text
    for public in texts[:4]:  # posted in public: no agency name, only the tracking id
        assert LONGEST_AGENCY[:20] not in public and "LPR1234567" in public, public
    assert "jawaban" not in texts[2], "an agency's answer never goes in a public reply"


def test_texts_are_cut_as_x_counts_them() -> None:
    assert weighted_length("https://contoh.go.id/" + "a" * 100) == 23
    assert weighted_length("日本") == 4
    cut = fit_post("kata " * 100)
    assert weighted_length(cut) <= 280 and cut.endswith("…")


def _report(runtime: Any, fake_x: FakeX, text: str, **extra: Any) -> Report:
    fake_x.add_mention(text, **extra)
    (poller,) = runtime.pollers()
    assert poller.run_once() == 1
    with runtime.sessions.begin() as session:
        report = session.scalars(select(Report).order_by(Report.created_at.desc())).first()
        assert report is not None
        report.tracking_id, report.state = f"LPR{len(fake_x.posts):07d}", "submitted"
        runtime.replies.acknowledge(session, report)
        session.flush()
        session.expunge(report)
    return report


def _send(runtime: Any) -> list[ReplyItem]:
    sender = runtime.reply_sender()
    try:
        sender.run_once()
    finally:
        sender.close()
    with runtime.sessions() as session:
        return list(session.scalars(select(ReplyItem)))


def test_the_acknowledgement_of_a_mention_is_a_public_reply_with_a_dm_button(
    runtime: Any, fake_x: FakeX
) -> None:
    report = _report(runtime, fake_x, "@LAPOR1708 jalan rusak di Jl. Melati, nomor saya 081234")
    (item,) = _send(runtime)
    assert item.state == "sent", item.last_error
    (post,) = fake_x.sent_posts
    assert post["reply"] == {"in_reply_to_tweet_id": report.reply_to["tweet_id"]}
    assert post["direct_message_deep_link"].endswith(f"recipient_id={ACCOUNT_ID}")
    assert str(report.tracking_id) in post["text"] and "DM" in post["text"]
    assert "Melati" not in post["text"] and "0812" not in post["text"]
    # the agency's name tells the public what the complaint is about: only the tracking id
    assert report.agency == "upt-jalan"
    agency_name = runtime.replies.agency_names["upt-jalan"]
    assert agency_name and agency_name not in post["text"], post["text"]
    assert item.provider_id == f"tweet:{post['id']}"
    assert fake_x.sent_dms == []


def test_a_whistleblowing_report_is_answered_by_dm_only(runtime: Any, fake_x: FakeX) -> None:
    report = _report(runtime, fake_x, "@LAPOR1708 ada pungli dan suap di dinas perizinan")
    assert report.kind == "whistleblowing"
    (item,) = _send(runtime)
    assert item.state == "sent", item.last_error
    assert fake_x.sent_posts == [], "no public reply may reveal a confidential report"
    (dm,) = fake_x.sent_dms
    assert dm["to"] == report.reply_to["user_id"] and str(report.tracking_id) in dm["text"]


def test_an_agency_answer_goes_by_dm_and_a_closed_inbox_is_a_final_error(
    runtime: Any, fake_x: FakeX
) -> None:
    report = _report(runtime, fake_x, "@LAPOR1708 lampu jalan mati di Gang Kenari")
    _send(runtime)
    with runtime.sessions.begin() as session:
        row = session.get(Report, report.id)
        assert row is not None
        runtime.replies.agency_response(session, row, "r1", "upt-jalan", "Sudah diperbaiki.")
    fake_x.faults["dm_send"] = Fault(403, payload("error_403_dm_closed.json"), times=1)
    items = {i.event: i for i in _send(runtime)}
    assert items["response:r1"].state == "dead"
    assert "not permitted" in (items["response:r1"].last_error or "")
    assert len(fake_x.sent_posts) == 1  # only the acknowledgement was ever public


def test_a_retried_post_that_x_already_has_counts_as_sent(runtime: Any, fake_x: FakeX) -> None:
    adapter = runtime.adapters["x-lapor"]
    fake_x.sent_posts.append({"id": "1", "text": "SP4N-LAPOR!: sama persis"})
    from adapters.base import OutgoingReply

    reply = OutgoingReply(
        "r", "rep", "LPR0000001", "ack", "SP4N-LAPOR!: sama persis",
        {"via": "tweet", "tweet_id": "5", "user_id": "9"}, "tweet:5",
    )  # fmt: skip
    assert adapter.send_reply(reply) is None


@pytest.mark.parametrize("status", [429, 503])
def test_send_failures_from_x_are_retried(runtime: Any, fake_x: FakeX, status: int) -> None:
    _report(runtime, fake_x, "@LAPOR1708 trotoar dipakai parkir liar")
    fake_x.faults["tweets"] = Fault(status, payload("error_429.json"), times=1)
    (item,) = _send(runtime)
    assert item.state == "pending" and item.attempts == 1
