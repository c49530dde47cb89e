"""Config loading: every problem reported at once, with its path and line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.registry import known_types
from config.errors import ConfigError
from config.loader import parse_config
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
ENV = {"CENTRAL_TOKEN": "central-token-0123", "WEB_SECRET": "web-secret-0123456789"}


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
        {"WEB_SECRET": "web-secret-0123456789"},
        ["central.token: variabel lingkungan CENTRAL_TOKEN belum diisi (gw.yaml:2)"],
    ),
    (
        "unknown top-level key",
        GOOD + "extra: 1\n",
        None,
        ["extra: kunci tidak dikenal (gw.yaml:13)"],
    ),
    (
        "unknown channel type lists known ones",
        GOOD.replace("type: letter", "type: pigeon"),
        None,
        [
            "channels[surat].type: jenis kanal 'pigeon' tidak dikenal; jenis yang ada: "
            + ", ".join(sorted(known_types()))
        ],
    ),
    (
        "unknown key in a channel",
        GOOD.replace("type: letter}", "type: letter, colour: red}"),
        None,
        ["channels[surat].colour: kunci tidak dikenal (gw.yaml:12)"],
    ),
    (
        "secret written in clear",
        GOOD.replace('secret: "${WEB_SECRET}"', "secret: hunter2"),
        None,
        ["channels[web].secret: rahasia harus diambil dari variabel lingkungan"],
    ),
    (
        "duplicate channel names",
        GOOD.replace("name: surat", "name: web"),
        None,
        ["channels[web].name: nama kanal 'web' sudah dipakai oleh channels[0] (gw.yaml:12)"],
    ),
    (
        "routing to an unknown agency",
        GOOD.replace("agency: dinas}", "agency: dinsos}"),
        None,
        ["routing.rules[0].agency: instansi 'dinsos' tidak dikenal"],
    ),
    (
        "unknown parent",
        GOOD.replace("parent: nasional", "parent: pusat"),
        None,
        ["agencies[1].parent: instansi 'pusat' tidak dikenal"],
    ),
    (
        "bad duration",
        GOOD + "forwarder: {interval: soon}\n",
        None,
        [
            "forwarder.interval: harus berupa durasi, misalnya 10s, 5m atau 1h,"
            " bukan 'soon' (gw.yaml:13)"
        ],
    ),
    ("duplicate key", GOOD + "routing: {default: nasional}\n", None, ["routing: kunci ganda"]),
    ("not yaml", "gateway: [unclosed\n", None, ["YAML tidak sah: kurung siku [ ] tidak ditutup"]),
    (
        "missing sections",
        "gateway: {}\n",
        None,
        ["central: wajib diisi (gw.yaml", "agencies: wajib diisi", "routing: wajib diisi"],
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
    result = CliRunner(env=ENV).invoke(main, ["config", "check", str(bad)])
    assert result.exit_code == 1
    assert "channels[surat].type: jenis kanal 'pigeon' tidak dikenal" in result.output
    assert "bad.yaml:12" in result.output


def test_config_check_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["config", "check", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "berkas tidak dapat dibaca" in result.output


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
    assert len(found) == 1 and "YAML tidak sah" in found[0]


SECRET_CASES = [
    (
        "empty secret variable",
        GOOD,
        {**ENV, "WEB_SECRET": ""},
        "channels[web].secret: rahasia kosong",
    ),
    (
        "short signing secret",
        GOOD,
        {**ENV, "WEB_SECRET": "short"},
        "channels[web].secret: rahasia terlalu pendek (5 karakter); minimal 16",
    ),
    ("empty central token", GOOD, {**ENV, "CENTRAL_TOKEN": "  "}, "central.token: rahasia kosong"),
    (
        "default for a secret outside the demo",
        GOOD.replace("${WEB_SECRET}", "${WEB_SECRET:-some-default-value-123}"),
        ENV,
        "channels[web].secret: nilai bawaan untuk rahasia (${WEB_SECRET:-...}) hanya boleh",
    ),
    (
        "database password written in the file",
        GOOD.replace("sqlite:///data/g.db", "postgresql://sp4n:hunter2@db/sp4n"),
        ENV,
        "gateway.database: kata sandi basis data tertulis langsung di berkas",
    ),
]


@pytest.mark.parametrize(
    ("text", "env", "expected"), [c[1:] for c in SECRET_CASES], ids=[c[0] for c in SECRET_CASES]
)
def test_weak_or_misplaced_secrets_are_refused(
    text: str, env: dict[str, str], expected: str
) -> None:
    found = issues_of(text, env)
    assert any(expected in issue for issue in found), found
    assert "hunter2" not in " ".join(found)


def test_database_password_from_the_environment_is_accepted() -> None:
    text = GOOD.replace("sqlite:///data/g.db", "postgresql://sp4n:${DB_PASSWORD}@db/sp4n")
    config = parse_config(text, "gw.yaml", {**ENV, "DB_PASSWORD": "hunter2"})
    assert config.model.gateway.database == "postgresql://sp4n:hunter2@db/sp4n"


def test_demo_config_may_default_a_secret_with_a_warning() -> None:
    text = GOOD.replace("gateway: {", "gateway: {demo: true, ").replace(
        "${WEB_SECRET}", "${WEB_SECRET:-demo-secret-0123456789}"
    )
    config = parse_config(text, "gw.yaml", {"CENTRAL_TOKEN": "central-token-0123"})
    assert [str(w) for w in config.warnings] == [
        "channels[web].secret: WEB_SECRET belum diisi; memakai nilai bawaan dalam berkas (hanya"
        " untuk demo, jangan di produksi) (gw.yaml:11)"
    ]


def test_push_channel_without_a_secret_is_warned_about_by_name(tmp_path: Path) -> None:
    text = GOOD.replace(', secret: "${WEB_SECRET}"', "")
    config = parse_config(text, "gw.yaml", ENV)
    (warning,) = config.warnings
    assert str(warning).startswith("channels[web].secret: kanal web tidak memakai secret")
    path = tmp_path / "gw.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner(env=ENV).invoke(main, ["config", "check", "--config", str(path)])
    assert result.exit_code == 0 and "peringatan: channels[web].secret" in result.output


YAML_CASES = [
    ("tab indentation", "gateway:\n\tdatabase: x\n", "ada karakter TAB", 2),
    ("colon in a plain value", "gateway:\n  public_url: a: b\n", "titik dua (:)", 2),
    (
        "unclosed quote",
        'central: {url: "sandbox}\nagencies: []\n',
        "berkas berakhir sebelum tanda kutip",
        3,
    ),
]


@pytest.mark.parametrize(
    ("text", "words", "line"), [c[1:] for c in YAML_CASES], ids=[c[0] for c in YAML_CASES]
)
def test_yaml_syntax_errors_in_plain_words_with_the_line(text: str, words: str, line: int) -> None:
    (issue,) = issues_of(text)
    assert words in issue and f"gw.yaml:{line})" in issue, issue
