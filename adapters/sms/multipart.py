"""Reassembling long SMS from their parts (pure): group by sender and concatenation reference.

Parts arrive in any order and a part can be lost. A group whose parts are all there is a
message; a group still missing a part waits until its oldest part is `wait` old, then goes
as it is, marked incomplete. Groups already handed out (recorded in the poll cursor) are
formed again exactly as before, so a message repeated after a crash keeps its external id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from adapters.sms.gsm import Concat, parse_udh

GAP = "[...]"


@dataclass(frozen=True)
class Part:
    """One stored SMS (a Gammu inbox row) as the assembler sees it."""

    id: int
    sender: str
    received_at: dt.datetime
    text: str
    udh: str = ""

    @property
    def concat(self) -> Concat | None:
        """The part's concatenation element, if it is part of a long SMS."""
        return parse_udh(self.udh)


@dataclass(frozen=True)
class Assembled:
    """One message made of one or more parts, in sequence order."""

    parts: tuple[Part, ...]
    total: int

    @property
    def ids(self) -> tuple[int, ...]:
        """The parts' ids, ascending (the external id is made of them)."""
        return tuple(sorted(p.id for p in self.parts))

    @property
    def complete(self) -> bool:
        """Whether every part 1..total is there."""
        return len(self.parts) == self.total

    @property
    def received_at(self) -> dt.datetime:
        """When the first part arrived."""
        return min(p.received_at for p in self.parts)

    def text(self) -> str:
        """The parts' texts joined as they are; `[...]` where parts are missing."""
        out = ""
        expected = 1
        for part in self.parts:
            seq = _seq(part)
            text = part.text
            if seq > expected:
                out, text = out.rstrip() + f" {GAP} ", text.lstrip()
            out += text
            expected = seq + 1
        if expected <= self.total:
            out = out.rstrip() + f" {GAP}"
        return out.strip()

    def missing(self) -> list[int]:
        """The sequence numbers not received."""
        have = {p.concat.seq if p.concat else 1 for p in self.parts}
        return [n for n in range(1, self.total + 1) if n not in have]


def _seq(part: Part) -> int:
    concat = part.concat
    return concat.seq if concat else 1


def assemble(
    parts: Iterable[Part], known: Sequence[Sequence[int]], now: dt.datetime, wait: dt.timedelta
) -> list[Assembled]:
    """The messages ready to hand out, oldest first.

    `known` are groups handed out before (by part id): they are formed again as they were,
    so long as all their parts are still there. Other parts are grouped by (sender,
    reference, total); a part whose sequence number a group already has opens a new group
    (the 8-bit reference wraps after 256 long messages).
    """
    by_id = {p.id: p for p in parts}
    ready: list[Assembled] = []
    for ids in known:
        if ids and all(i in by_id for i in ids):
            group = sorted((by_id.pop(i) for i in ids), key=_seq)
            first = group[0].concat
            ready.append(Assembled(tuple(group), first.total if first else 1))
    open_groups: dict[tuple[str, int, int, int], list[list[Part]]] = {}
    for part in sorted(by_id.values(), key=lambda p: p.id):
        concat = part.concat
        if concat is None or concat.total == 1:
            ready.append(Assembled((part,), 1))
            continue
        key = (part.sender, concat.ref_bits, concat.ref, concat.total)
        groups = open_groups.setdefault(key, [])
        target = next((g for g in groups if all(_seq(p) != concat.seq for p in g)), None)
        if target is None:
            groups.append([part])
        else:
            target.append(part)
    for (_sender, _bits, _ref, total), groups in open_groups.items():
        for group in groups:
            message = Assembled(tuple(sorted(group, key=_seq)), total)
            if message.complete or now - message.received_at >= wait:
                ready.append(message)
    return sorted(ready, key=lambda m: m.ids[0])
