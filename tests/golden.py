"""Golden reports: a recorded payload through adapter, normalizer and router, as canonical JSON.

The JSON is compared with a checked-in file, so any change in what a channel makes of a real
payload shows up as a diff in review. Regenerate on purpose with `SP4N_UPDATE_GOLDEN=1`.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from adapters.base import Adapter
from config.loader import Config
from forwarder.routing import Router, RoutingFacts
from normalizer.pipeline import NormalizerSettings, build_report, normalize_draft
from normalizer.report import Attachment, ChannelRef
from tests.helpers import validate_reports
from vocabulary.drafts import RawMessage

GOLDEN_ID = "01GOLDEN00000000000000000R"


def canonical_report(adapter: Adapter, message: RawMessage, config: Config) -> dict[str, Any]:
    """The report the gateway would forward for this message (fixed id)."""
    model = config.model
    settings = NormalizerSettings(
        region=model.normalizer.region,
        kinds=model.normalizer.kinds,
        default_kind=adapter.options.kind,
    )
    normalized = normalize_draft(message.draft, settings)
    routing = Router(model.routing, config.agency_parents).route(
        RoutingFacts(
            text=f"{normalized.title}\n{normalized.body}",
            kind=normalized.kind,
            channel=adapter.name,
            category=normalized.category,
            region=normalized.location.region_code if normalized.location else None,
        )
    )
    attachments = [
        Attachment(
            filename=a.filename,
            content_type=a.content_type,
            size=len(a.content),
            sha256=hashlib.sha256(a.content).hexdigest(),
        )
        for a in message.draft.attachments
    ]
    report = build_report(
        normalized,
        report_id=GOLDEN_ID,
        channel=ChannelRef(name=adapter.name, type=adapter.type),
        external_id=message.external_id,
        received_at=message.received_at,
        routing=routing,
        attachments=attachments,
    )
    wire = report.to_wire()
    validate_reports([wire])
    return {"report": wire, "notes": normalized.notes, "hold": message.hold}


def check_golden(path: Path, actual: dict[str, Any]) -> None:
    """Compare with the checked-in file (or write it when SP4N_UPDATE_GOLDEN=1)."""
    text = json.dumps(actual, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if os.environ.get("SP4N_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path.name}: run with SP4N_UPDATE_GOLDEN=1"
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert actual == expected, f"{path.name} differs; if intended, SP4N_UPDATE_GOLDEN=1"
