"""When each citizen last wrote on a channel: what reopens a provider's reply window.

WhatsApp (and Messenger, Instagram) let a business answer freely only within 24 hours of the
citizen's last message. That message may be anything: a new report, a follow-up, a status
question, a turn of the guided conversation. The intake notes the time of every message on
such a channel in the transaction that stores it; the reply sender reads it back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, cast

from sqlalchemy import Connection, Table, case, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from store.models import ChannelContact

Key = tuple[str, str]  # (channel, recipient hash)


def note_contacts(conn: Connection, seen: Mapping[Key, dt.datetime]) -> None:
    """Record the latest message time per (channel, recipient); an older time never wins.

    One statement for the batch, in key order (two writers lock rows in the same order).
    """
    if not seen:
        return
    table = cast(Table, ChannelContact.__table__)
    values: list[dict[str, Any]] = [
        {"channel": channel, "recipient": recipient, "last_inbound_at": seen[(channel, recipient)]}
        for channel, recipient in sorted(seen)
    ]
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table)
    newer = statement.excluded.last_inbound_at > table.c.last_inbound_at
    upsert = statement.on_conflict_do_update(
        index_elements=[table.c.channel, table.c.recipient],
        set_={
            "last_inbound_at": case(
                (newer, statement.excluded.last_inbound_at), else_=table.c.last_inbound_at
            )
        },
    )
    conn.execute(upsert, values)  # executemany: compiled once, cached across batches


def last_contacts(session: Session, keys: Iterable[Key]) -> dict[Key, dt.datetime]:
    """The last message time of each (channel, recipient) asked about that has one."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = session.execute(
        select(
            ChannelContact.channel, ChannelContact.recipient, ChannelContact.last_inbound_at
        ).where(tuple_(ChannelContact.channel, ChannelContact.recipient).in_(wanted))
    )
    return {(str(c), str(r)): at for c, r, at in rows}
