"""`imap`: citizens write to a mailbox; the gateway polls it over IMAP and answers by SMTP.

Polling never marks anything: messages are fetched with `BODY.PEEK[]`. Only after the gateway
has committed a message (and the cursor with it) does `confirm` set the Seen flag, or move the
message to `processed_folder`. The cursor (JSON: per folder, UIDVALIDITY and the last UID
read) only saves work; the mailbox is the truth. Messages at or below the cursor that are
still not confirmed (a crash between commit and confirm) are read again, recognised by their
external id and confirmed then, never reported twice. A changed UIDVALIDITY rescans the
folder from UID 1 for the same reason.
"""

from __future__ import annotations

import builtins
import contextlib
import datetime as dt
import ipaddress
import json
import logging
import ssl
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar, Literal

from imapclient import DELETED, SEEN, IMAPClient
from imapclient.exceptions import IMAPClientError
from pydantic import Field, SecretStr, model_validator

from adapters.base import Adapter, ChannelOptions, Mode, OutgoingReply, PollOptions
from adapters.email.loops import is_machine_address
from adapters.email.mime import DEFAULT_FORBIDDEN, MimeLimits, parse_email
from adapters.email.smtp import SmtpSettings, SmtpTls, build_reply, reply_message_id, send
from vocabulary.drafts import RawMessage
from vocabulary.durations import Duration
from vocabulary.errors import AdapterUnavailable, SendError
from vocabulary.holds import HoldReason

log = logging.getLogger(__name__)
Cursor = dict[str, dict[str, int]]


class _NoProtocolTrace(logging.Filter):
    """Drops imapclient's IMAP protocol trace: at DEBUG it carries whole messages."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Never let a record through."""
        return False


# Personal data never reaches a log (README), whatever level an admin sets: the trace of
# FETCH responses is every citizen's address and text in clear.
_TRACE_LOGGER = logging.getLogger("imapclient.imaplib")
if not any(isinstance(f, _NoProtocolTrace) for f in _TRACE_LOGGER.filters):
    _TRACE_LOGGER.addFilter(_NoProtocolTrace())


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class ImapOptions(PollOptions):
    """YAML fields of an `imap` channel (IMAP in, SMTP out)."""

    type: Literal["imap"] = "imap"
    host: str
    port: int | None = Field(default=None, ge=1, le=65535)  # 993 (imaps) or 143
    user: str
    password: SecretStr
    tls: Literal["imaps", "starttls", "none"] = "imaps"
    ca_file: str | None = None  # a private CA for the IMAP and SMTP servers
    folders: list[str] = Field(default_factory=lambda: ["INBOX"], min_length=1)
    processed_folder: str | None = None
    idle: bool = False
    idle_timeout: Duration = 25.0
    timeout: Duration = 30.0
    max_message_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    max_attachment_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    allowed_types: list[str] | None = None
    forbidden_types: list[str] = Field(default_factory=lambda: list(DEFAULT_FORBIDDEN))
    tracking_pattern: str = r"LPR\d{7}"
    smtp_host: str | None = None
    smtp_port: int | None = Field(default=None, ge=1, le=65535)  # 465 (ssl) or 587
    smtp_tls: SmtpTls = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    from_address: str | None = None
    from_name: str = "SP4N-LAPOR!"

    @model_validator(mode="after")
    def _checked(self) -> ImapOptions:
        if self.tls == "none" and not _is_loopback(self.host):
            raise ValueError("tls: none is only allowed for a loopback host (tests)")
        if self.smtp_host and self.smtp_tls == "none" and not _is_loopback(self.smtp_host):
            raise ValueError("smtp_tls: none is only allowed for a loopback host (tests)")
        if self.processed_folder and self.processed_folder in self.folders:
            raise ValueError("processed_folder must not be one of the polled folders")
        if self.smtp_host and not (self.from_address or "@" in self.user):
            raise ValueError("from_address is required when user is not an email address")
        return self


