"""The `imap` adapter against a real Dovecot: poll, confirm, TLS, IDLE and the fault cases.

"Stored" means rows in the gateway's inbound log, written by the real intake on SQLite and
PostgreSQL. `ingest` below plays the poll runner's steps one message at a time (store, then
confirm), so a fault test can stop it exactly where a crash would; the runner itself is
exercised end to end in test_flow.py.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import sysconfig
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from adapters.email.imap import ImapAdapter, ImapOptions
from adapters.registry import load_adapter_class
from normalizer.pipeline import NormalizerSettings, normalize_draft
from store.models import InboundMessage, Report
from tests.adapters.email.dovecot import IMAP_PASSWORD, IMAP_USER, Dovecot
from vocabulary.drafts import RawMessage
from vocabulary.errors import AdapterUnavailable


def make_adapter(dovecot: Dovecot, **overrides: Any) -> ImapAdapter:
    options = ImapOptions.model_validate(
        {
            "name": "email-aduan",
            "type": "imap",
            "host": "127.0.0.1",
            "port": dovecot.imaps_port,
            "user": IMAP_USER,
            "password": IMAP_PASSWORD,
            "tls": "imaps",
            "ca_file": dovecot.ca_file,
            "timeout": "10s",
            **overrides,
        }
    )
    return ImapAdapter(options)


def citizen_mail(n: int, extra: str = "") -> bytes:
    return (
        f"From: Warga {n} <warga{n}@example.org>\r\n"
        f"To: aduan@example.com\r\n"
        f"Subject: Jalan rusak nomor {n}\r\n"
        f"Message-ID: <warga-{n}@example.org>\r\n"
        f"Date: Sun, 22 Nov 2026 08:00:00 +0700\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Jalan berlubang di RT {n:02d}, mohon diperbaiki.{extra}\r\n"
    ).encode()


def ingest(
    harness: Any,
    adapter: ImapAdapter,
    cursor: str | None,
    *,
    confirm: bool = True,
    rounds: int = 20,
) -> tuple[str | None, list[RawMessage]]:
    """Poll until nothing comes, storing then confirming each message (`confirm=False`
    stops before the Seen flag, as a crash there would)."""
    seen: list[RawMessage] = []
    for _ in range(rounds):
        got = 0
        for message, next_cursor in adapter.poll(cursor):
            got += 1
            seen.append(message)
            harness.runtime.intake.accept(adapter, [message])
            cursor = next_cursor
            if confirm:
                adapter.confirm([message])
        if got == 0 or not confirm:
            break
    return cursor, seen


def stored(harness: Any) -> list[str]:
    return sorted(str(row.external_id) for row in harness.rows(InboundMessage))


def test_registered_as_imap_type() -> None:
    assert load_adapter_class("imap") is ImapAdapter


def test_poll_peeks_and_confirm_flags_seen(dovecot: Dovecot, intake_gateway: Any) -> None:
    dovecot.append("INBOX", *(citizen_mail(n) for n in range(3)))
    adapter = make_adapter(dovecot)
    try:
        polled = list(adapter.poll(None))
        assert len(polled) == 3
        assert dovecot.uids("INBOX", ["UNSEEN"]) == dovecot.uids("INBOX")  # BODY.PEEK[]
        message, cursor = polled[0]
        assert message.draft.title == "Jalan rusak nomor 0"
        assert message.draft.email == "warga0@example.org"
        assert message.raw["folder"] == "INBOX" and message.raw["uid"] == 1
        assert base64.b64decode(message.raw["rfc822_base64"]).startswith(b"From: Warga 0")
        assert cursor is not None and '"last_uid": 1' in cursor
        cursor, seen = ingest(intake_gateway, adapter, None)
        assert len(seen) == 3
        assert dovecot.uids("INBOX", ["UNSEEN"]) == []
        assert len(stored(intake_gateway)) == 3 == len(intake_gateway.rows(Report))
        adapter.confirm(seen)  # confirming again (a runner retry) changes nothing
        assert len(dovecot.uids("INBOX", ["SEEN"])) == 3
        assert list(adapter.poll(cursor)) == []
    finally:
        adapter.close()


def test_processed_folder_move_and_confirm_is_idempotent(
    dovecot: Dovecot, intake_gateway: Any
) -> None:
    dovecot.append("INBOX", *(citizen_mail(n) for n in range(4)))
    adapter = make_adapter(dovecot, processed_folder="Diproses")
    try:
        _, seen = ingest(intake_gateway, adapter, None)
        assert len(seen) == 4
        assert dovecot.uids("INBOX") == []
        assert len(dovecot.uids("Diproses")) == 4
        adapter.confirm(seen)  # already moved: nothing happens, nothing breaks
        assert len(dovecot.uids("Diproses")) == 4
    finally:
        adapter.close()


def test_tls_needs_the_private_ca(dovecot: Dovecot) -> None:
    dovecot.append("INBOX", citizen_mail(1))
    untrusting = make_adapter(dovecot, ca_file=None)
    with pytest.raises(AdapterUnavailable, match=r"SSL|certificate"):
        list(untrusting.poll(None))
    starttls = make_adapter(dovecot, tls="starttls", port=dovecot.imap_port)
    try:
        assert len(list(starttls.poll(None))) == 1
    finally:
        starttls.close()


def test_wrong_password_is_unavailable_and_not_echoed(dovecot: Dovecot) -> None:
    adapter = make_adapter(dovecot, password="salah-sekali-999")
    with pytest.raises(AdapterUnavailable) as caught:
        list(adapter.poll(None))
    assert "salah-sekali-999" not in str(caught.value)


def test_server_down_is_unavailable() -> None:
    from tests.helpers import free_port

    options = ImapOptions.model_validate(
        {
            "name": "x",
            "type": "imap",
            "host": "127.0.0.1",
            "port": free_port(),
            "user": "u",
            "password": "p",
            "tls": "none",
        }
    )
    with pytest.raises(AdapterUnavailable):
        list(ImapAdapter(options).poll(None))


def test_plaintext_only_on_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        ImapOptions.model_validate(
            {
                "name": "x",
                "type": "imap",
                "host": "imap.example.go.id",
                "user": "u",
                "password": "p",
                "tls": "none",
            }
        )


def test_idle_wakes_up_on_new_mail(dovecot: Dovecot) -> None:
    adapter = make_adapter(dovecot, idle=True, idle_timeout="8s")
    timer = threading.Timer(0.7, dovecot.append, ("INBOX", citizen_mail(7)))
    try:
        started = time.monotonic()
        timer.start()
        polled = list(adapter.poll(None))
        elapsed = time.monotonic() - started
        assert [m.draft.title for m, _ in polled] == ["Jalan rusak nomor 7"]
        assert elapsed < 6, "IDLE should return as soon as the server announces the message"
    finally:
        timer.cancel()
        adapter.close()


def test_too_large_message_is_held_with_its_headers(dovecot: Dovecot) -> None:
    dovecot.append("INBOX", citizen_mail(1, extra="x" * 5000))
    adapter = make_adapter(dovecot, max_message_bytes=2000)
    try:
        [(message, _)] = list(adapter.poll(None))
        assert message.hold == "too_large"
        assert message.external_id.startswith("<warga-1@example.org>#")
        assert any("max_message_bytes" in note for note in message.draft.notes)
    finally:
        adapter.close()


def test_no_address_body_or_password_in_logs(
    dovecot: Dovecot, intake_gateway: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    dovecot.append("INBOX", citizen_mail(0), citizen_mail(1))
    adapter = make_adapter(dovecot)
    try:
        stale = '{"INBOX": {"uidvalidity": 1, "last_uid": 99}}'  # logs a rescan warning
        _, seen = ingest(intake_gateway, adapter, stale)
        assert len(seen) == 2
        assert "UIDVALIDITY" in caplog.text
        for secret in (
            "warga0@example.org",
            "warga1@example.org",
            "Jalan berlubang",
            IMAP_PASSWORD,
        ):
            assert secret not in caplog.text
    finally:
        adapter.close()


# --- fault cases ----------------------------------------------------------------------------


def test_restart_mid_fetch_resumes_and_stores_each_once(
    dovecot: Dovecot, intake_gateway: Any
) -> None:
    total = 60
    dovecot.append("INBOX", *(citizen_mail(n) for n in range(total)))
    adapter = make_adapter(dovecot)
    cursor: str | None = None
    try:
        with pytest.raises(AdapterUnavailable):
            for index, (message, next_cursor) in enumerate(adapter.poll(cursor)):
                intake_gateway.runtime.intake.accept(adapter, [message])
                cursor = next_cursor
                if index == 10:
                    dovecot.restart()  # the connection under the poll is cut here
                # A failed confirm is logged by the runner; the message is confirmed after the
                # next poll reads it again.
                with contextlib.suppress(AdapterUnavailable):
                    adapter.confirm([message])
        assert 10 < len(stored(intake_gateway)) < total
        cursor, _ = ingest(intake_gateway, adapter, cursor)
        assert len(stored(intake_gateway)) == total == len(set(stored(intake_gateway)))
        assert len(intake_gateway.rows(Report)) == total
        assert dovecot.uids("INBOX", ["UNSEEN"]) == []
    finally:
        adapter.close()


def test_killed_between_commit_and_seen_makes_no_second_report(
    dovecot: Dovecot, intake_gateway: Any
) -> None:
    dovecot.append("INBOX", *(citizen_mail(n) for n in range(5)))
    first = make_adapter(dovecot)
    cursor, seen = ingest(intake_gateway, first, None, confirm=False)
    first.close()  # "killed": stored and cursor saved, never confirmed
    assert len(seen) == 5 and len(dovecot.uids("INBOX", ["UNSEEN"])) == 5
    second = make_adapter(dovecot)
    try:
        _, again = ingest(intake_gateway, second, cursor)
        assert len(again) == 5  # read again because still unconfirmed...
        assert len(stored(intake_gateway)) == 5 == len(intake_gateway.rows(Report))  # ...once
        assert dovecot.uids("INBOX", ["UNSEEN"]) == []
        # The cursor lost as well (a restored backup): still one report each.
        _, rescanned = ingest(intake_gateway, second, None)
        assert len(rescanned) == 5 and len(intake_gateway.rows(Report)) == 5
    finally:
        second.close()


def test_uidvalidity_change_rescans_and_stores_each_once(
    dovecot: Dovecot, intake_gateway: Any
) -> None:
    mails = [citizen_mail(n) for n in range(5)]
    dovecot.append("Aduan", *mails)
    adapter = make_adapter(dovecot, folders=["Aduan"])
    try:
        cursor, _ = ingest(intake_gateway, adapter, None)
        assert len(stored(intake_gateway)) == 5
        adapter.close()
        with dovecot.session() as client:
            old = client.select_folder("Aduan")[b"UIDVALIDITY"]
            client.close_folder()
            for _ in range(5):  # a new mailbox may get a new UIDVALIDITY only a second later
                client.delete_folder("Aduan")
                client.create_folder("Aduan")
                if client.folder_status("Aduan", ["UIDVALIDITY"])[b"UIDVALIDITY"] != old:
                    break
                time.sleep(1.1)
        dovecot.append("Aduan", *mails, citizen_mail(5), citizen_mail(6))
        _, rescanned = ingest(intake_gateway, adapter, cursor)
        assert len(rescanned) == 7
        assert len(stored(intake_gateway)) == 7 == len(intake_gateway.rows(Report))
    finally:
        adapter.close()


def test_unreadable_cursor_starts_over_without_duplicates(
    dovecot: Dovecot, intake_gateway: Any
) -> None:
    dovecot.append("INBOX", *(citizen_mail(n) for n in range(2)))
    adapter = make_adapter(dovecot)
    try:
        ingest(intake_gateway, adapter, None)
        _, again = ingest(intake_gateway, adapter, "{not json")
        assert len(again) == 2 and len(stored(intake_gateway)) == 2
    finally:
        adapter.close()


# --- a corpus nobody here wrote, through a real mailbox ------------------------------------

CORPUS = sorted(
    (Path(sysconfig.get_path("stdlib")) / "test" / "test_email" / "data").glob("msg_*.txt")
)


@pytest.mark.skipif(not CORPUS, reason="this Python has no test.test_email data")
def test_cpython_corpus_through_dovecot_each_message_once(dovecot: Dovecot) -> None:
    dovecot.append("INBOX", *(path.read_bytes() for path in CORPUS))
    adapter = make_adapter(dovecot, batch_size=1000)
    try:
        polled = [message for message, _ in adapter.poll(None)]
        adapter.confirm(polled)
        assert len(polled) == len(CORPUS)
        assert len({m.external_id for m in polled}) == len(CORPUS)
        for message in polled:
            if message.hold is None:
                normalize_draft(message.draft, NormalizerSettings())
        assert list(adapter.poll(None)) != []  # no cursor: read again (deduped by the intake)
        assert dovecot.uids("INBOX", ["UNSEEN"]) == []
    finally:
        adapter.close()
