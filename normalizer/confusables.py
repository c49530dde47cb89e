"""Fold look-alike characters to the Latin letters they imitate, for keyword matching only.

`kоrupsi` written with a Cyrillic `о`, `ｋｏｒｕｐｓｉ`, `ko\u200brupsi` with an invisible space,
`ᴋᴏʀᴜᴘꜱɪ` or `k̶o̶r̶u̶p̶s̶i̶` must still be whistleblowing. `fold_table()` is a `str.translate`
table, applied before and after NFKD (which turns full-width, mathematical and circled
letters into plain ones, but also a few listed look-alikes into a space and a mark) and
before case folding, that

- maps every character Unicode lists as confusable with a Latin letter or digit (UTS #39
  `confusables.txt`, as shipped and kept current by the `confusable-homoglyphs` package) to
  that letter, lower-case: `о`→`o`, `κ`→`k`, `ı`→`i`. It runs before case folding because
  case matters to the eye: Greek `Ν` imitates `N` while its lower case `ν` imitates `v`.
  Where the listed prototype is itself not Latin (Cyrillic `к` lists `ĸ`), the other case's
  prototype is used (`К`→`K`);
- maps a Latin letter with a stroke, bar or hook, or a small capital, that UTS #39 does not
  list as one letter, to the letter its Unicode name says it is (`ʉ` LATIN SMALL LETTER U
  BAR → `u`, `ɴ` LATIN LETTER SMALL CAPITAL N → `n`, `ɱ` → `m` where UTS #39 lists `rn`),
  and the two Cyrillic letters that stand in for Latin ones in spam but that UTS #39 does
  not list (`п`→`n`, `г`→`r`);
- deletes combining marks (accents, strike-through and "zalgo" overlays) and the default
  ignorable characters (zero-width spaces and joiners, soft hyphen, bidi controls, variation
  selectors), which people do not see and keyword evaders insert;
- lower-cases A-Z (case folding comes after, for the rest).

Only characters outside ASCII are mapped: ordinary text, digits and amounts fold as before.

Building the table from the package's data takes about half a second, too long for every
process that classifies a message, so it is built ahead and shipped as `confusables.json`
(`make confusables` rebuilds it after a `confusable-homoglyphs` or Python upgrade; a test
fails while the shipped table differs from a fresh build). Loading it takes milliseconds and
the package is needed only to rebuild. The text that is stored and forwarded is never folded:
this is for matching only. `bench/confusables.py` measures the table against a hand-written
one on mixed-script evasions.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from functools import cache
from itertools import groupby
from pathlib import Path
from typing import Any, Final

TABLE_PATH: Final = Path(__file__).with_name("confusables.json")
# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties) beyond the Cf category, which
# the table deletes as a whole: combining grapheme joiner, Hangul fillers, Khmer inherent
# vowels, Mongolian variation selectors, variation selectors, tags.
_IGNORABLE_RANGES: Final = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xE0000, 0xE0FFF),
)
# Planes with the letters people use (the supplementary ones hold CJK ideographs only).
_SCANNED: Final = range(0x80, 0x20000)
_DEPTH: Final = 3
# "LATIN SMALL LETTER U BAR", "LATIN SMALL LETTER H WITH STROKE", "LATIN LETTER SMALL CAPITAL N"
_LATIN_NAME: Final = re.compile(
    r"LATIN (?:SMALL |CAPITAL )?LETTER (?:SMALL CAPITAL )?([A-Z])(?: BAR| WITH [A-Z ]+)?"
)
_SPAM_CYRILLIC: Final = {"\u043f": "n", "\u0433": "r", "\u041f": "n", "\u0413": "r"}


@cache
def fold_table() -> dict[int, str | None]:
    """The translate table described in the module docstring (read once from the JSON)."""
    shipped = json.loads(TABLE_PATH.read_text(encoding="utf-8"))
    table: dict[int, str | None] = {}
    for first, last in shipped["delete"]:
        table.update(dict.fromkeys(range(first, last + 1)))
    table.update({ord(char): target for char, target in shipped["map"].items()})
    table.update({ord(c): c.lower() for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"})
    return table


def build_table() -> dict[str, Any]:
    """The shipped table, built from `confusable-homoglyphs` and this Python's Unicode data."""
    # Only a rebuild needs the package (a test extra): the gateway reads the shipped table.
    from confusable_homoglyphs import __version__  # noqa: PLC0415
    from confusable_homoglyphs.confusables import confusables_data  # noqa: PLC0415

    deleted = [
        codepoint
        for codepoint in _SCANNED
        if unicodedata.combining(chr(codepoint)) or unicodedata.category(chr(codepoint)) == "Cf"
    ]
    for first, last in _IGNORABLE_RANGES:
        deleted += range(first, last + 1)
    gone = set(deleted)
    # A Latin letter's name says which letter it is: "ɱ" is an m.
    named: dict[str, str] = {}
    for codepoint in _SCANNED:
        found = _LATIN_NAME.fullmatch(unicodedata.name(chr(codepoint), ""))
        if found and codepoint not in gone:
            named[chr(codepoint)] = found.group(1).lower()
    mapping: dict[str, str] = {}
    for char in sorted(set(confusables_data) | set(named) | set(_SPAM_CYRILLIC)):
        if len(char) != 1 or char.isascii() or ord(char) in gone:
            continue
        # How it looks (UTS #39) decides; then NFKD or its name, where they give one letter
        # and UTS #39 does not ("ʋ" looks like u; "ɱ" is an m, though UTS #39 lists "rn").
        looks = _latin(char, confusables_data)
        plain = _plain(char)  # NFKD's compatibility letter: "𝐦" is an m, not "rn"
        if looks and len(looks) == 1:
            target: str | None = looks
        elif len(plain) == 1 and plain.isascii() and plain.isalnum():
            target = plain
        else:
            target = named.get(char, looks) or _SPAM_CYRILLIC.get(char)
        if target:
            mapping[char] = target
    return {
        "source": f"confusable-homoglyphs {__version__}",
        "unicode": unicodedata.unidata_version,
        "delete": _ranges(sorted(gone)),
        "map": mapping,
    }


