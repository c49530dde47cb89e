"""Times as people read them: in the configured zone (WIB by default), Indonesian month names.

Everything is stored in UTC; only what an admin or a citizen reads passes through here.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import cache

from vocabulary.dates import MONTHS

__all__ = ["MONTHS", "format_local", "to_local"]


@cache
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def to_local(value: dt.datetime, zone: str) -> dt.datetime:
    """An aware UTC time in the named zone (a naive one is taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(_zone(zone))


def format_local(value: dt.datetime | None, zone: str, *, seconds: bool = False) -> str:
    """`30 Nov 2026 22:25 WIB`; an empty string for no time."""
    if value is None:
        return ""
    local = to_local(value, zone)
    clock = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    return f"{local.day:02d} {MONTHS[local.month - 1]} {local.year} {clock} {local.tzname()}"
