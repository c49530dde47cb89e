"""The Account Activity webhook: CRC answer, signature check, v1.1 events read as v2 shapes.

X proves a webhook URL with a `GET ?crc_token=...`, answered by `{"response_token":
"sha256=<base64 HMAC-SHA256(consumer secret, crc_token)>"}`, and signs every `POST` with
`x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(consumer secret, raw body)>`.
Events come in the v1.1 object format; they are rewritten into the v2 shapes the poller
reads so that one reader (`convert.py`) serves both ways in.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any


def crc_response(consumer_secret: str, crc_token: str) -> dict[str, str]:
    """The JSON body that answers X's challenge-response check."""
    return {"response_token": signature(consumer_secret, crc_token.encode("utf-8"))}


def signature(consumer_secret: str, data: bytes) -> str:
    """`sha256=` and the base64 HMAC-SHA256 of `data` keyed by the consumer secret."""
    digest = hmac.new(consumer_secret.encode("utf-8"), data, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode("ascii")


def valid_signature(consumer_secret: str, body: bytes, header: str | None) -> bool:
    """Whether the header signs exactly this body (constant-time)."""
    return bool(header) and hmac.compare_digest(
        signature(consumer_secret, body), str(header).strip()
    )


def post_from_v1(status: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A v1.1 status -> (v2 post, v2 includes)."""
    user = status.get("user") or {}
    ext = status.get("extended_tweet") or {}
    text = ext.get("full_text") or status.get("full_text") or status.get("text") or ""
    media_objects = ((ext.get("extended_entities") or status.get("extended_entities")) or {}).get(
        "media"
    ) or []
    post: dict[str, Any] = {
        "id": str(status.get("id_str") or status.get("id") or ""),
        "text": text,
        "author_id": str(user.get("id_str") or user.get("id") or ""),
        "created_at": _v1_time(status.get("created_at")),
    }
    refs = []
    if status.get("in_reply_to_status_id_str"):
        refs.append({"type": "replied_to", "id": status["in_reply_to_status_id_str"]})
    if status.get("retweeted_status"):
        refs.append({"type": "retweeted", "id": str(status["retweeted_status"].get("id_str"))})
    if refs:
        post["referenced_tweets"] = refs
    media = [_media_from_v1(m) for m in media_objects if isinstance(m, dict)]
    if media:
        post["attachments"] = {"media_keys": [m["media_key"] for m in media]}
        post["entities"] = {
            "urls": [
                {"url": m.get("url"), "media_key": k["media_key"]}
                for m, k in zip(media_objects, media, strict=False)
            ]
        }
    geo: dict[str, Any] = {}
    if isinstance(status.get("coordinates"), dict):
        geo["coordinates"] = status["coordinates"]
    place = status.get("place") or {}
    if place.get("id"):
        geo["place_id"] = place["id"]
    if geo:
        post["geo"] = geo
    includes: dict[str, Any] = {"users": [_user_from_v1(user)]}
    if media:
        includes["media"] = media
    if place.get("id"):
        includes["places"] = [{"id": place["id"], "full_name": place.get("full_name", "")}]
    return post, includes


def dm_from_v1(
    event: Mapping[str, Any], users: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A v1.1 `message_create` event -> (v2 DM event, v2 includes)."""
    create = event.get("message_create") or {}
    data = create.get("message_data") or {}
    sender = str(create.get("sender_id") or "")
    try:
        millis = int(event.get("created_timestamp") or 0)
    except (TypeError, ValueError):
        millis = 0
    created = dt.datetime.fromtimestamp(millis / 1000, dt.UTC) if millis else None
    out: dict[str, Any] = {
        "id": str(event.get("id") or ""),
        "event_type": "MessageCreate" if event.get("type") == "message_create" else "other",
        "text": data.get("text") or "",
        "sender_id": sender,
        "created_at": created.isoformat().replace("+00:00", "Z") if created else "",
    }
    includes: dict[str, Any] = {}
    media = (data.get("attachment") or {}).get("media")
    if isinstance(media, dict):
        item = _media_from_v1(media)
        out["attachments"] = {"media_keys": [item["media_key"]]}
        includes["media"] = [item]
    if sender in users and isinstance(users[sender], dict):
        includes["users"] = [_user_from_v1(users[sender])]
    return out, includes


def _user_from_v1(user: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": str(user.get("id_str") or user.get("id") or ""),
        "username": user.get("screen_name") or "",
        "name": user.get("name") or "",
    }


def _media_from_v1(media: Mapping[str, Any]) -> dict[str, Any]:
    kind = media.get("type") or "photo"
    return {
        "media_key": f"{3 if kind == 'photo' else 7}_{media.get('id_str') or media.get('id')}",
        "type": kind,
        "url": media.get("media_url_https") or media.get("media_url"),
    }


def _v1_time(value: Any) -> str:
    """`Wed Oct 10 20:19:24 +0000 2018` -> ISO 8601 (empty when unreadable)."""
    try:
        moment = dt.datetime.strptime(str(value), "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(str(value))
        except (TypeError, ValueError):
            return ""
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