def _ranges(codepoints: list[int]) -> list[list[int]]:
    """Sorted code points as [first, last] runs."""
    runs = groupby(enumerate(codepoints), key=lambda pair: pair[1] - pair[0])
    return [[run[0][1], run[-1][1]] for run in (list(group) for _key, group in runs)]


def _latin(char: str, data: dict[str, list[dict[str, str]]]) -> str | None:
    """The lower-case ASCII letters or digits `char` imitates, if it imitates any."""
    return _prototype(char, data, _DEPTH)


def _prototype(char: str, data: dict[str, list[dict[str, str]]], depth: int) -> str | None:
    """Follow the listed look-alikes of `char` (its own, then its other case's) to ASCII."""
    forms = dict.fromkeys((char, char.lower(), char.upper()))
    candidates = [entry["c"] for form in forms for entry in data.get(form, ())]
    for candidate in candidates:
        plain = _plain(candidate)
        if plain.isascii() and plain.isalnum():
            return plain
    if depth > 1:
        for candidate in candidates:
            if len(candidate) == 1 and candidate not in forms and not candidate.isascii():
                found = _prototype(candidate, data, depth - 1)
                if found is not None:
                    return found
    return None


def _plain(text: str) -> str:
    """`text` case-folded and decomposed, without combining marks."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def main() -> None:
    """`python -m normalizer.confusables`: rebuild the shipped table (`make confusables`)."""
    table = build_table()
    # One mapping a line, so an upgrade reads as a diff of the characters that changed.
    lines = [
        "{",
        f'"source": {json.dumps(table["source"])},',
        f'"unicode": {json.dumps(table["unicode"])},',
        f'"delete": {json.dumps(table["delete"], separators=(",", ":"))},',
        '"map": {',
        ",\n".join(
            f"{json.dumps(char)}: {json.dumps(target)}" for char, target in table["map"].items()
        ),
        "}}",
    ]
    TABLE_PATH.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {TABLE_PATH}", file=sys.stderr)


if __name__ == "__main__":
    main()
