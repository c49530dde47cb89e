"""Email follow-ups trust the From address only (issue 8.2), through the real parser and intake.

A Reply-To says where answers go; anyone can write any address there. A mail From an
attacker with the victim in Reply-To and the victim's tracking id in the subject must never
be attached to the victim's report (nor be told the agency's answer). The From address is
read from the parsed header's address objects: an encoded word that smuggles
`\\r\\nBcc: someone@else` into the display name does not make the mail someone else's.
Runs on SQLite and PostgreSQL against the sandbox over HTTP.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from adapters.email.imap import ImapAdapter, ImapOptions
from adapters.email.mime import parse_email
from store.models import InboundMessage, Report
from tests.conftest import GatewayHarness

VICTIM = "korban@example.org"
ATTACKER = "penyerang@example.com"


@pytest.fixture
def mailbox(gateway: GatewayHarness) -> Iterator[ImapAdapter]:
    """An `imap` channel registered with the gateway (its parser and keys, no IMAP server:
    this is about what intake does with parsed mail; the Dovecot suite covers polling)."""
    adapter = ImapAdapter(
        ImapOptions(
            name="email-aduan",
            type="imap",
            host="127.0.0.1",
            user="aduan@example.go.id",
            password=SecretStr("sandi-imap-uji"),
            tls="none",
        )
    )
    gateway.runtime.adapters[adapter.name] = adapter
    gateway.runtime.replies.channel_kinds[adapter.name] = adapter.kind
    yield adapter


def mail(number: int, headers: str, body: str = "Jalan berlubang di depan pasar.") -> bytes:
    return (
        f"Message-ID: <m{number}@example.net>\r\nTo: aduan@example.go.id\r\n{headers}"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def accept(gateway: GatewayHarness, adapter: ImapAdapter, raw: bytes) -> tuple[str, str | None]:
    message = parse_email(raw, dt.datetime.now(dt.UTC), adapter.limits)
    (outcome,) = gateway.runtime.intake.accept(adapter, [message])
    return outcome.status, outcome.report_id


def submitted(gateway: GatewayHarness, adapter: ImapAdapter, raw: bytes) -> Report:
    status, report_id = accept(gateway, adapter, raw)
    assert status == "queued"
    gateway.drain()
    with gateway.runtime.sessions() as session:
        report = session.get(Report, report_id)
    assert report is not None and report.tracking_id
    return report


def test_reply_to_naming_the_victim_does_not_make_a_followup(
    gateway: GatewayHarness, mailbox: ImapAdapter
) -> None:
    victim = submitted(gateway, mailbox, mail(1, f"From: Korban <{VICTIM}>\r\nSubject: Jalan\r\n"))
    attack = mail(
        2,
        f"From: {ATTACKER}\r\nReply-To: {VICTIM}\r\n"
        f"Subject: Re: Jalan [{victim.tracking_id}]\r\n"
        f"In-Reply-To: <m1@example.net>\r\nReferences: <m1@example.net>\r\n",
        "Laporan ini saya cabut.",
    )
    status, report_id = accept(gateway, mailbox, attack)
    assert status == "queued" and report_id != victim.id  # a report of its own
    assert gateway.drain() == 1
    (central,) = [c for c in gateway.central_reports() if c["gateway_id"] == victim.id]
    assert central["followups"] == []

    # The victim's own answer, sent from the same From with a Reply-To of their office,
    # is a follow-up: the Reply-To is only where answers go.
    own = mail(
        3,
        f"From: Korban <{VICTIM}>\r\nReply-To: kantor@example.org\r\n"
        f"Subject: Re: Jalan [{victim.tracking_id}]\r\n",
        "Sudah seminggu belum diperbaiki.",
    )
    assert accept(gateway, mailbox, own) == ("followup", victim.id)
    gateway.drain()
    (central,) = [c for c in gateway.central_reports() if c["gateway_id"] == victim.id]
    assert [f["body"] for f in central["followups"]] == ["Sudah seminggu belum diperbaiki."]


def test_address_smuggled_in_an_encoded_display_name_is_not_the_sender(
    gateway: GatewayHarness, mailbox: ImapAdapter
) -> None:
    victim = submitted(gateway, mailbox, mail(1, f"From: {VICTIM}\r\nSubject: Banjir\r\n"))
    smuggled = mail(
        2,
        "From: =?utf-8?q?Budi=0D=0ABcc=3A_korban=40example=2Eorg?= <budi@example.com>\r\n"
        f"Subject: Re: Banjir [{victim.tracking_id}]\r\n",
    )
    status, report_id = accept(gateway, mailbox, smuggled)
    assert status == "queued" and report_id != victim.id
    with gateway.runtime.sessions() as session:
        report = session.get(Report, report_id)
        assert report is not None
        assert report.reply_to["email"] == "budi@example.com"
        assert report.reply_to["from"] == "budi@example.com"
    rows = [r for r in gateway.rows(InboundMessage) if r.state == "followup"]
    assert rows == []


def test_report_stored_before_from_was_kept_apart_still_takes_followups(
    gateway: GatewayHarness, mailbox: ImapAdapter
) -> None:
    """Reports made before this change hold only the delivery address: that one counts."""
    victim = submitted(gateway, mailbox, mail(1, f"From: {VICTIM}\r\nSubject: Sampah\r\n"))
    with gateway.runtime.sessions.begin() as session:
        stored = session.get(Report, victim.id)
        assert stored is not None
        stored.reply_to = {k: v for k, v in stored.reply_to.items() if k != "from"}
    answer = mail(2, f"From: {VICTIM}\r\nSubject: Re: Sampah [{victim.tracking_id}]\r\n")
    assert accept(gateway, mailbox, answer) == ("followup", victim.id)
