"""End to end on real parts: Dovecot -> the poll runner -> intake -> sandbox central -> the
acknowledgement by SMTP (aiosmtpd) in the citizen's thread -> the citizen's answer becomes a
follow-up on the same report at the central; an auto-reply and a real bounce wait in
quarantine, unanswered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from adapters.email.imap import ImapAdapter
from config.loader import parse_config
from gateway.runtime import build_runtime
from store.models import InboundMessage, ReplyItem, Report
from store.states import ReplyState
from tests.adapters.email.dovecot import IMAP_PASSWORD, IMAP_USER, Dovecot
from tests.adapters.email.smtp_server import SMTP_PASSWORD, SMTP_USER, Recorder
from tests.helpers import config_text

CHANNEL = """\
- name: email-aduan
  type: imap
  host: 127.0.0.1
  port: {imaps}
  user: {user}
  password: ${{IMAP_PASSWORD}}
  ca_file: {ca}
  smtp_host: 127.0.0.1
  smtp_port: {smtp}
  smtp_tls: starttls
  smtp_user: {smtp_user}
  smtp_password: ${{SMTP_PASSWORD}}
  from_address: aduan@kab-contoh.example.com
"""
CITIZEN_MAIL = (
    b"From: Budi Santoso <budi.santoso@example.org>\r\n"
    b"To: aduan@kab-contoh.example.com\r\n"
    b"Subject: Jalan rusak di Jl. Merdeka\r\n"
    b"Message-ID: <CAPlain0001@mail.example.org>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Jalan rusak berlubang di depan SD Negeri 3, mohon diperbaiki.\r\n"
)


@pytest.fixture
def certificate(dovecot: Dovecot) -> tuple[Path, Path]:
    """One private CA for both servers, as `ca_file` serves IMAP and SMTP alike."""
    return Path(dovecot.ca_file), dovecot.root / "key.pem"


# A real Microsoft 365 non-delivery report (sisimai's set of emails, see bounces/README.md).
BOUNCE = (Path(__file__).parent / "bounces" / "rhost-outlook-01.eml").read_bytes()
AUTO_REPLY = (
    b"From: Kantor Camat <camat@example.org>\r\n"
    b"To: aduan@kab-contoh.example.com\r\n"
    b"Subject: Automatic reply: Jalan rusak\r\n"
    b"Auto-Submitted: auto-replied\r\n"
    b"Message-ID: <auto-0001@example.org>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Saya sedang cuti sampai tanggal 30 November.\r\n"
)


def test_email_in_acknowledgement_out_answer_threaded(
    dovecot: Dovecot, smtp_server: tuple[Recorder, int], db_url: str, sandbox: Any, tmp_path: Path
) -> None:
    handler, smtp_port = smtp_server
    text = config_text(
        db_url,
        sandbox.url,
        data_dir=str(tmp_path / "data"),
        channels=CHANNEL.format(
            imaps=dovecot.imaps_port,
            user=IMAP_USER,
            ca=dovecot.ca_file,
            smtp=smtp_port,
            smtp_user=SMTP_USER,
        ),
    )
    config = parse_config(
        text,
        "gw.yaml",
        {
            "CENTRAL_TOKEN": "test-token",
            "WEB_SECRET": "web-secret-0123456789",
            "IMAP_PASSWORD": IMAP_PASSWORD,
            "SMTP_PASSWORD": SMTP_PASSWORD,
        },
    )
    runtime = build_runtime(config, base_dir=tmp_path)
    forwarder = runtime.forwarder()
    adapter = runtime.adapters["email-aduan"]
    assert isinstance(adapter, ImapAdapter)
    (poller,) = runtime.pollers()  # the runner's own poll loop, as `run` schedules it
    try:
        dovecot.append("INBOX", CITIZEN_MAIL, AUTO_REPLY, BOUNCE)
        assert poller.run_once() == 3
        assert forwarder.drain(30.0) >= 1  # submitted to the sandbox central
        with runtime.sessions() as session:
            held = session.scalars(
                select(InboundMessage).where(InboundMessage.state == "quarantined")
            ).all()
            assert sorted(str(h.hold_reason) for h in held) == ["auto_reply", "bounce"]
            assert all(h.report_id is None for h in held)
        with runtime.sessions() as session:
            report = session.scalars(select(Report)).one()
            tracking_id = report.tracking_id
            assert tracking_id and report.reply_to["email"] == "budi.santoso@example.org"
        runtime.reply_sender().run_once()

        [ack] = handler.received
        assert ack["Subject"] == f"Re: Jalan rusak di Jl. Merdeka [{tracking_id}]"
        assert ack["In-Reply-To"] == "<CAPlain0001@mail.example.org>"
        assert ack["Auto-Submitted"] == "auto-replied"
        body = ack.get_content()
        assert f"Nomor lacak: {tracking_id}" in body and "Yth. Bapak/Ibu" in body  # email text
        with runtime.sessions() as session:
            item = session.scalars(select(ReplyItem)).one()
            assert item.state == "sent" and item.provider_id == ack["Message-ID"]
        # A crash between the server taking the reply and the gateway recording it: the row
        # is still pending after the restart, the reply goes again, with the same Message-ID.
        with runtime.sessions.begin() as session:
            row = session.get(ReplyItem, item.id)
            assert row is not None
            row.state, row.provider_id, row.sent_at = ReplyState.PENDING, None, None
        runtime.reply_sender().run_once()
        repeat = handler.received.pop()
        assert repeat["Message-ID"] == ack["Message-ID"] and len(handler.received) == 1

        # The citizen answers the acknowledgement: the draft names our Message-ID and the
        # tracking id, which the gateway's intake matches to the report.
        answer = (
            f"From: Budi Santoso <budi.santoso@example.org>\r\n"
            f"To: aduan@kab-contoh.example.com\r\n"
            f"Subject: Re: Jalan rusak di Jl. Merdeka [{tracking_id}]\r\n"
            f"Message-ID: <CAPlain0002@mail.example.org>\r\n"
            f"In-Reply-To: {ack['Message-ID']}\r\n"
            f"References: <CAPlain0001@mail.example.org> {ack['Message-ID']}\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Sudah seminggu belum diperbaiki.\r\n\r\n"
            f"Pada Sen, 23 Nov 2026, SP4N-LAPOR! menulis:\r\n> Nomor lacak\r\n"
        ).encode()
        dovecot.append("INBOX", answer)
        assert poller.run_once() == 1
        assert poller.run_once() == 0  # confirmed: nothing is read twice
        forwarder.drain(30.0)
        with runtime.sessions() as session:
            assert len(session.scalars(select(Report)).all()) == 1  # no second report
            inbound = session.scalars(
                select(InboundMessage).where(InboundMessage.state == "followup")
            ).one()
            assert inbound.report_id == report.id
        (central,) = requests.get(f"{sandbox.url}/sandbox/reports.json", timeout=5).json()
        assert [f["body"] for f in central["followups"]] == ["Sudah seminggu belum diperbaiki."]
        assert len(handler.received) == 1  # the auto-reply and the bounce were never answered
    finally:
        adapter.close()
        forwarder.close()
        runtime.close()
