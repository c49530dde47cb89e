"""Attachments reach the central as signed, expiring links served by the gateway."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from typing import Any
from urllib.parse import urlsplit

from store.models import Report
from tests.conftest import GatewayHarness
from tests.helpers import validate_reports
from vocabulary.drafts import AttachmentData, MessageDraft, RawMessage

PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


def with_photo(gateway: GatewayHarness) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    draft = MessageDraft(
        external_id="a-1",
        received_at=now,
        body="Foto jalan berlubang terlampir.",
        attachments=[AttachmentData("jalan rusak.png", "image/png", PHOTO)],
    )
    (outcome,) = gateway.runtime.intake.accept(
        gateway.runtime.adapters["web"], [RawMessage("a-1", now, {}, draft)]
    )
    gateway.drain()
    (report,) = [r for r in gateway.rows(Report) if r.id == outcome.report_id]
    return dict(report.payload)


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_attachment_link_serves_the_file_until_it_expires(gateway: GatewayHarness) -> None:
    payload = with_photo(gateway)
    validate_reports([payload])
    (attachment,) = payload["attachments"]
    sha = hashlib.sha256(PHOTO).hexdigest()
    assert attachment["sha256"] == sha and attachment["size"] == len(PHOTO)
    assert attachment["url"].startswith(f"http://127.0.0.1:8000/files/{sha}?")
    response = gateway.client.get(local(attachment["url"]))
    assert response.status_code == 200 and response.data == PHOTO
    assert response.content_type == "image/png"
    assert "jalan%20rusak.png" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    tampered = local(attachment["url"]).replace("type=image%2Fpng", "type=text%2Fhtml")
    assert gateway.client.get(tampered).status_code == 403
    links = gateway.runtime.links
    old = links.url_for(sha, "jalan rusak.png", "image/png", now=time.time() - links.ttl - 5)
    expired = gateway.client.get(local(old))
    assert expired.status_code == 403 and expired.get_json()["error"]["message"] == "link expired"
    missing = links.url_for("0" * 64, "x.png", "image/png")
    assert gateway.client.get(local(missing)).status_code == 404
    assert gateway.client.get(f"/files/{sha}").status_code == 403
