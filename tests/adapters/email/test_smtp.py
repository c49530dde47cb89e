"""Replies by SMTP to a real aiosmtpd server: threading headers, loop guards, error mapping."""

from __future__ import annotations

import dataclasses
import logging
import ssl
from pathlib import Path
from typing import Any

import pytest

from adapters.base import OutgoingReply
from adapters.email.imap import ImapAdapter, ImapOptions
from adapters.email.smtp import reply_subject
from forwarder.replies import ReplyTemplates
from tests.adapters.email.smtp_server import SMTP_PASSWORD, SMTP_USER, Recorder
from tests.helpers import free_port
from vocabulary.errors import SendError

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")

CITIZEN = "budi.santoso@example.org"


def adapter_for(port: int, ca_file: Path | None, **overrides: Any) -> ImapAdapter:
    return ImapAdapter(
        ImapOptions.model_validate(
            {
                "name": "email-aduan",
                "type": "imap",
                "host": "127.0.0.1",
                "user": "aduan",
                "password": "x",
                "ca_file": str(ca_file) if ca_file else None,
                "smtp_host": "127.0.0.1",
                "smtp_port": port,
                "smtp_tls": "starttls",
                "smtp_user": SMTP_USER,
                "smtp_password": SMTP_PASSWORD,
                "from_address": "aduan@kab-contoh.example.com",
                "timeout": "5s",
                **overrides,
            }
        )
    )


def reply(
    text: str = "SP4N-LAPOR!: Laporan Anda sudah kami terima — nomor lacak LPR1234567.",
    **reply_to: str,
) -> OutgoingReply:
    coordinates = {
        "email": CITIZEN,
        "message_id": "<CAPlain0001@mail.example.org>",
        "subject": "Jalan rusak di Jl. Merdeka",
        **reply_to,
    }
    return OutgoingReply(
        reply_id="01REPLY",
        report_id="01REPORT",
        tracking_id="LPR1234567",
        event="ack",
        text=text,
        reply_to=coordinates,
        external_id="<CAPlain0001@mail.example.org>#0123456789abcdef",
    )


