"""Real-world bounces (sisimai's set of emails, `bounces/README.md`): every one is held.

A bounce that became a report would be acknowledged, and the acknowledgement bounce again:
each file here must come out of the parser held with the right reason, must make no report
and no reply when it goes through intake (SQLite and PostgreSQL), and an acknowledgement
must never be sent to a MAILER-DAEMON, postmaster or no-reply address even when an admin
releases a held bounce into a report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from adapters.email.imap import ImapAdapter, ImapOptions
from adapters.email.mime import MimeLimits, parse_email
from store.models import InboundMessage, ReplyItem, Report
from tests.conftest import GatewayHarness
from tests.helpers import free_port

BOUNCES = Path(__file__).parent / "bounces"
FILES = sorted(p.name for p in BOUNCES.glob("*.eml"))
AT = dt.datetime(2026, 11, 30, 3, 0, tzinfo=dt.UTC)

# What is not a plain delivery failure, and what a person wrote.
EXPECTED = {
    "arf-01.eml": "auto_reply",  # abuse feedback reports (RFC 5965, Yahoo, Hotmail JMRP)
    "arf-02.eml": "auto_reply",
    "arf-22.eml": "auto_reply",
    "lhost-amazonses-11.eml": "auto_reply",  # an SES complaint notice through SNS
    "lhost-fml-02.eml": "mailing_list",  # fml list server: "you are not a member"
    "lhost-fml-03.eml": "mailing_list",
    "lhost-sendmail-14.eml": None,  # "Fwd: Returned mail" forwarded by a person
    "not-is-not-bounce-01.eml": None,
    "not-is-not-bounce-02.eml": None,
    **{f"rfc3834-0{n}.eml": "auto_reply" for n in range(1, 7)},  # vacation replies
}
PEOPLE = [name for name, reason in EXPECTED.items() if reason is None]


def expected(name: str) -> str | None:
    return EXPECTED.get(name, "bounce")


def test_the_corpus_is_there() -> None:
    assert len(FILES) >= 180
    assert sum(expected(name) == "bounce" for name in FILES) >= 160


@pytest.mark.parametrize("name", FILES)
def test_each_message_is_held_for_what_it_is(name: str) -> None:
    message = parse_email((BOUNCES / name).read_bytes(), AT, MimeLimits())
    assert message.hold == expected(name)


@pytest.fixture
def mailbox(gateway: GatewayHarness) -> Iterator[ImapAdapter]:
    """An `imap` channel with an SMTP server configured (never reached by these tests: a
    reply that tried would be pending with a connection error, not `manual`)."""
    adapter = ImapAdapter(
        ImapOptions(
            name="email-aduan",
            type="imap",
            host="127.0.0.1",
            user="aduan@example.go.id",
            password=SecretStr("sandi-imap-uji"),
            tls="none",
            smtp_host="127.0.0.1",
            smtp_port=free_port(),
            smtp_tls="none",
        )
    )
    gateway.runtime.adapters[adapter.name] = adapter
    gateway.runtime.replies.channel_kinds[adapter.name] = adapter.kind
    yield adapter


def test_no_bounce_becomes_a_report_or_gets_an_answer(
    gateway: GatewayHarness, mailbox: ImapAdapter
) -> None:
    messages = [
        parse_email((BOUNCES / name).read_bytes(), AT, mailbox.limits)
        for name in FILES
        if name not in PEOPLE
    ]
    outcomes = gateway.runtime.intake.accept(mailbox, messages)
    assert {o.status for o in outcomes} == {"quarantined"}
    gateway.drain()
    assert gateway.rows(Report) == [] and gateway.rows(ReplyItem) == []
    held = gateway.rows(InboundMessage)
    # Two files of the corpus are the same bytes: one message, kept once.
    assert len(held) == len({m.external_id for m in messages}) >= len(messages) - 1
    assert {r.state for r in held} == {"quarantined"}

    # An admin releases a bounce into a report after all: it goes to the central, but the
    # acknowledgement to MAILER-DAEMON is left for a person (`manual`), never sent.
    postfix = parse_email((BOUNCES / "lhost-postfix-01.eml").read_bytes(), AT, mailbox.limits)
    (bounce,) = [r for r in held if r.external_id == postfix.external_id]
    assert bounce.hold_reason == "bounce"
    with gateway.runtime.sessions.begin() as session:
        gateway.runtime.intake.release(session, bounce.id, mailbox)
    assert gateway.drain() == 1
    (report,) = gateway.rows(Report)
    assert report.tracking_id
    gateway.runtime.reply_sender().run_once()
    (reply,) = gateway.rows(ReplyItem)
    assert reply.state == "manual" and reply.attempts == 0


def test_a_forwarded_bounce_from_a_person_is_a_report(
    gateway: GatewayHarness, mailbox: ImapAdapter
) -> None:
    message = parse_email((BOUNCES / "lhost-sendmail-14.eml").read_bytes(), AT, mailbox.limits)
    (outcome,) = gateway.runtime.intake.accept(mailbox, [message])
    assert outcome.status == "queued"
