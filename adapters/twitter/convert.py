"""X API v2 posts and DM events -> drafts (pure: no I/O, no clock).

A post that mentions the account becomes a report: its words without the leading
@mentions, the author's handle and name, its photos (fetched later by the adapter), its
place or exact coordinates. A reply in a thread carries the ids it answers as `thread_refs`,
so the intake makes it a follow-up when the thread is one of ours and the author the same.
Retweets and the account's own posts and messages are not citizens' messages: `None`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.sms.grammar import Grammar
from adapters.twitter.text import post_body
from vocabulary.drafts import MessageDraft, RawMessage
from vocabulary.errors import PayloadInvalid
from vocabulary.holds import HoldReason

MEDIA_ONLY_BODY = "[Pesan tanpa teks, berisi {n} lampiran media]"


@dataclass(frozen=True)
class Reader:
    """What reading needs to know: whose account this is and the channel's grammar."""

    account_id: str
    grammar: Grammar
    tracking: re.Pattern[str]


class Includes:
    """A page's `includes` (users, media, places, tweets) looked up by id."""

    def __init__(self, includes: Mapping[str, Any] | None) -> None:
        inc = includes or {}
        self.users = {u.get("id"): u for u in inc.get("users", []) if isinstance(u, dict)}
        self.media = {m.get("media_key"): m for m in inc.get("media", []) if isinstance(m, dict)}
        self.places = {p.get("id"): p for p in inc.get("places", []) if isinstance(p, dict)}

    def of(self, author: str | None, keys: list[str], place: str | None) -> dict[str, Any]:
        """The includes one item needs, kept in its raw record."""
        out: dict[str, Any] = {}
        if author in self.users:
            out["users"] = [self.users[author]]
        media = [self.media[k] for k in keys if k in self.media]
        if media:
            out["media"] = media
        if place in self.places:
            out["places"] = [self.places[place]]
        return out


def post_message(post: Mapping[str, Any], includes: Includes, reader: Reader) -> RawMessage | None:
    """One mention -> a message, or None for a retweet or the account's own post."""
    post_id, author = _id(post, "id"), str(post.get("author_id") or "")
    if not author:
        raise PayloadInvalid("unggahan tanpa `author_id`", field="author_id")
    refs = [r for r in post.get("referenced_tweets") or [] if isinstance(r, dict)]
    if author == reader.account_id or any(r.get("type") == "retweeted" for r in refs):
        return None
    keys = [str(k) for k in (post.get("attachments") or {}).get("media_keys") or []]
    geo = post.get("geo") or {}
    place_id = geo.get("place_id")
    included = includes.of(author, keys, place_id)
    media = _media(included)
    media_links = {
        str(u.get("url"))
        for u in (post.get("entities") or {}).get("urls") or []
        if isinstance(u, dict) and u.get("media_key")
    }
    text = post_body(str(post.get("text") or ""), media_links)
    user = included.get("users", [{}])[0]
    answered = [str(r.get("id")) for r in refs if r.get("type") == "replied_to" and r.get("id")]
    conversation = str(post.get("conversation_id") or "")
    draft = _draft(
        f"tweet:{post_id}",
        _created(post),
        text,
        len(media),
        reader,
        {"via": "tweet", "tweet_id": post_id, "user_id": author},
    )
    draft.handle = f"@{user['username']}" if user.get("username") else None
    draft.name = user.get("name") or None
    draft.thread_refs = [f"tweet:{i}" for i in answered]
    if answered and conversation and conversation != post_id:
        draft.thread_refs.append(f"tweet:{conversation}")
    _place(draft, geo, included)
    raw: dict[str, Any] = {"source": "x_api_v2", "timeline": "mentions", "post": dict(post)}
    raw.update(includes=included, media=media)
    return RawMessage(draft.external_id, draft.received_at, raw, draft, hold=_hold(text, media))


def dm_message(event: Mapping[str, Any], includes: Includes, reader: Reader) -> RawMessage | None:
    """One DM event -> a message, or None for our own messages and non-message events."""
    event_id = _id(event, "id")
    sender = str(event.get("sender_id") or "")
    if event.get("event_type", "MessageCreate") != "MessageCreate" or not sender:
        return None
    if sender == reader.account_id:
        return None
    keys = [str(k) for k in (event.get("attachments") or {}).get("media_keys") or []]
    included = includes.of(sender, keys, None)
    media = _media(included)
    text = post_body(str(event.get("text") or ""), set())
    reply_to = {"via": "dm", "user_id": sender}
    if event.get("dm_conversation_id"):
        reply_to["conversation_id"] = str(event["dm_conversation_id"])
    draft = _draft(f"dm:{event_id}", _created(event), text, len(media), reader, reply_to)
    user = included.get("users", [{}])[0]
    draft.handle = f"@{user['username']}" if user.get("username") else None
    draft.name = user.get("name") or None
    raw: dict[str, Any] = {"source": "x_api_v2", "timeline": "dms", "event": dict(event)}
    raw.update(includes=included, media=media)
    return RawMessage(draft.external_id, draft.received_at, raw, draft, hold=_hold(text, media))


def _draft(
    external_id: str,
    received_at: dt.datetime,
    text: str,
    media: int,
    reader: Reader,
    reply_to: dict[str, str],
) -> MessageDraft:
    parsed = reader.grammar.parse(text) if text else None
    body = parsed.body if parsed else text
    if not body.strip() and media:
        body = MEDIA_ONLY_BODY.format(n=media)
    draft = MessageDraft(external_id=external_id, received_at=received_at, body=body)
    draft.reply_to = reply_to
    if parsed is not None:
        draft.status_query = parsed.status_query
        draft.in_reply_to = parsed.in_reply_to
        if draft.in_reply_to is None and not draft.status_query:
            found = reader.tracking.search(text)
            draft.in_reply_to = found.group(0).upper() if found else None
    return draft


def _media(included: Mapping[str, Any]) -> list[dict[str, str]]:
    """Attachable files: photos by `url`, videos and GIFs by their preview image."""
    out = []
    for item in included.get("media", []):
        url = item.get("url") or item.get("preview_image_url")
        if url:
            out.append(
                {"key": str(item.get("media_key")), "type": str(item.get("type")), "url": url}
            )
    return out


def _place(draft: MessageDraft, geo: Mapping[str, Any], included: Mapping[str, Any]) -> None:
    """Exact coordinates when the author shared them; otherwise the tagged place's name."""
    point = geo.get("coordinates") or {}
    coords = point.get("coordinates") if isinstance(point, dict) else None
    if isinstance(coords, list) and len(coords) == 2:
        try:
            lon, lat = float(coords[0]), float(coords[1])
        except (TypeError, ValueError):
            lon = lat = None  # type: ignore[assignment]
        if lat is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
            draft.lat, draft.lon = lat, lon
    places = included.get("places") or []
    if places:
        draft.location_text = places[0].get("full_name") or places[0].get("name")


def _hold(text: str, media: list[dict[str, str]]) -> HoldReason | None:
    return HoldReason.EMPTY if not text.strip() and not media else None


def _id(item: Mapping[str, Any], key: str) -> str:
    value = str(item.get(key) or "")
    if not value.isdigit():
        raise PayloadInvalid(f"isian `{key}` ({value[:40]!r}) bukan id X", field=key)
    return value


def _created(item: Mapping[str, Any]) -> dt.datetime:
    value = str(item.get("created_at") or "")
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PayloadInvalid(
            f"isian `created_at` ({value[:40]!r}) bukan waktu yang sah", field="created_at"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
