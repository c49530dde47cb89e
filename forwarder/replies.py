"""Citizen replies: render them from admin-editable templates and queue them durably.

Each (report, event) pair is queued once, so a status seen twice by the sync is told once.
A channel that cannot answer electronically (a paper letter) gets the reply queued as
`manual`, listed for an admin to send by post.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy import select
from sqlalchemy.orm import Session
from ulid import ULID

from gateway.store.models import ReplyItem, Report, utcnow

DEFAULT_TEMPLATES = Path(__file__).parent / "templates" / "replies"

STATUS_LABELS = {
    "received": "diterima, belum diverifikasi",
    "verified": "sudah diverifikasi",
    "dispositioned": "sudah didisposisikan ke instansi berwenang",
    "in_progress": "sedang ditindaklanjuti",
    "completed": "selesai ditindaklanjuti",
    "closed": "ditutup",
    "returned": "dikembalikan karena di luar kewenangan instansi, sedang dialihkan",
    "archived": "diarsipkan",
}


class ReplyTemplates:
    """Jinja2 text templates: the admin's directory first, the packaged defaults after."""

    def __init__(self, override_dir: str | Path | None = None) -> None:
        loaders: list[jinja2.BaseLoader] = []
        if override_dir:
            loaders.append(jinja2.FileSystemLoader(str(override_dir)))
        loaders.append(jinja2.FileSystemLoader(str(DEFAULT_TEMPLATES)))
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders), undefined=jinja2.StrictUndefined,
            keep_trailing_newline=False, autoescape=False)  # noqa: S701

    def render(self, name: str, variant: str | None = None, **context: Any) -> str:
        """One message, whitespace tidied; `name.variant.txt` (e.g. `ack.sms.txt`) first.

        A variant is a channel kind (sms, email, telegram...): short texts for SMS, fuller
        ones for email. Lines keep their breaks; spaces inside a line and runs of blank lines
        are folded.
        """
        names = [f"{name}.{variant}.txt", f"{name}.txt"] if variant else [f"{name}.txt"]
        text = self.env.select_template(names).render(**context)
        lines = [" ".join(line.split()) for line in text.strip().splitlines()]
        tidy: list[str] = []
        for line in lines:
            if line or (tidy and tidy[-1]):
                tidy.append(line)
        return "\n".join(tidy).strip()

    def check(self) -> None:
        """Render every template once with sample values: a broken edit fails at start."""
        sample = {"tracking_id": "LPR0000000", "agency": "contoh", "agency_name": "Contoh",
                  "kind": "pengaduan", "status": "verified", "status_label": "diverifikasi",
                  "note": None, "text": "contoh"}
        for name in ("ack", "status", "response"):
            self.render(name, **sample)


class ReplyQueue:
    """Queues replies for a report's channel."""

    def __init__(self, templates: ReplyTemplates, agency_names: Mapping[str, str],
                 can_reply: Callable[[str, Mapping[str, str]], bool],
                 channel_kinds: Mapping[str, str] | None = None) -> None:
        self.templates = templates
        self.agency_names = dict(agency_names)
        self.can_reply = can_reply
        self.channel_kinds = dict(channel_kinds or {})

    def _context(self, report: Report, **extra: Any) -> dict[str, Any]:
        agency = extra.pop("agency", None) or report.agency
        return {"tracking_id": report.tracking_id, "kind": report.kind, "agency": agency,
                "agency_name": self.agency_names.get(agency, agency), **extra}

    def queue(self, session: Session, report: Report, event: str, template: str,
              **extra: Any) -> ReplyItem | None:
        """Queue one reply unless this event was already queued for the report."""
        existing = session.scalar(select(ReplyItem).where(ReplyItem.report_id == report.id,
                                                          ReplyItem.event == event))
        if existing is not None:
            return None
        text = self.templates.render(template, self.channel_kinds.get(report.channel),
                                     **self._context(report, **extra))
        state = "pending" if self.can_reply(report.channel, report.reply_to or {}) else "manual"
        item = ReplyItem(id=str(ULID()), report_id=report.id, channel=report.channel,
                         event=event, text=text, state=state, next_attempt_at=utcnow())
        session.add(item)
        return item

    def acknowledge(self, session: Session, report: Report) -> ReplyItem | None:
        """The acknowledgement with the tracking id."""
        return self.queue(session, report, "ack", "ack")

    def status_changed(self, session: Session, report: Report, status: str, at: str,
                       agency: str | None, note: str | None) -> ReplyItem | None:
        """A status change told to the citizen."""
        return self.queue(session, report, f"status:{status}:{at}", "status", status=status,
                          status_label=STATUS_LABELS.get(status, status), agency=agency,
                          note=note)

    def agency_response(self, session: Session, report: Report, response_id: str,
                        agency: str | None, text: str) -> ReplyItem | None:
        """An agency's answer relayed to the citizen."""
        return self.queue(session, report, f"response:{response_id}", "response",
                          agency=agency, text=text)
