"""WhatsApp Cloud API notifications for tests, in the documented shape of `payloads/wa_text.json`.

`message(...)` builds one `messages[]` item (text, a reply button, an image, a reply to one
of our messages through `context`), `notification(...)` wraps items into one signed-ready
webhook body, and `status(...)` a `statuses[]` item (a delivery report of a reply we sent).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

from tests.adapters.harness import PushChannel
from tests.adapters.meta.fake_graph import (
    ACCESS_TOKEN,
    APP_SECRET,
    PAYLOADS,
    VERIFY_TOKEN,
    FakeGraph,
    forge,
    payload,
    sign,
)

WA_ID = "6281200000021"
NUMBER_ID = "106540352242922"
MEDIA_ID = "1003383421387256"  # the media id the fake Graph serves (payloads/wa_media_url.json)


def channel(graph: FakeGraph, options: str) -> PushChannel:
    """The `wa` channel pointed at a local Graph API, with more YAML `options` (k: v, ...)."""
    return PushChannel(
        name="wa",
        yaml=f"""\
  - {{name: wa, type: whatsapp_cloud, phone_number_id: "{NUMBER_ID}",
      app_secret: "${{META_APP_SECRET}}", verify_token: "${{META_VERIFY_TOKEN}}",
      access_token: "${{WA_TOKEN}}", graph_url: "{graph.url}", media_hosts: ["127.0.0.1"],
      {options}}}
""",
        env={
            "META_APP_SECRET": APP_SECRET,
            "META_VERIFY_TOKEN": VERIFY_TOKEN,
            "WA_TOKEN": ACCESS_TOKEN,
        },
        secrets=[APP_SECRET, VERIFY_TOKEN, ACCESS_TOKEN],
        payload_dir=PAYLOADS,
        sign=sign,
        forge=forge,
    )


def message(
    ident: str,
    *,
    text: str | None = None,
    button: tuple[str, str] | None = None,
    image: str | None = None,
    context: str | None = None,
    at: dt.datetime | None = None,
    wa_id: str = WA_ID,
) -> dict[str, Any]:
    """One citizen message: `text`, a reply `button` (id, title) or an `image` caption."""
    when = at or dt.datetime.now(dt.UTC)
    item: dict[str, Any] = {
        "from": wa_id,
        "id": f"wamid.{ident}",
        "timestamp": str(int(when.timestamp())),
    }
    if button is not None:
        item["type"] = "interactive"
        item["interactive"] = {
            "type": "button_reply",
            "button_reply": {"id": button[0], "title": button[1]},
        }
    elif image is not None:
        item["type"] = "image"
        item["image"] = {
            "caption": image,
            "mime_type": "image/jpeg",
            "sha256": "HgkXlFuG3wfJ5xBbL9aVc0kYkE4Qm0w2kCk1N8Q6Ar0=",
            "id": MEDIA_ID,
        }
    else:
        item["type"] = "text"
        item["text"] = {"body": text or ""}
    if context is not None:
        item["context"] = {"from": "621708", "id": context}
    return item


def status(
    provider_id: str, state: str, *, error: int | None = None, wa_id: str = WA_ID
) -> dict[str, Any]:
    """A status of a reply we sent; `error` is a Cloud API error code (131047: window closed)."""
    item: dict[str, Any] = {
        "id": provider_id,
        "status": state,
        "timestamp": str(int(dt.datetime.now(dt.UTC).timestamp())),
        "recipient_id": wa_id,
    }
    if error is not None:
        titles = {131047: "Re-engagement message"}
        item["errors"] = [{"code": error, "title": titles.get(error, "Error"), "message": "test"}]
    return item


def notification(
    messages: list[dict[str, Any]] | None = None, statuses: list[dict[str, Any]] | None = None
) -> bytes:
    """One webhook body holding the messages (and statuses), with the documented envelope."""
    data = copy.deepcopy(payload("wa_text.json"))
    value = data["entry"][0]["changes"][0]["value"]
    value["messages"] = list(messages or [])
    if not value["messages"]:
        del value["messages"], value["contacts"]
    if statuses:
        value["statuses"] = list(statuses)
    return json.dumps(data).encode()
