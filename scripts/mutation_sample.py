"""A mutation score from a uniform random sample of the mutants, with its 95% interval.

A whole mutation pass over `forwarder/` and `gateway/intake/` takes hours on two cores, and
mutmut runs the fastest mutants first, so an interrupted pass is not a fair sample. This
draws one that is, reproducibly, and scores it:

    mutmut results --all true > results.txt           # every mutant, checked or not
    python scripts/mutation_sample.py draw results.txt --size 800 --seed 2026 > sample.txt
    mutmut run $(python scripts/mutation_sample.py todo results.txt sample.txt)
    mutmut results --all true > results.txt
    python scripts/mutation_sample.py score results.txt sample.txt

`score` counts as `mutation_score.py` does (killed and timed-out over all but skipped) and
gives the Wilson 95% interval of that share for the whole set; while some sampled mutants
are unchecked it prints the share among those checked and the bounds the rest could move
it to.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections import Counter
from pathlib import Path

CAUGHT = ("killed", "timeout")
NOT_COUNTED = ("skipped",)
UNCHECKED = "not checked"


def read_results(path: Path) -> dict[str, str]:
    """Mutant name -> status, from the text of `mutmut results --all true`."""
    statuses: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and name:
            statuses[name] = status.strip()
    return statuses


def draw(statuses: dict[str, str], size: int, seed: int) -> list[str]:
    """A uniform sample of `size` mutant names, the same for the same seed and mutants."""
    names = sorted(statuses)
    sampler = random.Random(seed)  # noqa: S311 -- a reproducible sample, not a secret
    return sorted(sampler.sample(names, min(size, len(names))))


def wilson(caught: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95% by default)."""
    if total == 0:
        return 0.0, 1.0
    share = caught / total
    centre = (share + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(share * (1 - share) / total + z * z / (4 * total * total))
    half /= 1 + z * z / total
    return max(0.0, centre - half), min(1.0, centre + half)


def score(statuses: dict[str, str], sample: list[str]) -> list[str]:
    """Lines describing the sample's killed share (see the module docstring)."""
    counts = Counter(statuses.get(name, "missing") for name in sample)
    counted = sum(n for status, n in counts.items() if status not in NOT_COUNTED)
    unchecked = counts[UNCHECKED] + counts["missing"]
    checked = counted - unchecked
    caught = sum(counts[status] for status in CAUGHT)
    lines = [
        f"sample: {len(sample)} mutants; "
        + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    ]
    if checked:
        low, high = wilson(caught, checked)
        lines.append(
            f"killed share of the {checked} checked: {100 * caught / checked:.1f}%"
            f" (95% interval {100 * low:.1f}% to {100 * high:.1f}%)"
        )
    if unchecked:
        lines.append(
            f"with the {unchecked} unchecked all survivors or all killed:"
            f" {100 * caught / counted:.1f}% to {100 * (caught + unchecked) / counted:.1f}%"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    """`draw`, `todo` or `score` (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    drawing = sub.add_parser("draw")
    drawing.add_argument("results", type=Path)
    drawing.add_argument("--size", type=int, default=800)
    drawing.add_argument("--seed", type=int, default=2026)
    for name in ("todo", "score"):
        command = sub.add_parser(name)
        command.add_argument("results", type=Path)
        command.add_argument("sample", type=Path)
    args = parser.parse_args(argv)
    statuses = read_results(args.results)
    if args.command == "draw":
        print("\n".join(draw(statuses, args.size, args.seed)))
        return 0
    sample = args.sample.read_text(encoding="utf-8").split()
    if args.command == "todo":
        print("\n".join(name for name in sample if statuses.get(name, UNCHECKED) == UNCHECKED))
        return 0
    print("\n".join(score(statuses, sample)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
