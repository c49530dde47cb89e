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
    # Issue 8 item 9: shapes that became reports and were acknowledged.
    "Mail could not be delivered, MAILER-DAEMON Return-Path": (
        {
            "From": "Mail Gateway <gateway@mx.example.com>",
            "Subject": "Mail could not be delivered",
            "Return-Path": "<MAILER-DAEMON@mx.example.com>",
        },
        "bounce",
    ),
    "RFC 2047 Delivery failure notification": (
        {
            "From": "notifications@mx.example.com",
            "Subject": "=?UTF-8?B?RGVsaXZlcnkgZmFpbHVyZSBub3RpZmljYXRpb24=?=",
            "Return-Path": "<MAILER-DAEMON@mx.example.com>",
        },
        "bounce",
    ),
    "German Exchange NDR (Unzustellbar)": (
        {
            "From": "Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e"
            "@example.com>",
            "Subject": "Unzustellbar: Jalan rusak",
        },
        "bounce",
    ),
    "French NDR (Non remis) with a null Return-Path": (
        {"Subject": "Non remis : Jalan rusak", "Return-Path": "<>"},
        "bounce",
    ),
    "Russian NDR in KOI8-R": (
        {
            "Subject": "=?koi8-r?B?7sXEz9PUwdfMxc7Oz8Ug08/Pwt3FzsnF?=",  # недоставленное...
            "Return-Path": "<>",
        },
        "bounce",
    ),
    "Japanese NDR in ISO-2022-JP": (
        {"Subject": "=?ISO-2022-JP?B?GyRCTCRBd0MjGyhC?=: Jalan rusak", "Return-Path": "<>"},
        "bounce",
    ),
    "Indonesian NDR (Tidak terkirim)": (
        {"Subject": "Tidak terkirim: Jalan rusak", "Auto-Submitted": "auto-generated"},
        "bounce",
    ),
    "Postmaster display name": ({"From": '"Postmaster" <notify@mx.example.net>'}, "bounce"),
    "bare postmaster": ({"From": "postmaster"}, "bounce"),
    "bare MAILER-DAEMON": ({"From": "MAILER-DAEMON"}, "bounce"),
    "Mail Delivery System": (
        {"From": "Mail Delivery System <Mail.Delivery.System@mx.example.com>"},
        "bounce",
    ),
    "null From": ({"From": "<>"}, "bounce"),
    # A citizen may start a subject with a word of a notice: alone it holds nothing.
    "citizen subject Delivery status of a KTP": (
        {"Subject": "Delivery status KTP elektronik belum jelas"},
        None,
    ),
    "citizen subject Mail could not be delivered": (
        {"Subject": "Mail could not be delivered ke kantor dinas"},
        None,
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
