"""A small local X API v2 server for tests and the bench, answering in the documented shapes.

It serves the mentions timeline (newest first, `since_id`/`start_time`, `pagination_token`,
`meta.newest_id`/`oldest_id`/`next_token`, only the newest 800 mentions), DM events (newest
first, 30 days), `users/me`, post and DM creation, and media files; every answer carries the
`x-rate-limit-*` headers. Faults are set per endpoint: a 429 with reset headers, the 403
`client-not-enrolled` problem, or a page that waits for the test (to kill a process there).
Items are built from the payload files in `payloads/` (see its README).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

PAYLOADS = Path(__file__).parent / "payloads"
ACCOUNT_ID = "800000000000000001"
REACH = 800
LIMIT = 450


def payload(name: str) -> Any:
    """One payload file, parsed."""
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


@dataclass
class Fault:
    """What an endpoint answers instead of its data, `times` times (None: until cleared)."""

    status: int
    body: Any
    times: int | None = None
    reset_in: float = 900.0


@dataclass
class FakeX:
    """The server's state; tests add mentions and DMs and read what was posted."""

    posts: list[dict[str, Any]] = field(default_factory=list)
    dms: list[dict[str, Any]] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    places: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    sent_posts: list[dict[str, Any]] = field(default_factory=list)
    sent_dms: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, list[str]], str]] = field(default_factory=list)
    faults: dict[str, Fault] = field(default_factory=dict)
    hold: dict[str, threading.Event] = field(default_factory=dict)  # endpoint:n -> released
    calls: dict[str, int] = field(default_factory=dict)
    base_url: str = ""
    _next_id: int = 1800000000000010000
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_id(self) -> str:
        with self.lock:
            self._next_id += 1
            return str(self._next_id)

    def user(self, ident: str, username: str, name: str) -> None:
        self.users[ident] = {"id": ident, "username": username, "name": name}

    def add_mention(
        self, text: str, author: str = "900000000000000001", **extra: Any
    ) -> dict[str, Any]:
        """A mention shaped like the documented page's first post."""
        post = copy.deepcopy(payload("mentions_page.json")["data"][0])
        for key in ("attachments", "entities", "geo"):
            post.pop(key, None)
        ident = extra.pop("id", None) or self.new_id()
        post.update(
            id=ident,
            text=text,
            author_id=author,
            conversation_id=ident,
            edit_history_tweet_ids=[ident],
            created_at=extra.pop("created_at", _now()),
        )
        post.update(extra)
        self.users.setdefault(author, {"id": author, "username": f"u{author[-4:]}", "name": "W"})
        with self.lock:
            self.posts.append(post)
        return post

    def add_dm(self, text: str, sender: str = "900000000000000002", **extra: Any) -> dict[str, Any]:
        """A DM event shaped like the documented page's first event."""
        event = copy.deepcopy(payload("dm_events_page.json")["data"][0])
        event.pop("attachments", None)
        event.update(
            id=extra.pop("id", None) or self.new_id(),
            text=text,
            sender_id=sender,
            created_at=extra.pop("created_at", _now()),
            dm_conversation_id=f"{ACCOUNT_ID}-{sender}",
        )
        event.update(extra)
        self.users.setdefault(sender, {"id": sender, "username": f"u{sender[-4:]}", "name": "P"})
        with self.lock:
            self.dms.append(event)
        return event

    def add_photo(self, key: str, content: bytes, name: str = "foto.jpg") -> str:
        """A photo served by this server; returns its URL."""
        url = f"{self.base_url}/media/{name}"
        self.files[f"/media/{name}"] = content
        self.media[key] = {"media_key": key, "type": "photo", "url": url}
        return url

    # --- answers --------------------------------------------------------------------

    def mentions(self, query: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            served = sorted(self.posts, key=lambda p: int(p["id"]), reverse=True)[:REACH]
        since = int(query.get("since_id", "0") or 0)
        items = [p for p in served if int(p["id"]) > since]
        if query.get("start_time"):
            items = [p for p in items if p["created_at"] >= query["start_time"]]
        page = _page(items, query)
        if not page["data"]:
            return {"meta": {"result_count": 0}}
        page["includes"] = self._includes(page["data"], "author_id")
        return page

    def dm_events(self, query: dict[str, str]) -> dict[str, Any]:
        edge = (dt.datetime.now(dt.UTC) - dt.timedelta(days=30)).isoformat()
        with self.lock:
            items = sorted(self.dms, key=lambda e: int(e["id"]), reverse=True)
        items = [e for e in items if e["created_at"] >= edge[:19]]
        page = _page(items, query)
        if not page["data"]:
            return {"meta": {"result_count": 0}}
        page["includes"] = self._includes(page["data"], "sender_id")
        return page

    def _includes(self, items: list[dict[str, Any]], who: str) -> dict[str, Any]:
        users = {i[who] for i in items}
        keys = [k for i in items for k in (i.get("attachments") or {}).get("media_keys", [])]
        places = {(i.get("geo") or {}).get("place_id") for i in items} - {None}
        out: dict[str, Any] = {"users": [self.users[u] for u in sorted(users) if u in self.users]}
        if keys:
            out["media"] = [self.media[k] for k in keys if k in self.media]
        if places:
            out["places"] = [self.places[p] for p in places if p in self.places]
        return out

    def create_post(self, body: dict[str, Any]) -> tuple[int, Any]:
        if any(p["text"] == body.get("text") for p in self.sent_posts):
            return 403, payload("error_403_duplicate.json")
        ident = self.new_id()
        self.sent_posts.append({"id": ident, **body})
        return 201, {
            "data": {"id": ident, "text": body.get("text"), "edit_history_tweet_ids": [ident]}
        }

    def create_dm(self, participant: str, body: dict[str, Any]) -> tuple[int, Any]:
        ident = self.new_id()
        self.sent_dms.append({"id": ident, "to": participant, **body})
        answer = payload("create_dm.json")
        answer["data"].update(dm_event_id=ident, dm_conversation_id=f"{ACCOUNT_ID}-{participant}")
        return 201, answer


def _page(items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    """One page of a newest-first list; the token names the id the next page starts below."""
    size = int(query.get("max_results", "10") or 10)
    below = query.get("pagination_token")
    if below:
        items = [i for i in items if int(i["id"]) < int(below, 36)]
    data = items[:size]
    meta: dict[str, Any] = {"result_count": len(data)}
    if data:
        meta.update(newest_id=data[0]["id"], oldest_id=data[-1]["id"])
    if len(items) > size:
        meta["next_token"] = _base36(int(data[-1]["id"]))
    return {"data": data, "meta": meta}


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


ROUTES = [
    ("GET", re.compile(r"^/2/users/me$"), "users_me"),
    ("GET", re.compile(r"^/2/users/(?P<id>\d+)/mentions$"), "mentions"),
    ("GET", re.compile(r"^/2/dm_events$"), "dm_events"),
    ("POST", re.compile(r"^/2/tweets$"), "tweets"),
    ("POST", re.compile(r"^/2/dm_conversations/with/(?P<id>\d+)/messages$"), "dm_send"),
]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def _route(self, method: str) -> None:
        x = self.server.x
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}") if length else {}
        auth = self.headers.get("Authorization", "")
        x.requests.append((method, parts.path, parse_qs(parts.query), auth))
        if parts.path in x.files:
            return self._send(200, x.files[parts.path], "image/jpeg")
        found = [(n, p.match(parts.path)) for v, p, n in ROUTES if v == method]
        routed = [(n, m) for n, m in found if m]
        if not routed:
            return self._json(404, {"title": "Not Found Error", "status": 404})
        name, match = routed[0]
        if not auth.startswith("OAuth ") or 'oauth_consumer_key="' not in auth:
            return self._json(401, {"title": "Unauthorized", "status": 401})
        with x.lock:
            x.calls[name] = x.calls.get(name, 0) + 1
            number = x.calls[name]
        gate = x.hold.get(f"{name}:{number}")
        if gate is not None:
            gate.wait(60)
        fault = x.faults.get(name)
        if fault is not None and fault.times != 0:
            if fault.times is not None:
                fault.times -= 1
            return self._json(fault.status, fault.body, remaining=0, reset_in=fault.reset_in)
        if name == "users_me":
            return self._json(200, payload("users_me.json"))
        if name == "mentions":
            return self._json(200, x.mentions(query))
        if name == "dm_events":
            return self._json(200, x.dm_events(query))
        if name == "tweets":
            return self._json(*x.create_post(body))
        assert match is not None
        return self._json(*x.create_dm(match.group("id"), body))

    def _json(
        self, status: int, data: Any, remaining: int = LIMIT - 1, reset_in: float = 900
    ) -> None:
        headers = {
            "x-rate-limit-limit": str(LIMIT),
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(int(time.time() + reset_in)),
        }
        kind = "application/problem+json" if status >= 400 else "application/json"
        self._send(status, json.dumps(data).encode(), f"{kind}; charset=utf-8", headers)

    def _send(
        self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, x: FakeX) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.x = x


def serve(x: FakeX | None = None) -> Iterator[FakeX]:
    """Run a fake X on a free loopback port until the generator is closed."""
    x = x or FakeX()
    server = _Server(x)
    x.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield x
    finally:
        server.shutdown()
        server.server_close()