class ImapAdapter(Adapter[ImapOptions]):
    """Polls IMAP folders for citizens' emails; replies by SMTP in the same thread."""

    type: ClassVar[str] = "imap"
    kind: ClassVar[str] = "email"
    modes: ClassVar[frozenset[Mode]] = frozenset({"poll"})
    Options: ClassVar[builtins.type[ChannelOptions]] = ImapOptions
    secret_fields: ClassVar[frozenset[str]] = frozenset({"password", "smtp_password"})
    docs_url: ClassVar[str] = "README.md#email-imap"

    def __init__(self, options: ChannelOptions, *, public_url: str = "") -> None:
        super().__init__(options, public_url=public_url)
        self._client: IMAPClient | None = None
        self._selected: tuple[str, int] | None = None  # folder, UIDVALIDITY
        o = self.options
        self.limits = MimeLimits(
            max_attachment_bytes=o.max_attachment_bytes,
            allowed_types=tuple(o.allowed_types) if o.allowed_types is not None else None,
            forbidden_types=tuple(o.forbidden_types),
            tracking_pattern=o.tracking_pattern,
        )

    # --- IMAP connection ---------------------------------------------------------------
    def _connect(self) -> IMAPClient:
        o = self.options
        context = ssl.create_default_context(cafile=o.ca_file)
        port = o.port or (993 if o.tls == "imaps" else 143)
        client = IMAPClient(
            o.host, port=port, ssl=o.tls == "imaps", ssl_context=context, timeout=o.timeout
        )
        client.normalise_times = False  # INTERNALDATE with its zone, not local naive time
        if o.tls == "starttls":
            client.starttls(context)
        client.login(o.user, o.password.get_secret_value())
        if o.processed_folder and not client.folder_exists(o.processed_folder):
            client.create_folder(o.processed_folder)
        return client

    def _select(self, client: IMAPClient, folder: str, *, again: bool = True) -> int:
        """Select a folder and remember it: poll and confirm share one connection.

        With `again=False` an already selected folder is not selected anew (confirm after
        each stored message would otherwise cost a SELECT each time).
        """
        if not again and self._selected is not None and self._selected[0] == folder:
            return self._selected[1]
        self._selected = None
        validity = int(client.select_folder(folder)[b"UIDVALIDITY"])
        self._selected = (folder, validity)
        return validity

    def _connection(self) -> IMAPClient:
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _unavailable(self, exc: Exception) -> AdapterUnavailable:
        self.close()
        return AdapterUnavailable(
            f"server IMAP {self.options.host} gagal ({type(exc).__name__}: {exc})"
        )

    def close(self) -> None:
        """Log out and drop the connection (a broken one is just dropped)."""
        client, self._client, self._selected = self._client, None, None
        if client is not None:
            try:
                client.logout()
            except (IMAPClientError, OSError):
                with contextlib.suppress(IMAPClientError, OSError):
                    client.shutdown()

    # --- polling -------------------------------------------------------------------------
    def poll(self, cursor: str | None) -> Iterator[tuple[RawMessage, str | None]]:
        """New (and still unconfirmed) messages of every folder, each with the next cursor."""
        state = _load_cursor(cursor)
        try:
            client = self._connection()
            budget = [self.options.batch_size]
            rounds = 2 if self.options.idle and client.has_capability("IDLE") else 1
            for round_ in range(rounds):
                if round_:
                    self._wait_idle(client)  # nothing new: wait for the server to say so
                found = False
                for folder in self.options.folders:
                    for message, next_state in self._poll_folder(client, folder, state, budget):
                        state, found = next_state, True
                        yield message, json.dumps(state, sort_keys=True)
                if found:
                    break
        except (IMAPClientError, OSError) as exc:
            raise self._unavailable(exc) from exc

    def _poll_folder(
        self, client: IMAPClient, folder: str, state: Cursor, budget: list[int]
    ) -> Iterator[tuple[RawMessage, Cursor]]:
        validity = self._select(client, folder)
        known = state.get(folder)
        last = 0
        if known and known.get("uidvalidity") == validity:
            last = int(known.get("last_uid", 0))
        elif known:
            log.warning(
                "channel %s: folder %s has a new UIDVALIDITY; rescanning it", self.name, folder
            )
        new = [u for u in client.search(["UID", f"{last + 1}:*"]) if u > last]
        # Read earlier but never confirmed (crash between commit and confirm): again.
        pending_criteria = ["UID", f"1:{last}"] + (
            [] if self.options.processed_folder else ["UNSEEN"]
        )
        pending = client.search(pending_criteria) if last else []
        uids = sorted({*pending, *new})[: max(budget[0], 0)]
        for start in range(0, len(uids), 25):
            chunk = uids[start : start + 25]
            if self._select(client, folder, again=False) != validity:
                return  # renumbered while we were reading: the next poll rescans
            sizes = client.fetch(chunk, ["RFC822.SIZE"])
            small = [
                u
                for u in chunk
                if int(sizes.get(u, {}).get(b"RFC822.SIZE", 0)) <= self.options.max_message_bytes
            ]
            data = client.fetch(small, ["BODY.PEEK[]", "INTERNALDATE"]) if small else {}
            big = [u for u in chunk if u in sizes and u not in small]
            if big:
                data.update(client.fetch(big, ["BODY.PEEK[HEADER]", "INTERNALDATE"]))
            for uid in chunk:
                item = data.get(uid)
                if item is None:
                    continue  # expunged meanwhile
                budget[0] -= 1
                message = self._message(folder, validity, uid, item)
                if uid > last:
                    state = {**state, folder: {"uidvalidity": validity, "last_uid": uid}}
                yield message, state

    def _message(
        self, folder: str, validity: int, uid: int, item: Mapping[bytes, Any]
    ) -> RawMessage:
        received = item.get(b"INTERNALDATE")
        at = (
            received.astimezone(dt.UTC)
            if isinstance(received, dt.datetime) and received.tzinfo
            else dt.datetime.now(dt.UTC)
        )
        extra = {"folder": folder, "uid": uid, "uidvalidity": validity}
        if b"BODY[]" in item:
            return parse_email(bytes(item[b"BODY[]"]), at, self.limits, extra)
        message = parse_email(
            bytes(item[b"BODY[HEADER]"]), at, self.limits, {**extra, "headers_only": True}
        )
        message.hold = HoldReason.TOO_LARGE
        message.draft.notes.append(
            f"pesan lebih besar dari `max_message_bytes`"
            f" ({self.options.max_message_bytes}); hanya header-nya yang dibaca, pesan"
            " utuhnya tetap di server surel"
        )
        return message

    def _wait_idle(self, client: IMAPClient) -> None:
        """Wait up to idle_timeout for the server to announce new mail in the first folder."""
        self._select(client, self.options.folders[0])
        client.idle()
        try:
            client.idle_check(timeout=self.options.idle_timeout)
        finally:
            client.idle_done()

    def confirm(self, messages: Sequence[RawMessage]) -> None:
        """Flag stored messages Seen or move them to processed_folder (idempotent)."""
        groups: dict[tuple[str, int], list[int]] = {}
        for message in messages:
            folder, uid = message.raw.get("folder"), message.raw.get("uid")
            validity = message.raw.get("uidvalidity")
            if isinstance(folder, str) and isinstance(uid, int) and isinstance(validity, int):
                groups.setdefault((folder, validity), []).append(uid)
        if not groups:
            return
        try:
            client = self._connection()
            for (folder, validity), uids in groups.items():
                if self._select(client, folder, again=False) != validity:
                    continue  # renumbered: the rescan reads them again and confirms them
                self._mark(client, uids)
        except (IMAPClientError, OSError) as exc:
            raise self._unavailable(exc) from exc

    def _mark(self, client: IMAPClient, uids: list[int]) -> None:
        target = self.options.processed_folder
        if target is None:
            client.add_flags(uids, [SEEN], silent=True)
        elif client.has_capability("MOVE"):
            client.move(uids, target)
        else:
            client.copy(uids, target)
            client.add_flags(uids, [DELETED], silent=True)
            client.uid_expunge(uids)

    # --- replies -------------------------------------------------------------------------
    def smtp_settings(self) -> SmtpSettings | None:
        """How replies are sent, or None when the channel has no SMTP server."""
        o = self.options
        if not o.smtp_host:
            return None
        return SmtpSettings(
            host=o.smtp_host,
            port=o.smtp_port or (465 if o.smtp_tls == "ssl" else 587),
            tls=o.smtp_tls,
            from_address=o.from_address or o.user,
            from_name=o.from_name,
            user=o.smtp_user,
            password=o.smtp_password.get_secret_value() if o.smtp_password else None,
            ca_file=o.ca_file,
            timeout=o.timeout,
        )

    def recipient_key(self, reply_to: Mapping[str, str]) -> str | None:
        """The citizen's address, lower-cased."""
        address = reply_to.get("email", "").strip().lower()
        return address or None

    def sender_key(self, reply_to: Mapping[str, str]) -> str | None:
        """The From address, lower-cased: a Reply-To says where answers go, not who wrote.

        Reports stored before the From was kept apart have only the delivery address.
        """
        if "from" in reply_to:
            return reply_to["from"].strip().lower() or None
        return self.recipient_key(reply_to)

    def can_reply(self, reply_to: Mapping[str, str]) -> bool:
        """Only with a person's address to write to and an SMTP server to write through.

        Never to MAILER-DAEMON, postmaster or a no-reply address, whatever let the message
        through (an admin releasing a held bounce, a Reply-To naming one).
        """
        address = reply_to.get("email", "")
        return bool(
            self.options.replies
            and self.smtp_settings()
            and "@" in address
            and not is_machine_address(address)
        )

    def send_reply(self, reply: OutgoingReply) -> str | None:
        """Send the reply in the citizen's thread; return its Message-ID (stable per reply)."""
        settings = self.smtp_settings()
        if settings is None or not self.can_reply(reply.reply_to):
            raise SendError(
                "kanal tanpa server SMTP atau laporan tanpa alamat yang dibaca orang",
                retryable=False,
                code="no_route",
            )
        message_id = reply_message_id(settings, reply.reply_id)
        send(
            settings,
            build_reply(settings, reply, message_id=message_id, now=dt.datetime.now(dt.UTC)),
        )
        return message_id


def _load_cursor(cursor: str | None) -> Cursor:
    """The per-folder cursor; anything unreadable starts over (dedup keeps that safe)."""
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(k): {"uidvalidity": int(v["uidvalidity"]), "last_uid": int(v["last_uid"])}
        for k, v in data.items()
        if isinstance(v, dict)
        and isinstance(v.get("uidvalidity"), int)
        and isinstance(v.get("last_uid"), int)
    }
