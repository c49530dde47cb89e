"""Citizen replies: render them from admin-editable templates and queue them durably.

Each (report, event) pair is queued once, so a status seen twice by the sync is told once.
A channel that cannot answer electronically (a paper letter) gets the reply queued as
`manual`, listed for an admin to send by post.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy import select
from sqlalchemy.orm import Session
from ulid import ULID

from store.models import ReplyItem, Report, TimelineEvent, utcnow
from store.states import ReplyState, ReportState
from store.status_tokens import status_url
from vocabulary.central import CentralStatus

log = logging.getLogger(__name__)

DEFAULT_TEMPLATES = Path(__file__).parent / "templates" / "replies"
# Channel kinds whose variant is posted in public (X replies to a mention): an admin's
# generic `ack.txt` may name the agency or more, so it never replaces the packaged
# public-safe variant there; only the admin's own `<name>.<kind>.txt` does.
PUBLIC_VARIANTS = frozenset({"twitter"})

# Every central status in words (keyed by member; looked up by any status string).
STATUS_LABELS: dict[str, str] = {
    CentralStatus.RECEIVED: "diterima, belum diverifikasi",
    CentralStatus.VERIFIED: "sudah diverifikasi",
    CentralStatus.DISPOSITIONED: "sudah didisposisikan ke instansi berwenang",
    CentralStatus.IN_PROGRESS: "sedang ditindaklanjuti",
    CentralStatus.COMPLETED: "selesai ditindaklanjuti",
    CentralStatus.CLOSED: "ditutup",
    CentralStatus.RETURNED: "dikembalikan karena di luar kewenangan instansi, sedang dialihkan",
    CentralStatus.ARCHIVED: "diarsipkan",
}


def recipient_hash(key: str | None) -> str | None:
    """The stored form of a recipient key: the rate limit needs equality, not the number."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest() if key else None


# What a report is before the central has it: told to a citizen asking for its status.
LOCAL_LABELS: dict[str, str] = {
    ReportState.QUEUED: "sedang diteruskan ke LAPOR!",
    ReportState.DEAD: "tertahan, sedang diperiksa petugas",
}


def template_loader(override_dir: str | Path | None) -> jinja2.BaseLoader:
    """The admin's template directory (`replies.templates_dir`) first, the defaults after."""
    loaders: list[jinja2.BaseLoader] = []
    if override_dir:
        loaders.append(jinja2.FileSystemLoader(str(override_dir)))
    loaders.append(jinja2.FileSystemLoader(str(DEFAULT_TEMPLATES)))
    return jinja2.ChoiceLoader(loaders)


class ReplyTemplates:
    """Jinja2 text templates: the admin's directory first, the packaged defaults after."""

    def __init__(self, override_dir: str | Path | None = None) -> None:
        self.override_dir = Path(override_dir) if override_dir else None
        self.env = jinja2.Environment(
            loader=template_loader(override_dir),
            undefined=jinja2.StrictUndefined,
            # A missing value is left out, never printed as "None" to a citizen.
            finalize=lambda value: "" if value is None else value,
            keep_trailing_newline=False,
            autoescape=False,  # noqa: S701 (plain-text SMS/email, not HTML)
        )

    def render(self, name: str, variant: str | None = None, **context: Any) -> str:
        """One message, whitespace tidied; `name.variant.txt` (e.g. `ack.sms.txt`) first.

        A variant is a channel kind (sms, email, telegram...): short texts for SMS, fuller
        ones for email. Lines keep their breaks; spaces inside a line and runs of blank lines
        are folded.
        """
        names = [f"{name}.{variant}.txt", f"{name}.txt"] if variant else [f"{name}.txt"]
        if self.override_dir is not None and variant not in PUBLIC_VARIANTS:
            # Any file the admin wrote wins over every packaged one: an admin's `ack.txt`
            # must reach SMS too, although the package has a more specific `ack.sms.txt`.
            names = [n for n in names if (self.override_dir / n).is_file()] + names
        text = self.env.select_template(names).render(**context)
        lines = [" ".join(line.split()) for line in text.strip().splitlines()]
        tidy: list[str] = []
        for line in lines:
            if line or (tidy and tidy[-1]):
                tidy.append(line)
        return "\n".join(tidy).strip()

    def check(self) -> None:
        """Render every template once with sample values: a broken edit fails at start."""
        sample = {
            "tracking_id": "LPR0000000",
            "agency": "contoh",
            "agency_name": "Contoh",
            "kind": "pengaduan",
            "status": CentralStatus.VERIFIED,
            "status_label": "diverifikasi",
            "note": None,
            "text": "contoh",
            "status_url": "https://aduan.contoh.go.id/s/AbCdEfGhIjKlMnOpQrStUv",
        }
        late = {
            "stage": "first_response",
            "stage_label": "respon awal",
            "allowed": 3,
            "working_days": True,
            "due_day": "Rabu, 02 Des 2026",
            "started_day": "Jumat, 27 Nov 2026",
        }
        for name in ("ack", "status", "response", "status_query", "sla_overdue", "completion"):
            for variant in (None, "sms", "email", "telegram", "twitter", "webform", "letter"):
                self.render(name, variant, **sample, **late, found=True, include_response=True)


