"""Email address checks compared on a table of odd addresses (run by hand, record in RESULTS.md).

Compares, on the same table, the hand-written check the normalizer used until issue 8.7
(`parseaddr`, then "a local part, an @, a domain with a dot") with `parse_email`, which wraps
`email-validator` (syntax only, no DNS). Each row says what a pemda admin would want: the
address to answer at, or no address (`None`). The table is made of what web forms, SMS
templates and letters typed in really carry: missing top-level domains, spaces and line breaks
pasted with the address, header injection attempts, two addresses in one field, commas for
dots, a phone number or a dash in the email field, internationalised and punycode domains,
display-name forms and `mailto:` links. Prints each miss, the score of each check and the time
per address.

    .venv/bin/python bench/email_addresses.py
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from email.utils import parseaddr
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from normalizer.email_address import EmailRejected, parse_email

# (what was typed, the address to keep or None)
TABLE: list[tuple[str, str | None]] = [
    ("budi@contoh.id", "budi@contoh.id"),
    ("Budi.Santoso@Contoh.GO.ID", "Budi.Santoso@contoh.go.id"),
    ("budi+aduan@gmail.com", "budi+aduan@gmail.com"),
    ("  budi@contoh.id  ", "budi@contoh.id"),
    ("mailto:budi@contoh.id", "budi@contoh.id"),
    ("Budi Santoso <budi@contoh.id>", "budi@contoh.id"),
    ("budi@sub.desa.contoh.id", "budi@sub.desa.contoh.id"),
    ("budi@münchen.de", "budi@münchen.de"),
    ("budi@xn--mnchen-3ya.de", "budi@münchen.de"),
    ("o'brien@contoh.id", "o'brien@contoh.id"),
    ("agus.salim@contoh", None),  # the example: no top-level domain
    ("budi@localhost", None),
    ("budi@contoh.id\r\nBcc: x@evil.example", None),  # header injection
    ("budi@contoh.id\nani@contoh.id", None),
    ("budi @contoh.id", None),  # a space pasted inside
    ("budi@contoh .id", None),
    ("Budi Santoso budi@contoh.id", None),  # name and address without brackets
    ("budi@contoh.id, ani@contoh.id", None),  # two addresses: which one?
    ("budi@contoh.id;ani@contoh.id", None),
    ("budi@gmail,com", None),  # comma for a dot
    ("budi@gmail..com", None),
    ("budi.@contoh.id", None),
    (".budi@contoh.id", None),
    ("budi..santoso@contoh.id", None),
    ("budi@-contoh.id", None),
    ("budi@contoh_desa.id", None),
    ("budi@contoh.123", None),  # numeric top-level domain
    ("budi@[127.0.0.1]", None),  # an IP literal: not a citizen's mailbox
    ("budi@contoh.id.", None),
    ("budi@@contoh.id", None),
    ("budi(at)contoh.id", None),
    ("budi@contoh.test", None),  # special-use domain
    ("budi@contoh.invalid", None),
    ('"budi santoso"@contoh.id', None),
    ("budi@xn--zz.id", None),  # broken punycode
    ("-", None),  # "nothing" in a required form field
    ("tidak ada", None),
    ("081234567890", None),  # a phone number in the email field
    ("budi@contoh.id>", None),
    ("<budi@contoh.id", None),
    ("".join(chr(ord(c) + 0xFEE0) for c in "budi@contoh.id"), None),  # full-width (IME)
]


def hand_written(value: str) -> str | None:
    """The normalizer's check until issue 8.7 (clean to one line, parseaddr, split at @)."""
    value = " ".join(value.split())
    if value.lower().startswith("mailto:"):
        value = value[len("mailto:") :]
    value = parseaddr(value)[1] or value
    local, _, domain = value.rpartition("@")
    labels = domain.split(".")
    if not local or "@" in local or " " in value or len(labels) < 2 or not all(labels):
        return None
    return f"{local}@{domain.lower()}"


def email_validator_based(value: str) -> str | None:
    """`normalizer.email_address.parse_email`, None when it refuses."""
    try:
        return parse_email(value)
    except EmailRejected:
        return None


def score(name: str, check: Callable[[str], str | None]) -> None:
    """Print each miss, the number right and the time per address."""
    right = 0
    for value, expected in TABLE:
        got = check(value)
        if got == expected:
            right += 1
        else:
            print(f"  {name}: {value!r} -> {got!r}, want {expected!r}")
    rounds = 200
    start = time.perf_counter()
    for _ in range(rounds):
        for value, _expected in TABLE:
            check(value)
    per_call = (time.perf_counter() - start) / (rounds * len(TABLE)) * 1e6
    print(f"{name}: {right}/{len(TABLE)} right, {per_call:.1f} µs per address")


def main() -> None:
    """Score both checks on the table."""
    score("hand-written", hand_written)
    score("email-validator", email_validator_based)


if __name__ == "__main__":
    main()
