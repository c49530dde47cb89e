"""End to end on real parts: Dovecot -> imap adapter -> intake -> sandbox central -> the
acknowledgement by SMTP (aiosmtpd) in the citizen's thread -> the citizen's answer read back
with the references the gateway needs to attach it to the same report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapters.email.imap import ImapAdapter
from config.loader import parse_config
from gateway.runtime import build_runtime
from gateway.store.models import ReplyItem, Report
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
CITIZEN_MAIL = (b"From: Budi Santoso <budi.santoso@example.org>\r\n"
                b"To: aduan@kab-contoh.example.com\r\n"
                b"Subject: Jalan rusak di Jl. Merdeka\r\n"
                b"Message-ID: <CAPlain0001@mail.example.org>\r\n"
                b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
                b"Jalan rusak berlubang di depan SD Negeri 3, mohon diperbaiki.\r\n")


@pytest.fixture
def certificate(dovecot: Dovecot) -> tuple[Path, Path]:
    """One private CA for both servers, as `ca_file` serves IMAP and SMTP alike."""
    return Path(dovecot.ca_file), dovecot.root / "key.pem"


def poll_into(runtime: Any, adapter: ImapAdapter,
              cursor: str | None) -> tuple[str | None, list[Any]]:
    """The lead's poll runner replaces this: store each message with its cursor, confirm."""
    seen = []
    for message, next_cursor in adapter.poll(cursor):
        runtime.intake.accept(adapter, [message])
        cursor = next_cursor
        adapter.confirm([message])
        seen.append(message)
    return cursor, seen


def test_email_in_acknowledgement_out_answer_threaded(
        dovecot: Dovecot, smtp_server: tuple[Recorder, int], db_url: str, sandbox: Any,
        tmp_path: Path) -> None:
    handler, smtp_port = smtp_server
    text = config_text(db_url, sandbox.url, data_dir=str(tmp_path / "data"),
                       channels=CHANNEL.format(imaps=dovecot.imaps_port, user=IMAP_USER,
                                               ca=dovecot.ca_file, smtp=smtp_port,
                                               smtp_user=SMTP_USER))
    config = parse_config(text, "gw.yaml", {"CENTRAL_TOKEN": "test-token", "WEB_SECRET": "w",
                                            "IMAP_PASSWORD": IMAP_PASSWORD,
                                            "SMTP_PASSWORD": SMTP_PASSWORD})
    runtime = build_runtime(config, base_dir=tmp_path)
    forwarder = runtime.forwarder()
    adapter = runtime.adapters["email-aduan"]
    assert isinstance(adapter, ImapAdapter)
    try:
        dovecot.append("INBOX", CITIZEN_MAIL)
        cursor, _ = poll_into(runtime, adapter, None)
        assert forwarder.drain(30.0) >= 1  # submitted to the sandbox central
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

        # The citizen answers the acknowledgement: the draft names our Message-ID and the
        # tracking id, which the gateway's intake matches to the report.
        answer = (f"From: Budi Santoso <budi.santoso@example.org>\r\n"
                  f"To: aduan@kab-contoh.example.com\r\n"
                  f"Subject: Re: Jalan rusak di Jl. Merdeka [{tracking_id}]\r\n"
                  f"Message-ID: <CAPlain0002@mail.example.org>\r\n"
                  f"In-Reply-To: {ack['Message-ID']}\r\n"
                  f"References: <CAPlain0001@mail.example.org> {ack['Message-ID']}\r\n"
                  f"Content-Type: text/plain; charset=utf-8\r\n\r\n"
                  f"Sudah seminggu belum diperbaiki.\r\n\r\n"
                  f"Pada Sen, 23 Nov 2026, SP4N-LAPOR! menulis:\r\n> Nomor lacak\r\n").encode()
        dovecot.append("INBOX", answer)
        _, [follow_up] = poll_into(runtime, adapter, cursor)
        assert follow_up.draft.in_reply_to == tracking_id
        assert ack["Message-ID"] in follow_up.draft.thread_refs
        assert follow_up.draft.body == "Sudah seminggu belum diperbaiki."
    finally:
        adapter.close()
        forwarder.close()
        runtime.close()
