"""Property test: any text given as a config ends in a Config or a ConfigError, nothing else."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from config.errors import ConfigError
from config.loader import parse_config
from tests.config.test_loader import GOOD

BROKEN = [
    "  - {",
    "]]",
    "${X",
    "channels: 3",
    "  - {name: a, type: webform}",
    "\t",
    ": :",
    "agencies: {}",
    "&a [*a]",
    "!!python/object",
]
fragments = st.sampled_from([*GOOD.splitlines(), *BROKEN])


@settings(max_examples=300)
@given(st.lists(fragments, max_size=20))
def test_line_soup(lines: list[str]) -> None:
    try:
        parse_config("\n".join(lines), "fuzz.yaml", {"CENTRAL_TOKEN": "central-token-0123"})
    except ConfigError as exc:
        assert exc.issues and all(str(i) for i in exc.issues)


@settings(max_examples=200)
@given(st.text(max_size=300))
def test_arbitrary_text(text: str) -> None:
    try:
        parse_config(text, "fuzz.yaml", {})
    except ConfigError as exc:
        assert exc.issues
