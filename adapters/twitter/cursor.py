"""Where the channel stands in its two timelines, kept as the poll cursor (JSON text).

X returns both timelines newest first, a page at a time. A walk reads from the top down to
where the last one ended (`since_id`); only when it has reached that point does the top of
the walk become the new `since_id`. Until then the cursor keeps the pagination token of the
next page, so a walk cut short (rate limit, crash, shutdown) continues where it stopped
instead of starting over, and nothing below the walk's top is ever skipped.

The runner stores the cursor with the messages it follows, in one transaction.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Timeline:
    """One timeline's position (mentions or direct messages)."""

    since_id: str | None = None  # everything up to this id is stored
    since_at: str | None = None  # when that item was created (the DM window check)
    token: str | None = None  # the next page of an unfinished walk
    top_id: str | None = None  # the newest id of the unfinished walk
    top_at: str | None = None
    seen: int = 0  # items read so far in the unfinished walk

    @property
    def walking(self) -> bool:
        """Whether a walk was cut short and continues at `token`."""
        return self.token is not None

    def finished(self) -> Timeline:
        """The walk reached `since_id`: its top is the new starting point."""
        if self.top_id is None:
            return Timeline(self.since_id, self.since_at)
        return Timeline(self.top_id, self.top_at)

    def next_page(self, token: str, seen: int) -> Timeline:
        """The walk goes on at `token`."""
        return replace(self, token=token, seen=seen)

    def started(self, top_id: str | None, top_at: str | None) -> Timeline:
        """A new walk from the top (a walk already under way keeps its top)."""
        if self.walking or top_id is None:
            return self
        if self.since_id is not None and int(top_id) <= int(self.since_id):
            return self
        return replace(self, top_id=top_id, top_at=top_at, seen=0)

    def restarted(self) -> Timeline:
        """Forget an unfinished walk (its token expired): read again from the top."""
        return Timeline(self.since_id, self.since_at)


@dataclass(frozen=True)
class Cursor:
    """Both timelines; `dumps` is what the poll runner stores."""

    mentions: Timeline = field(default_factory=Timeline)
    dms: Timeline = field(default_factory=Timeline)

    def dumps(self) -> str:
        """Compact JSON, empty fields left out."""
        data = {
            name: {k: v for k, v in asdict(getattr(self, name)).items() if v not in (None, 0)}
            for name in ("mentions", "dms")
        }
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str | None) -> Cursor:
        """The cursor a poll starts from; an unreadable one starts afresh (repeats are known)."""
        if not text:
            return cls()
        try:
            data = json.loads(text)
            return cls(_timeline(data.get("mentions")), _timeline(data.get("dms")))
        except (ValueError, TypeError, AttributeError):
            return cls()

    def with_timeline(self, name: str, timeline: Timeline) -> Cursor:
        """This cursor with one timeline moved."""
        return replace(self, **{name: timeline})


def _timeline(data: Any) -> Timeline:
    if not data:
        return Timeline()
    known = {k: data[k] for k in Timeline.__dataclass_fields__ if k in data}
    timeline = Timeline(**known)
    for ident in (timeline.since_id, timeline.top_id):
        if ident is not None and not str(ident).isdigit():
            raise ValueError("not an X id")
    return timeline
