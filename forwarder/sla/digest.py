"""The daily SLA digest: one email per agency listing its overdue and due-soon reports.

Sent through the SMTP account in `sla.digest` to the addresses in `agencies[].email`, on
working days once the local time has passed `sla.digest.send_at`, at most once a day per
agency (the day is claimed in `sync_state` before sending and given back if sending
fails, so two workers never both send it and a failure is retried at the next watch).
An agency with nothing due gets no mail. The text is the template `sla_digest.email.txt`
(first line: the subject), editable in `replies.templates_dir` like every reply.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from adapters.email import smtp
from config.schema import ConfigModel
from forwarder.replies import template_loader
from forwarder.sla.calendar import format_day
from forwarder.sla.clocks import STAGE_LABELS, ClockState, SlaRules, Stage
from forwarder.sla.watch import WatchItem, WatchResult
from store.sla import claim_day, release_day
from vocabulary.errors import SendError

log = logging.getLogger(__name__)

TEMPLATE = "sla_digest.email.txt"


@dataclass(frozen=True)
class AgencyContact:
    """Who gets an agency's digest."""

    code: str
    name: str
    emails: tuple[str, ...]


def smtp_settings(model: ConfigModel) -> smtp.SmtpSettings | None:
    """The digest's SMTP account, or None when `sla.digest` is not configured."""
    digest = model.sla.digest
    if digest is None:
        return None
    return smtp.SmtpSettings(
        host=digest.smtp_host,
        port=digest.smtp_port or (465 if digest.smtp_tls == "ssl" else 587),
        tls=digest.smtp_tls,
        from_address=digest.from_address,
        from_name=digest.from_name,
        user=digest.smtp_user,
        password=digest.smtp_password.get_secret_value() if digest.smtp_password else None,
        ca_file=digest.ca_file,
        timeout=digest.timeout,
    )


class DigestTemplates:
    """The digest template: the admin's directory first, the packaged default after."""

    def __init__(self, override_dir: str | Path | None = None) -> None:
        self.env = jinja2.Environment(
            loader=template_loader(override_dir),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,  # noqa: S701 (a plain-text email)
        )

    def render(self, **context: Any) -> tuple[str, str]:
        """(subject, body)."""
        text = self.env.get_template(TEMPLATE).render(**context).strip("\n")
        subject, _, body = text.partition("\n")
        return " ".join(subject.split()), body.strip("\n") + "\n"


class SlaDigest:
    """Sends the day's digests after a watch pass (`SlaWatch(digest=...)`)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: smtp.SmtpSettings,
        agencies: Sequence[AgencyContact],
        rules: SlaRules,
        templates: DigestTemplates,
        *,
        send_at: dt.time = dt.time(7, 0),
        public_url: str = "",
        send: Callable[[smtp.SmtpSettings, EmailMessage], None] = smtp.send,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.agencies = [a for a in agencies if a.emails]
        self.rules = rules
        self.templates = templates
        self.send_at = send_at
        self.public_url = public_url.rstrip("/")
        self.send = send

    def __call__(self, result: WatchResult, now: dt.datetime) -> int:
        """Send what is due today; returns the digests sent."""
        calendar = self.rules.calendar
        local = now.astimezone(calendar.zone)
        if local.time() < self.send_at or not calendar.is_working_day(local.date()):
            return 0
        day = local.date().isoformat()
        groups = result.by_agency()
        sent = 0
        for agency in self.agencies:
            items = groups.get(agency.code)
            if items and self._send_once(agency, items, result, now, day):
                sent += 1
        return sent

    def _send_once(
        self,
        agency: AgencyContact,
        items: list[WatchItem],
        result: WatchResult,
        now: dt.datetime,
        day: str,
    ) -> bool:
        key = f"sla.digest.{agency.code}"
        try:
            with self.sessions.begin() as session:
                previous = claim_day(session, key, day)
        except IntegrityError:
            return False  # another worker claimed it this very moment
        if previous == day:
            return False
        try:
            self.send(self.settings, self.message(agency, items, result, now))
        except SendError as exc:
            log.warning("sla digest for %s not sent: %s", agency.code, exc)
            with self.sessions.begin() as session:
                release_day(session, key, previous)
            return False
        log.info("sla digest sent to agency %s (%d report(s))", agency.code, len(items))
        return True

    def message(
        self,
        agency: AgencyContact,
        items: Sequence[WatchItem],
        result: WatchResult,
        now: dt.datetime,
    ) -> EmailMessage:
        """The digest for one agency."""
        rows = [self._row(item) for item in items]
        rules = self.rules
        local = result.computed_at.astimezone(rules.calendar.zone)
        subject, body = self.templates.render(
            agency=agency.code,
            agency_name=agency.name,
            day=format_day(local.date()),
            computed_at=f"{format_day(local.date())} {local:%H:%M} {local.tzname()}",
            zone=rules.calendar.zone.key,
            overdue=[r for r in rows if r["state"] == ClockState.OVERDUE],
            due_soon=[r for r in rows if r["state"] == ClockState.DUE_SOON],
            limits={stage.value: rules.limit(stage) for stage in Stage},
        )
        message = EmailMessage(policy=policy.SMTP)
        message["From"] = Address(self.settings.from_name, addr_spec=self.settings.from_address)
        message["To"] = ", ".join(agency.emails)
        message["Subject"] = subject
        message["Date"] = format_datetime(now)
        message["Message-ID"] = make_msgid(domain=self.settings.domain)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(body, charset="utf-8", cte="quoted-printable")
        return message

    def _row(self, item: WatchItem) -> dict[str, Any]:
        clock = item.clock
        calendar = self.rules.calendar
        unit = "hari" if clock.stage is Stage.RESOLUTION else "hari kerja"
        return {
            "tracking_id": item.tracking_id or clock.report_id,
            "stage": clock.stage.value,
            "stage_label": STAGE_LABELS[clock.stage],
            "state": clock.state,
            "due_day": format_day(clock.due_on),
            "started_day": format_day(calendar.local_date(clock.started_at)),
            "left": max(clock.days_left, 0),
            "late": max(-clock.days_left, 0),
            "unit": unit,
            "channel": item.channel,
            "link": f"{self.public_url}/admin/reports/{clock.report_id}",
        }


def agency_contacts(model: ConfigModel) -> list[AgencyContact]:
    """Every agency of the config with its digest addresses."""
    return [AgencyContact(a.code, a.name, tuple(a.email)) for a in model.agencies]
