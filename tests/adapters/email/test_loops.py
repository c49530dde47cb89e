"""Loop and noise control: which header shapes hold a message, and which do not."""

from __future__ import annotations

import datetime as dt

import pytest

from adapters.email.mime import MimeLimits, parse_email

AT = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
BASE = {
    "From": "Budi <budi@example.org>",
    "To": "aduan@example.com",
    "Subject": "Jalan rusak",
    "Message-ID": "<m1@example.org>",
}

CASES = {
    "citizen mail": ({}, None),
    "Auto-Submitted: no is a person": ({"Auto-Submitted": "no"}, None),
    "Auto-Submitted: auto-generated": ({"Auto-Submitted": "auto-generated"}, "auto_reply"),
    "Auto-Submitted: auto-replied (ours)": ({"Auto-Submitted": "auto-replied"}, "auto_reply"),
    "X-Autoreply": ({"X-Autoreply": "yes"}, "auto_reply"),
    "X-Autorespond": ({"X-Autorespond": "Out of office"}, "auto_reply"),
    "Exchange generated": (
        {"X-MS-Exchange-Generated-Message-Source": "Mailbox Rules Agent"},
        "auto_reply",
    ),
    "Automatic reply subject": ({"Subject": "Automatic reply: Jalan rusak"}, "auto_reply"),
    "Out of Office subject": ({"Subject": "Out of Office: Jalan rusak"}, "auto_reply"),
    "Balasan otomatis subject": ({"Subject": "Balasan otomatis: Jalan rusak"}, "auto_reply"),
    "Precedence bulk": ({"Precedence": "bulk"}, "bulk"),
    "Precedence junk": ({"Precedence": "junk"}, "bulk"),
    "Precedence list": ({"Precedence": "list"}, "mailing_list"),
    "List-Id": ({"List-Id": "<warga.example.org>"}, "mailing_list"),
    "List-Unsubscribe": ({"List-Unsubscribe": "<mailto:u@example.org>"}, "mailing_list"),
    "MAILER-DAEMON": ({"From": "MAILER-DAEMON@example.com"}, "bounce"),
    "postmaster": ({"From": "Postmaster <postmaster@example.com>"}, "bounce"),
    "X-Failed-Recipients": ({"X-Failed-Recipients": "x@example.org"}, "bounce"),
    "bounce subject with null sender": (
        {"Subject": "Undeliverable: Jalan rusak", "Return-Path": "<>"},
        "bounce",
    ),
    "read receipt (multipart/report)": (
        {"Content-Type": 'multipart/report; report-type=disposition-notification; boundary="b"'},
        "auto_reply",
    ),
}


def build(headers: dict[str, str]) -> bytes:
    merged = {**BASE, **headers}
    merged.setdefault("Content-Type", "text/plain; charset=utf-8")
    head = "".join(f"{k}: {v}\r\n" for k, v in merged.items())
    body = "Jalan berlubang di depan pasar.\r\n"
    if merged["Content-Type"].startswith("multipart/"):
        body = (
            "--b\r\nContent-Type: text/plain\r\n\r\nDibaca.\r\n--b\r\n"
            "Content-Type: message/disposition-notification\r\n\r\n"
            "Disposition: manual-action/MDN-sent-manually; displayed\r\n\r\n--b--\r\n"
        )
    return (head + "\r\n" + body).encode()


@pytest.mark.parametrize(("headers", "hold"), list(CASES.values()), ids=list(CASES))
def test_hold_reason(headers: dict[str, str], hold: str | None) -> None:
    message = parse_email(build(headers), AT, MimeLimits())
    assert message.hold == hold
    assert message.raw["rfc822_base64"]  # a held message keeps everything for release
