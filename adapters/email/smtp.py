"""Answers to citizens by SMTP: a threaded text/plain reply that never starts a mail loop.

`build_reply` is pure (headers and body from an `OutgoingReply`); `send` does the I/O and maps
every failure to `SendError`: no connection, timeouts and 4xx answers are worth retrying,
5xx answers (550 no such user, 554 rejected) are not.

Every reply's Message-ID is derived from its reply id (`reply_message_id`): a repeat after a
crash is the same message. Every reply carries `Auto-Submitted: auto-replied` (RFC 3834) so
well-behaved autoresponders stay quiet, `X-Auto-Response-Suppress: All` for Exchange, and
`In-Reply-To`/`References` to the citizen's message so it lands in their thread; the
tracking id is in the subject.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Literal

from adapters.base import OutgoingReply
from vocabulary.errors import SendError

SmtpTls = Literal["ssl", "starttls", "none"]
_RE_PREFIX = re.compile(r"^\s*((re|aw|balas|bls)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_MAX_SUBJECT = 200
_MSGID_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,100}")


@dataclass(frozen=True)
class SmtpSettings:
    """Where and as whom replies are sent."""

    host: str
    port: int
    tls: SmtpTls
    from_address: str
    from_name: str = "SP4N-LAPOR!"
    user: str | None = None
    password: str | None = None
    ca_file: str | None = None
    timeout: float = 30.0

    @property
    def domain(self) -> str:
        """The from address's domain, used in our own Message-IDs."""
        return self.from_address.rpartition("@")[2] or "localhost"


def reply_subject(original: str, tracking_id: str | None) -> str:
    """`Re: <citizen's subject> [LPR1234567]`, without piling up prefixes or repeating the id."""
    base = _RE_PREFIX.sub("", " ".join(original.split()))[:_MAX_SUBJECT]
    if tracking_id and tracking_id not in base:
        base = f"{base} [{tracking_id}]" if base else f"Laporan Anda [{tracking_id}]"
    return f"Re: {base}" if base else "Laporan Anda"


def reply_message_id(settings: SmtpSettings, reply_id: str) -> str:
    """The reply's Message-ID in our own domain, derived from the reply row's id.

    The same reply sent twice (a crash after the server took it, before the gateway recorded
    it) carries the same Message-ID, so mail clients and the citizen's server see a repeat,
    not a second acknowledgement. An id that does not fit a msg-id is hashed.
    """
    local = reply_id if _MSGID_SAFE.fullmatch(reply_id) else _digest(reply_id)
    return f"<sp4n-reply.{local}@{settings.domain}>"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:32]


def build_reply(
    settings: SmtpSettings, reply: OutgoingReply, *, message_id: str, now: dt.datetime
) -> EmailMessage:
    """The reply as a UTF-8 text/plain message threaded onto the citizen's one."""
    to: Mapping[str, str] = reply.reply_to
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = Address(settings.from_name, addr_spec=settings.from_address)
    message["To"] = to["email"]
    message["Subject"] = reply_subject(to.get("subject", ""), reply.tracking_id)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    original = to.get("message_id", "")
    if original:
        message["In-Reply-To"] = original
        message["References"] = original
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(reply.text + "\n", charset="utf-8", cte="quoted-printable")
    return message


def _tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=settings.ca_file)


def _error_for_code(code: int, what: str) -> SendError:
    return SendError(f"SMTP server answered {code} to {what}", retryable=code < 500, code=str(code))


def send(settings: SmtpSettings, message: EmailMessage) -> None:
    """Deliver one message to the SMTP server; raise SendError(retryable=...) on failure."""
    try:
        if settings.tls == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host,
                settings.port,
                timeout=settings.timeout,
                context=_tls_context(settings),
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with client:
            if settings.tls == "starttls":
                client.starttls(context=_tls_context(settings))
            if settings.user:
                client.login(settings.user, settings.password or "")
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise _error_for_code(min(codes) if codes else 550, "the recipient") from None
    except smtplib.SMTPAuthenticationError as exc:
        # Our credentials, not the citizen's address: retried until an admin fixes the env.
        raise SendError(
            f"SMTP login refused ({exc.smtp_code})", retryable=True, code="auth"
        ) from None
    except smtplib.SMTPResponseException as exc:
        raise _error_for_code(exc.smtp_code, "the message") from None
    except (smtplib.SMTPException, OSError) as exc:  # no connection, TLS failure, timeout
        raise SendError(
            f"SMTP server unreachable: {type(exc).__name__}", retryable=True, code="connection"
        ) from None