class ReplyQueue:
    """Queues replies for a report's channel."""

    def __init__(
        self,
        templates: ReplyTemplates,
        agency_names: Mapping[str, str],
        can_reply: Callable[[str, Mapping[str, str]], bool],
        channel_kinds: Mapping[str, str] | None = None,
        recipient_of: Callable[[str, Mapping[str, str]], str | None] | None = None,
        public_url: str = "",
    ) -> None:
        self.templates = templates
        self.agency_names = dict(agency_names)
        self.can_reply = can_reply
        self.channel_kinds = dict(channel_kinds or {})
        self.recipient_of = recipient_of or (lambda _channel, _reply_to: None)
        self.public_url = public_url

    def _context(self, report: Report, **extra: Any) -> dict[str, Any]:
        agency = extra.pop("agency", None) or report.agency
        return {
            "tracking_id": report.tracking_id,
            "kind": report.kind,
            "agency": agency,
            "agency_name": self.agency_names.get(agency, agency),
            "status_url": status_url(self.public_url, report.status_token),
            **extra,
        }

    def queue(
        self, session: Session, report: Report, event: str, template: str, **extra: Any
    ) -> ReplyItem | None:
        """Queue one reply unless this event was already queued for the report.

        A report the central has not numbered yet gets nothing: every reply names the
        tracking id, and a citizen must never read a reply without it.
        """
        if report.tracking_id is None:
            log.error("reply %s for report %s not queued: no tracking id yet", event, report.id)
            return None
        existing = session.scalar(
            select(ReplyItem).where(ReplyItem.report_id == report.id, ReplyItem.event == event)
        )
        if existing is not None:
            return None
        text = self.templates.render(
            template, self.channel_kinds.get(report.channel), **self._context(report, **extra)
        )
        return self._add(
            session, report.id, report.channel, event, text, report.reply_to or {}, override=False
        )

    def _add(
        self,
        session: Session,
        report_id: str | None,
        channel: str,
        event: str,
        text: str,
        reply_to: Mapping[str, str],
        *,
        override: bool,
    ) -> ReplyItem:
        state = ReplyState.PENDING if self.can_reply(channel, reply_to) else ReplyState.MANUAL
        item = ReplyItem(
            id=str(ULID()),
            report_id=report_id,
            channel=channel,
            event=event,
            text=text,
            state=state,
            next_attempt_at=utcnow(),
            reply_to=dict(reply_to) if override else None,
            recipient=recipient_hash(self.recipient_of(channel, reply_to)),
        )
        session.add(item)
        return item

    def answer_query(
        self,
        session: Session,
        channel: str,
        reply_to: Mapping[str, str],
        inbound_id: str,
        ident: str,
        report: Report | None,
        *,
        include_response: bool,
    ) -> ReplyItem:
        """Answer "STATUS <tracking id>" to whoever asked, on their channel.

        Someone other than the reporter learns only the status and the agency: never the
        agency's answer, which may speak of the reporter.
        """
        context: dict[str, Any] = {
            "tracking_id": ident,
            "found": report is not None,
            "include_response": include_response,
            "text": None,
            "note": None,
            "kind": None,
            "agency": None,
            "agency_name": None,
            "status": None,
            "status_label": None,
            "status_url": "",
        }
        if report is not None:
            status = (
                report.central_status if report.state == ReportState.SUBMITTED else report.state
            )
            context.update(
                self._context(report),
                status=status,
                status_label=STATUS_LABELS.get(
                    status or "", LOCAL_LABELS.get(status or "", status)
                ),
                tracking_id=report.tracking_id or ident,
            )
            if not include_response:  # the private link is the reporter's alone
                context["status_url"] = ""
            if include_response:
                context["text"] = self._latest_response(session, report.id)
        text = self.templates.render("status_query", self.channel_kinds.get(channel), **context)
        return self._add(
            session,
            report.id if report else None,
            channel,
            f"query:{inbound_id}",
            text,
            reply_to,
            override=True,
        )

    @staticmethod
    def _latest_response(session: Session, report_id: str) -> str | None:
        event = session.scalar(
            select(TimelineEvent)
            .where(TimelineEvent.report_id == report_id, TimelineEvent.event == "response")
            .order_by(TimelineEvent.id.desc())
            .limit(1)
        )
        return str(event.detail.get("text")) if event and event.detail.get("text") else None

    def prompt(
        self,
        session: Session,
        channel: str,
        reply_to: Mapping[str, str],
        event: str,
        text: str,
        choices: list[list[str]],
    ) -> ReplyItem:
        """A guided-conversation prompt (no report yet), with its buttons.

        Prompts answer the citizen's own messages one for one, so they do not count toward
        the per-recipient limit (the conversation bounds its own turns).
        """
        item = ReplyItem(
            id=str(ULID()),
            report_id=None,
            channel=channel,
            event=event,
            text=text,
            state=ReplyState.PENDING if self.can_reply(channel, reply_to) else ReplyState.MANUAL,
            next_attempt_at=utcnow(),
            reply_to=dict(reply_to),
            recipient=None,
            choices=choices or None,
        )
        session.add(item)
        return item

    def acknowledge(self, session: Session, report: Report) -> ReplyItem | None:
        """The acknowledgement with the tracking id."""
        return self.queue(session, report, "ack", "ack")

    def status_changed(
        self,
        session: Session,
        report: Report,
        status: CentralStatus,
        at: str,
        agency: str | None,
        note: str | None,
    ) -> ReplyItem | None:
        """A status change told to the citizen."""
        return self.queue(
            session,
            report,
            f"status:{status}:{at}",
            "status",
            status=status,
            status_label=STATUS_LABELS.get(status, status),
            agency=agency,
            note=note,
        )

    def completed(
        self,
        session: Session,
        report: Report,
        response_id: str,
        agency: str | None,
        text: str,
        note: str | None,
    ) -> ReplyItem | None:
        """The report is completed, told together with the agency's response to it.

        Keyed by the response: that response is never told a second time on its own.
        """
        return self.queue(
            session,
            report,
            f"completion:{response_id}",
            "completion",
            status=CentralStatus.COMPLETED,
            status_label=STATUS_LABELS[CentralStatus.COMPLETED],
            agency=agency,
            text=text,
            note=note,
        )

    def agency_response(
        self, session: Session, report: Report, response_id: str, agency: str | None, text: str
    ) -> ReplyItem | None:
        """An agency's answer relayed to the citizen."""
        return self.queue(
            session, report, f"response:{response_id}", "response", agency=agency, text=text
        )
