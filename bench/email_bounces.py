"""Bounce detection on real-world bounces: our detector beside flufl.bounce (run by hand).

Reads every `.eml` under the given folders (default: the 186 messages checked in at
`tests/adapters/email/bounces/`; pass the `maildir/` of a sisimai/set-of-emails checkout
for all of it) and labels each by sisimai's file names: `lhost-*`, `rhost-*`, `rfc3464-*`,
`make-test-*` are delivery failures, `rfc3834-*` auto-replies, `arf-*` feedback reports,
files under `not/` (or named `not-*`; but `rb-issue-368-bug`, a postmaster's notice kept
there for a Sisimai bug, is a bounce) and the bounces a person forwarded
(`lhost-sendmail-14`, `make-test-36`) are not bounces. The citizens' messages of
`tests/adapters/email/payloads/` are added as more mail that must not be taken for a bounce.

For each detector it prints how many delivery failures it recognises as bounces, how many
of all machine messages it would hold (ours: any hold reason; flufl.bounce has no notion
of holding, so its figure is the same as its bounce figure), how many citizens' messages
it takes for a bounce, and the time per message.

flufl.bounce (GNU Mailman's bounce detectors) answers "which recipients failed"; a message
counts as a bounce for it when `all_failures` names at least one address, temporary or
permanent. It is not a dependency of the gateway: `pip install flufl.bounce` to compare.

    .venv/bin/python bench/email_bounces.py [FOLDER ...]
"""

from __future__ import annotations

import datetime as dt
import email
import importlib.util
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.email.mime import MimeLimits, parse_email

ROOT = Path(__file__).resolve().parent.parent
AT = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
DEFAULT = [ROOT / "tests" / "adapters" / "email" / "bounces"]
PAYLOADS = ROOT / "tests" / "adapters" / "email" / "payloads"
MACHINE_PAYLOADS = {
    "auto_reply_outlook.eml",
    "vacation_auto_submitted.eml",
    "bounce_dsn.eml",
    "mailing_list.eml",
    "empty_body.eml",  # nothing typed: held as `empty`, not a question for a bounce detector
}
PEOPLE = {"lhost-sendmail-14.eml", "make-test-36.eml"}  # bounces forwarded by a person


def label(path: Path) -> str:
    """`bounce`, `auto_reply`, `feedback` or `person`, from sisimai's naming."""
    name = path.name
    if name == "rb-issue-368-bug.eml":
        return "bounce"  # in not/ for a Sisimai bug; it is a postmaster's "Mailbox full" notice
    if path.parent.name == "not" or name.startswith("not-") or name in PEOPLE:
        return "person"
    bare = name.split("-", 1)[1] if name.startswith(("mac-", "dos-")) else name
    if bare.startswith("rfc3834-"):
        return "auto_reply"
    if bare.startswith("arf-"):
        return "feedback"
    return "bounce"


def corpus(folders: list[Path]) -> list[tuple[str, bytes]]:
    """(label, raw bytes) of every message, citizens' payloads included."""
    items = [
        (label(p), p.read_bytes()) for folder in folders for p in sorted(folder.rglob("*.eml"))
    ]
    items += [
        ("person", p.read_bytes())
        for p in sorted(PAYLOADS.glob("*.eml"))
        if p.name not in MACHINE_PAYLOADS
    ]
    return items


def ours(raw: bytes) -> str | None:
    """The gateway's hold reason (None: a report)."""
    return parse_email(raw, AT, MimeLimits()).hold


def flufl_bounce(raw: bytes) -> str | None:
    """`bounce` when flufl.bounce names a failed recipient, else None."""
    from flufl.bounce import all_failures

    logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)  # its detectors' tracebacks

    message = email.message_from_bytes(raw)
    try:
        temporary, permanent = all_failures(message)
    except Exception:  # a detector that raises has not found a bounce
        return None
    return "bounce" if temporary or permanent else None


def score(name: str, detect: Callable[[bytes], str | None], items: list[tuple[str, bytes]]) -> None:
    """Print the figures of one detector."""
    start = time.perf_counter()
    results = [(kind, detect(raw)) for kind, raw in items]
    per_message = (time.perf_counter() - start) / len(items) * 1e3
    bounces = [got for kind, got in results if kind == "bounce"]
    machine = [got for kind, got in results if kind != "person"]
    people = [got for kind, got in results if kind == "person"]
    print(
        f"{name}: bounces recognised {sum(g == 'bounce' for g in bounces)}/{len(bounces)},"
        f" held {sum(g is not None for g in bounces)}/{len(bounces)};"
        f" machine mail held {sum(g is not None for g in machine)}/{len(machine)};"
        f" citizens' mail taken for a bounce {sum(g == 'bounce' for g in people)}/{len(people)},"
        f" held {sum(g is not None for g in people)}/{len(people)};"
        f" {per_message:.2f} ms per message"
    )


def main() -> None:
    """Score ours, and flufl.bounce when it is installed."""
    folders = [Path(a) for a in sys.argv[1:]] or DEFAULT
    items = corpus(folders)
    print(f"{len(items)} messages from {', '.join(str(f) for f in folders)} and {PAYLOADS}")
    score("ours", ours, items)
    if importlib.util.find_spec("flufl.bounce") is None:
        print("flufl.bounce: not installed (pip install flufl.bounce to compare)")
        return
    score("flufl.bounce", flufl_bounce, items)


if __name__ == "__main__":
    main()