def test_reply_is_threaded_marked_auto_and_utf8(
    smtp_server: tuple[Recorder, int],
    certificate: tuple[Path, Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler, port = smtp_server
    adapter = adapter_for(port, certificate[0])
    caplog.set_level(logging.DEBUG)
    text = ReplyTemplates().render(
        "ack",
        "email",
        tracking_id="LPR1234567",
        agency="dinas-pupr",
        agency_name="Dinas PUPR",
        kind="pengaduan",
    )
    message_id = adapter.send_reply(reply(text))
    [sent] = handler.received
    assert handler.logins  # authenticated after STARTTLS, verified against our CA
    assert sent["Message-ID"] == message_id
    assert message_id is not None and message_id.endswith("@kab-contoh.example.com>")
    assert sent["In-Reply-To"] == "<CAPlain0001@mail.example.org>"
    assert sent["References"] == "<CAPlain0001@mail.example.org>"
    assert sent["Subject"] == "Re: Jalan rusak di Jl. Merdeka [LPR1234567]"
    assert sent["Auto-Submitted"] == "auto-replied"
    assert sent["X-Auto-Response-Suppress"] == "All"
    assert sent["To"] == CITIZEN
    assert sent.get_content_type() == "text/plain"
    assert sent.get_content_charset() == "utf-8"
    body = sent.get_content()
    assert "LPR1234567" in body and "Dinas PUPR" in body and "\n" in body.strip()
    ours = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")
    )  # aiosmtpd's own server log
    assert CITIZEN not in ours and SMTP_PASSWORD not in ours


def test_the_same_reply_sent_twice_has_the_same_message_id(
    smtp_server: tuple[Recorder, int], certificate: tuple[Path, Path]
) -> None:
    """A crash after the server took a reply, before the gateway recorded it, sends it again:
    the repeat carries the same Message-ID (derived from the reply id), so it is recognisable."""
    handler, port = smtp_server
    adapter = adapter_for(port, certificate[0])
    first = adapter.send_reply(reply())
    again = adapter.send_reply(reply())
    other = adapter.send_reply(dataclasses.replace(reply(), reply_id="01OTHERREPLY"))
    assert [m["Message-ID"] for m in handler.received] == [first, again, other]
    assert first == again == "<sp4n-reply.01REPLY@kab-contoh.example.com>"
    assert other == "<sp4n-reply.01OTHERREPLY@kab-contoh.example.com>"
    odd = adapter.send_reply(dataclasses.replace(reply(), reply_id="a b<c>@d"))
    assert odd == adapter.send_reply(dataclasses.replace(reply(), reply_id="a b<c>@d"))
    assert odd is not None and " " not in odd and odd.count("<") == 1 and odd.count("@") == 1


@pytest.mark.parametrize(
    "address",
    [
        "MAILER-DAEMON@mx.example.org",
        "mailer_daemon@mx.example.org",
        "Postmaster@example.org",
        "post_master@example.org",
        "Mail.Delivery.System@mx.example.org",
        "MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@example.org",
        "no-reply@example.org",
        "noreply+aduan@example.org",
        "bounces+budi=example.org@lists.example.org",
    ],
)
def test_no_answer_ever_goes_to_a_mail_system(
    smtp_server: tuple[Recorder, int], certificate: tuple[Path, Path], address: str
) -> None:
    handler, port = smtp_server
    adapter = adapter_for(port, certificate[0])
    assert adapter.can_reply({"email": CITIZEN}) and not adapter.can_reply({"email": address})
    with pytest.raises(SendError) as caught:
        adapter.send_reply(reply(email=address))
    assert not caught.value.retryable and caught.value.code == "no_route"
    assert handler.received == []


def test_our_own_reply_coming_back_is_held(
    smtp_server: tuple[Recorder, int], certificate: tuple[Path, Path]
) -> None:
    import datetime as dt

    from adapters.email.mime import MimeLimits, parse_email

    handler, port = smtp_server
    adapter_for(port, certificate[0]).send_reply(reply())
    raw = handler.received[0].as_bytes()
    parsed = parse_email(raw, dt.datetime.now(dt.UTC), MimeLimits())
    assert parsed.hold == "auto_reply"  # a forwarding loop never answers itself


@pytest.mark.parametrize(
    ("where", "answer", "retryable"),
    [
        ("data", "451 4.3.0 Mailbox busy, try again later", True),
        ("rcpt", "450 4.2.1 Mailbox temporarily unavailable", True),
        ("rcpt", "550 5.1.1 No such user here", False),
        ("data", "554 5.7.1 Message rejected", False),
    ],
    ids=[
        "451 on DATA retries",
        "450 on RCPT retries",
        "550 no such user is final",
        "554 rejected is final",
    ],
)
def test_smtp_answers_map_to_retryable(
    smtp_server: tuple[Recorder, int],
    certificate: tuple[Path, Path],
    where: str,
    answer: str,
    retryable: bool,
) -> None:
    handler, port = smtp_server
    setattr(handler, f"{where}_answer", answer)
    with pytest.raises(SendError) as caught:
        adapter_for(port, certificate[0]).send_reply(reply())
    assert caught.value.retryable is retryable
    assert caught.value.code == answer[:3]


def test_unreachable_server_is_retryable() -> None:
    with pytest.raises(SendError) as caught:
        adapter_for(free_port(), None).send_reply(reply())
    assert caught.value.retryable is True


def test_untrusted_certificate_is_retryable_not_sent(smtp_server: tuple[Recorder, int]) -> None:
    handler, port = smtp_server
    with pytest.raises(SendError) as caught:
        adapter_for(port, None).send_reply(reply())  # no private CA: TLS must fail
    assert caught.value.retryable is True and handler.received == []


def test_wrong_smtp_password_is_retried_not_dead(
    smtp_server: tuple[Recorder, int], certificate: tuple[Path, Path]
) -> None:
    _, port = smtp_server
    with pytest.raises(SendError) as caught:
        adapter_for(port, certificate[0], smtp_password="salah").send_reply(reply())
    assert caught.value.retryable is True and caught.value.code == "auth"
    assert "salah" not in str(caught.value)


def test_implicit_tls_smtps(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = Recorder()
    port = free_port()
    controller = aiosmtpd_controller.Controller(
        handler, hostname="127.0.0.1", port=port, ssl_context=context, server_hostname="localhost"
    )
    controller.start()
    try:
        adapter_for(port, cert, smtp_tls="ssl", smtp_user=None).send_reply(reply())
    finally:
        controller.stop()
    assert len(handler.received) == 1


def test_can_reply_and_recipient_key() -> None:
    adapter = adapter_for(2525, None)
    assert adapter.can_reply({"email": CITIZEN})
    assert not adapter.can_reply({})
    assert adapter.recipient_key({"email": " Budi.Santoso@Example.ORG "}) == CITIZEN
    no_smtp = ImapAdapter(
        ImapOptions.model_validate(
            {"name": "x", "type": "imap", "host": "127.0.0.1", "user": "u", "password": "p"}
        )
    )
    assert not no_smtp.can_reply({"email": CITIZEN})
    with pytest.raises(SendError) as caught:
        no_smtp.send_reply(reply())
    assert caught.value.retryable is False


@pytest.mark.parametrize(
    ("original", "tracking", "expected"),
    [
        ("Jalan rusak", "LPR1234567", "Re: Jalan rusak [LPR1234567]"),
        ("Re: RE: Jalan rusak", "LPR1234567", "Re: Jalan rusak [LPR1234567]"),
        ("Re: Jalan rusak [LPR1234567]", "LPR1234567", "Re: Jalan rusak [LPR1234567]"),
        ("", "LPR1234567", "Re: Laporan Anda [LPR1234567]"),
        ("Jalan rusak", None, "Re: Jalan rusak"),
    ],
    ids=["plain", "prefixes folded", "id not repeated", "no subject", "no tracking id yet"],
)
def test_reply_subject(original: str, tracking: str | None, expected: str) -> None:
    assert reply_subject(original, tracking) == expected


def test_email_templates_render_in_indonesian() -> None:
    templates = ReplyTemplates()
    common = {"tracking_id": "LPR1234567", "agency": "dinas-pupr", "agency_name": "Dinas PUPR"}
    ack = templates.render("ack", "email", kind="pengaduan", **common)
    status = templates.render(
        "status",
        "email",
        status="in_progress",
        status_label="sedang ditindaklanjuti",
        note="Tim sudah ke lokasi.",
        **common,
    )
    response = templates.render("response", "email", text="Perbaikan dijadwalkan Senin.", **common)
    assert "Nomor lacak" in ack and "LPR1234567" in ack and ack.count("\n") >= 3
    assert "sedang ditindaklanjuti" in status and "Tim sudah ke lokasi." in status
    assert "Perbaikan dijadwalkan Senin." in response
    # A kind without templates of its own (a web form) keeps the default short text.
    assert templates.render("ack", "webform", kind="pengaduan", **common) == templates.render(
        "ack", None, kind="pengaduan", **common
    )
