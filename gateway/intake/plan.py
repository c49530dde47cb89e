"""Phase one of intake, before any transaction: read, check and normalize each message.

Everything that can be wrong with one message is found here, so a bad message fails its own
caller alone (HTTP 400, input kept) and never the group-commit batch it would have joined:
values that a column could not hold, times that cannot be expressed in UTC, text with NUL
characters, and whatever the normalizer refuses.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from adapters.base import Adapter
from forwarder.routing import RouteDecision, Router, RoutingFacts
from gateway.links import FileLinks
from normalizer.pipeline import NormalizedMessage, NormalizerSettings, normalize_draft
from normalizer.report import Attachment
from store.files import AttachmentStore
from store.jsonsafe import unstorable_text
from vocabulary.drafts import AttachmentData, MessageDraft, RawMessage
from vocabulary.errors import PayloadInvalid

# Column limits of the keys a message is stored under (store.models).
MAX_EXTERNAL_ID = 255
# The oldest and newest times a message may claim. A source's clock may be off by years (an
# old legacy row, a phone reset to 1980): those are kept. A year-1 or year-9999 time is not
# a clock, it is a broken or hostile value that no timeline or SLA clock can use.
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST_AHEAD = dt.timedelta(days=366)


class Action(StrEnum):
    """What the writer does with a planned message."""

    REPORT = "report"
    QUARANTINE = "quarantine"
    QUERY = "query"
    FOLLOWUP = "followup"


@dataclass
class Plan:
    """One message, read and checked, waiting for its place in a transaction."""

    message: RawMessage
    action: Action
    fingerprint: str | None = None
    normalized: NormalizedMessage | None = None
    attachments: list[Attachment] = field(default_factory=list)
    route: RouteDecision | None = None  # decided here, outside the transaction


def check_storable(message: RawMessage) -> None:
    """Raise PayloadInvalid naming the field when the message could not be stored as it is."""
    ext = message.external_id
    if not ext or len(ext) > MAX_EXTERNAL_ID:
        raise PayloadInvalid(
            f"isian `external_id` harus 1 sampai {MAX_EXTERNAL_ID} karakter,"
            f" yang diterima {len(ext or '')}",
            field="external_id",
        )
    if unstorable_text(ext) or any(ord(c) < 32 for c in ext):
        raise PayloadInvalid("isian `external_id` memuat karakter kendali", field="external_id")
    _check_time(message.received_at, "received_at")
    _check_time(message.draft.received_at, "received_at")
    for name, value in _draft_texts(message.draft):
        if unstorable_text(value):
            raise PayloadInvalid(
                f"isian `{name}` memuat karakter NUL atau karakter yang tidak sah", field=name
            )


def _check_time(value: dt.datetime, name: str) -> None:
    try:
        utc = value.astimezone(dt.UTC) if value.tzinfo else None
    except (OverflowError, ValueError):
        utc = None
    if utc is None:
        raise PayloadInvalid(f"isian `{name}` bukan waktu yang sah dengan zona", field=name)
    if not EARLIEST <= utc <= dt.datetime.now(dt.UTC) + LATEST_AHEAD:
        raise PayloadInvalid(
            f"isian `{name}` di luar rentang waktu ({utc.date().isoformat()})", field=name
        )


def _draft_texts(draft: MessageDraft) -> list[tuple[str, str]]:
    """Every piece of text in a draft with the field it sits in."""
    found: list[tuple[str, str]] = []

    def walk(name: str, value: Any) -> None:
        if isinstance(value, str):
            found.append((name, value))
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(name, key)
                walk(name, item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(name, item)
        elif isinstance(value, AttachmentData):
            walk(name, value.filename)
            walk(name, value.content_type)

    for item in dataclasses.fields(draft):
        walk(item.name, getattr(draft, item.name))
    return found


class Planner:
    """Turns raw messages into plans: checks, normalization, attachments kept by hash."""

    def __init__(
        self,
        settings_for: Callable[[Adapter[Any]], NormalizerSettings],
        attachments: AttachmentStore,
        links: FileLinks | None = None,
        router: Router | None = None,
        defer_models: bool = False,
    ) -> None:
        self._settings_for = settings_for
        self.attachments = attachments
        self.links = links
        self.router = router
        # The models decide after the commit (forwarder.model_pass): intake reads by the rules.
        self.defer_models = defer_models

    def settings_with_models(self, adapter: Adapter[Any]) -> NormalizerSettings:
        """How this adapter's messages are normalized once the models have read them."""
        return self._settings_for(adapter)

    def settings_for(self, adapter: Adapter[Any]) -> NormalizerSettings:
        """How this adapter's messages are normalized at intake."""
        settings = self._settings_for(adapter)
        if self.defer_models and settings.learned_kinds is not None:
            return dataclasses.replace(settings, learned_kinds=None)
        return settings

    def decide_route(self, adapter: Adapter[Any], normalized: NormalizedMessage) -> RouteDecision:
        """The routing of a new report (the rules alone when the models decide later)."""
        assert self.router is not None
        return decide_route(self.router, adapter, normalized, models=not self.defer_models)

    def plan(
        self,
        adapter: Adapter[Any],
        message: RawMessage,
        *,
        fingerprint: str | None = None,
        ignore_hold: bool = False,
    ) -> Plan:
        """The plan for one message; raises PayloadInvalid when it cannot be used."""
        draft = message.draft
        if message.problem is not None:
            raise message.problem
        check_storable(message)
        if message.hold and not ignore_hold:
            plan = Plan(message, Action.QUARANTINE, fingerprint)
        elif draft.status_query:
            return Plan(message, Action.QUERY, fingerprint)
        else:
            action = Action.FOLLOWUP if (draft.in_reply_to or draft.thread_refs) else Action.REPORT
            normalized = normalize_draft(draft, self.settings_for(adapter))
            plan = Plan(message, action, fingerprint, normalized)
            if self.router is not None:
                plan.route = self.decide_route(adapter, normalized)
        plan.attachments = [self.keep_attachment(a) for a in draft.attachments]
        return plan

    def keep_attachment(self, data: AttachmentData) -> Attachment:
        """Keep the file by its hash; the central gets a signed link to it."""
        sha256 = self.attachments.put(data.content)
        url = self.links.url_for(sha256, data.filename, data.content_type) if self.links else None
        return Attachment(
            filename=data.filename,
            content_type=data.content_type,
            size=len(data.content),
            sha256=sha256,
            url=url,
        )


def decide_route(
    router: Router, adapter: Adapter[Any], normalized: NormalizedMessage, *, models: bool = True
) -> RouteDecision:
    """The routing of a new report (decided before the writer's transaction)."""
    return router.decide(
        RoutingFacts(
            text=f"{normalized.title}\n{normalized.body}",
            kind=normalized.kind,
            channel=adapter.name,
            category=normalized.category,
            region=normalized.location.region_code if normalized.location else None,
        ),
        models=models,
    )
