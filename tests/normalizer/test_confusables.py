"""Look-alike letters cannot hide a keyword (issue 8.11): a property test over every keyword
and every character Unicode lists as a look-alike of a Latin letter, plus the shipped table
checked against a fresh build from `confusable-homoglyphs`."""

from __future__ import annotations

import json
import string
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from normalizer.classify import KindKeywords, classify_kind, keyword_matches
from normalizer.confusables import TABLE_PATH, build_table

confusables = pytest.importorskip("confusable_homoglyphs.confusables")


@cache
def look_alikes() -> dict[str, list[str]]:
    """For each ASCII lower-case letter, the characters UTS #39 lists as that letter alone
    (independently of the shipped table: straight from the package's data)."""
    found: dict[str, list[str]] = {letter: [] for letter in string.ascii_lowercase}
    for char, entries in confusables.confusables_data.items():
        targets = {entry["c"] for entry in entries}
        if len(char) == 1 and not char.isascii() and len(targets) == 1:
            (target,) = targets
            if target in found:
                found[target].append(char)
    return {letter: sorted(chars) for letter, chars in found.items() if chars}


INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u00ad", "\u2060", "\ufeff", "\ufe0f"]
MARKS = ["\u0301", "\u0336", "\u0338", "\u0317", "\u0353"]
KEYWORDS = sorted(
    {k for kind in ("whistleblowing", "aspirasi", "permintaan_informasi")
     for k in getattr(KindKeywords(), kind)}
)  # fmt: skip


@st.composite
def evaded(draw: st.DrawFn) -> tuple[str, str]:
    """A keyword and the keyword with look-alikes, invisible characters and marks put in."""
    keyword = draw(st.sampled_from(KEYWORDS))
    table = look_alikes()
    out = []
    for ch in keyword:
        choice = draw(st.sampled_from(["keep", "upper", "look-alike", "invisible", "mark"]))
        if choice == "look-alike" and ch in table:
            out.append(draw(st.sampled_from(table[ch])))
        elif choice == "upper":
            out.append(ch.upper())
        elif choice == "invisible":
            out.append(ch + draw(st.sampled_from(INVISIBLE)))
        elif choice == "mark" and ch.isalpha():
            out.append(ch + draw(st.sampled_from(MARKS)))
        else:
            out.append(ch)
    return keyword, "".join(out)


@settings(max_examples=400, deadline=None)
@given(evaded(), st.sampled_from(["Ada {} di kantor desa.", "{}!!", "Laporan: ({})"]))
def test_look_alikes_in_any_keyword_still_match(pair: tuple[str, str], frame: str) -> None:
    keyword, written = pair
    assert keyword_matches(frame.format(written), [keyword]), (keyword, written)


@settings(max_examples=200, deadline=None)
@given(evaded())
def test_an_evaded_whistleblowing_keyword_is_whistleblowing(pair: tuple[str, str]) -> None:
    keyword, written = pair
    if keyword in KindKeywords().whistleblowing:
        assert classify_kind(f"Ada {written} di dinas", KindKeywords()) == "whistleblowing"


def test_the_shipped_table_is_a_fresh_build() -> None:
    """After upgrading confusable-homoglyphs or Python, run `make confusables`."""
    shipped = json.loads(TABLE_PATH.read_text(encoding="utf-8"))
    assert shipped == build_table(), "the shipped table is stale: run `make confusables`"
