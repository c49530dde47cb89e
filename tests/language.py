"""What "in Bahasa Indonesia" means for a reason an admin or a citizen reads (issue 11 item 8).

A rejection reason (a `PayloadInvalid` message: stored on the rejected row, shown on the
repair page and the dashboard, answered in a 400 body) is written in Indonesian. What it
quotes is not prose and is skipped: field and parameter names in backticks, values quoted
by `repr` ('…' or "…"), and the name of an exception class in parentheses.
"""

from __future__ import annotations

import re

# Common English words of error messages; none is an Indonesian word.
ENGLISH_WORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "already",
        "are",
        "at",
        "be",
        "between",
        "body",
        "by",
        "cannot",
        "column",
        "contains",
        "could",
        "date",
        "details",
        "different",
        "does",
        "empty",
        "expected",
        "field",
        "fields",
        "for",
        "from",
        "got",
        "has",
        "have",
        "holds",
        "in",
        "incomplete",
        "invalid",
        "is",
        "it",
        "its",
        "letter",
        "line",
        "malformed",
        "message",
        "missing",
        "more",
        "must",
        "needs",
        "no",
        "not",
        "number",
        "object",
        "of",
        "only",
        "or",
        "out",
        "range",
        "request",
        "required",
        "should",
        "text",
        "than",
        "that",
        "the",
        "this",
        "time",
        "to",
        "unknown",
        "unreadable",
        "unsupported",
        "used",
        "valid",
        "was",
        "with",
        "without",
        "yes",
    }
)

_QUOTED = re.compile(r"`[^`]*`|'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\([A-Z][A-Za-z]+\)")
_WORD = re.compile(r"[A-Za-z]+")


def english_words(reason: str) -> list[str]:
    """The English words in `reason`, outside what it quotes."""
    prose = _QUOTED.sub(" ", reason)
    return [w for w in _WORD.findall(prose) if w.lower() in ENGLISH_WORDS]


def assert_indonesian(reason: str) -> None:
    """Fail when a reason meant for people reads as English."""
    assert reason.strip(), "a reason must say something"
    found = english_words(reason)
    assert not found, f"English in a reason people read: {reason!r} ({', '.join(found)})"
