"""Print the share of mutants the tests killed, from `mutmut export-cicd-stats`.

`make mutation` runs this after `mutmut run`. The share counts as mutmut's own score does:
killed and timed-out mutants over all mutants but the skipped ones, so a mutant no selected
test reaches ("no tests") or that the tests let pass ("survived") counts against it. With
`--fail-under P` it exits 1 below P percent.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

STATS = Path("mutants") / "mutmut-cicd-stats.json"


def not_checked(stats: dict[str, int]) -> int:
    """Mutants an interrupted run has not tried yet (the export has no field for them)."""
    tried = ("killed", "survived", "no_tests", "skipped", "suspicious", "timeout", "segfault")
    done = sum(stats.get(key, 0) for key in (*tried, "check_was_interrupted_by_user"))
    return max(stats["total"] - done, 0)


def killed_share(stats: dict[str, int], *, checked_only: bool = False) -> float:
    """Killed (and timed-out) mutants as a percentage of all mutants, or of those tried."""
    tried = stats["total"] - stats.get("skipped", 0)
    if checked_only:
        tried -= not_checked(stats)
    caught = stats["killed"] + stats.get("timeout", 0)
    return 100.0 * caught / tried if tried else 0.0


def main(argv: list[str] | None = None) -> int:
    """Print the counts and the share; 1 when the share is under `--fail-under`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stats", nargs="?", type=Path, default=STATS)
    parser.add_argument("--fail-under", type=float, default=0.0)
    args = parser.parse_args(argv)
    try:
        stats = json.loads(args.stats.read_text(encoding="utf-8"))
    except FileNotFoundError:
        print(f"{args.stats} is missing: run `mutmut run` and `mutmut export-cicd-stats` first")
        return 2
    share, waiting = killed_share(stats), not_checked(stats)
    print(
        "mutants: {total} total, {killed} killed, {survived} survived, {timeout} timeout,"
        " {no_tests} without a test, {suspicious} suspicious, {skipped} skipped".format(**stats)
        + f", {waiting} not checked yet"
    )
    print(f"killed share: {share:.1f}%")
    if waiting:
        checked = killed_share(stats, checked_only=True)
        print(f"of the mutants checked so far: {checked:.1f}% (the run is not finished)")
    if share < args.fail_under:
        print(f"under the target of {args.fail_under:.0f}%")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
