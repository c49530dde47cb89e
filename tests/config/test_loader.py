"""Config loading: every problem reported at once, with its path and line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.registry import known_types
from config.loader import ConfigError, parse_config
from gateway.cli import main

ROOT = Path(__file__).resolve().parents[2]

GOOD = textwrap.dedent("""\
    gateway: {database: "sqlite:///data/g.db"}
    central: {url: sandbox, token: "${CENTRAL_TOKEN}"}
    agencies:
      - {code: nasional, name: Nasional}
      - {code: dinas, name: Dinas, parent: nasional}
    routing:
      default: nasional
      rules:
        - {when: {keywords: [jalan]}, agency: dinas}
    channels:
      - {name: web, type: webform, secret: "${WEB_SECRET}"}
      - {name: surat, type: letter}
    """)
ENV = {"CENTRAL_TOKEN": "t", "WEB_SECRET": "s"}


def issues_of(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "gw.yaml", ENV if env is None else env)
    return [str(i) for i in info.value.issues]


def test_good_config_loads() -> None:
    config = parse_config(GOOD, "gw.yaml", ENV)
    assert [c.name for c in config.channels] == ["web", "surat"]
    assert config.model.central.uses_sandbox
    assert config.agency_parents == {"nasional": None, "dinas": "nasional"}


BAD_CASES = [
    (
        "missing env var is named",
        GOOD,
        {"WEB_SECRET": "s"},
        ["central.token: environment variable CENTRAL_TOKEN is not set (gw.yaml:2)"],
    ),
    ("unknown top-level key", GOOD + "extra: 1\n", None, ["extra: unknown key (gw.yaml:13)"]),
    (
        "unknown channel type lists known ones",
        GOOD.replace("type: letter", "type: pigeon"),
        None,
        [
            "channels[1].type: unknown channel type 'pigeon'; known types: "
            + ", ".join(sorted(known_types()))
        ],
    ),
    (
        "unknown key in a channel",
        GOOD.replace("type: letter}", "type: letter, colour: red}"),
        None,
        ["channels[1].colour: unknown key (gw.yaml:12)"],
    ),
    (
        "secret written in clear",
        GOOD.replace('secret: "${WEB_SECRET}"', "secret: hunter2"),
        None,
        ["channels[0].secret: secrets must come from the environment"],
    ),
    (
        "duplicate channel names",
        GOOD.replace("name: surat", "name: web"),
        None,
        ["channels[1].name: channel name 'web' is already used by channels[0] (gw.yaml:12)"],
    ),
    (
        "routing to an unknown agency",
        GOOD.replace("agency: dinas}", "agency: dinsos}"),
        None,
        ["routing.rules[0].agency: unknown agency 'dinsos'"],
    ),
    (
        "unknown parent",
        GOOD.replace("parent: nasional", "parent: pusat"),
        None,
        ["agencies[1].parent: unknown agency 'pusat'"],
    ),
    (
        "bad duration",
        GOOD + "forwarder: {interval: soon}\n",
        None,
        ["forwarder.interval: expected a duration such as 10s, 5m or 1h, got 'soon' (gw.yaml:13)"],
    ),
    ("duplicate key", GOOD + "routing: {default: nasional}\n", None, ["routing: duplicate key"]),
    ("not yaml", "gateway: [unclosed\n", None, ["not valid YAML"]),
    (
        "missing sections",
        "gateway: {}\n",
        None,
        ["central: field required (gw.yaml", "agencies: field required", "routing: field required"],
    ),
]


@pytest.mark.parametrize(
    ("text", "env", "expected"), [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES]
)
def test_bad_config_reports_path_and_line(
    text: str, env: dict[str, str] | None, expected: list[str]
) -> None:
    found = issues_of(text, env)
    for fragment in expected:
        assert any(fragment in issue for issue in found), (fragment, found)


def test_every_problem_reported_at_once() -> None:
    text = (
        GOOD.replace("type: letter", "type: pigeon").replace("agency: dinas}", "agency: dinsos}")
    ) + "extra: 1\n"
    found = issues_of(text, {"WEB_SECRET": "s"})
    assert len(found) >= 4, found


def test_demo_config_is_valid() -> None:
    result = CliRunner().invoke(main, ["config", "check", str(ROOT / "config" / "demo.yaml")])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


def test_config_check_exits_1_with_messages(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("type: letter", "type: pigeon"), encoding="utf-8")
    result = CliRunner(env={"CENTRAL_TOKEN": "t", "WEB_SECRET": "s"}).invoke(
        main, ["config", "check", str(bad)]
    )
    assert result.exit_code == 1
    assert "channels[1].type: unknown channel type 'pigeon'" in result.output
    assert "bad.yaml:12" in result.output


def test_config_check_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["config", "check", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "cannot read file" in result.output


@pytest.mark.parametrize(
    "text",
    [
        "a: &x [*x]\n",
        "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
        "\x1f",
        "key: !!python/name:os.system ''\n",
    ],
    ids=["alias loop", "billion laughs", "control character", "python tag"],
)
def test_hostile_yaml_is_a_config_error(text: str) -> None:
    found = issues_of(text)
    assert len(found) == 1 and "not valid YAML" in found[0]
