"""Test helpers: service skips, configs, runtimes and checks used across the suite."""

from __future__ import annotations

import json
import os
import socket
import textwrap
from pathlib import Path
from typing import Any, NoReturn

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
# The binding contracts, kept in the repo (the sandbox ships them) and checked equal to
# ../shared/contracts whenever that is beside the checkout.
CONTRACTS = ROOT / "forwarder" / "sandbox"


def need_service(name: str, why: str) -> NoReturn:
    """Skip (laptop) or fail (CI, SP4N_REQUIRE_SERVICES=1) when a service is missing."""
    message = f"{name} is needed: {why}"
    if os.environ.get("SP4N_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


AGENCIES: list[dict[str, Any]] = [
    {"code": "nasional", "name": "Admin Nasional LAPOR!", "parent": None},
    {"code": "pemkab", "name": "Pemerintah Kabupaten Contoh", "parent": "nasional"},
    {"code": "dinas-pupr", "name": "Dinas PUPR", "parent": "pemkab"},
    {"code": "upt-jalan", "name": "UPT Jalan Wilayah I", "parent": "dinas-pupr"},
    {"code": "inspektorat", "name": "Inspektorat", "parent": "pemkab"},
]


def start_sandbox(tmp_path: Path, port: int = 0, **settings: Any) -> Any:
    """A running SandboxServer with the test agency tree."""
    from forwarder.sandbox import SandboxServer, SandboxSettings

    settings.setdefault("agencies", AGENCIES)
    server = SandboxServer(
        SandboxSettings(
            token="test-token", db_path=str(tmp_path / f"sandbox-{port}.db"), **settings
        ),
        host="127.0.0.1",
        port=port,
    )
    server.start()
    return server


def config_text(
    db_url: str, central_url: str, *, channels: str = "", extra: str = "", data_dir: str = "data"
) -> str:
    """A complete gateway config for tests; `channels` are more list entries ("- {...}")."""
    agencies = "\n".join(
        f"  - {{code: {a['code']}, name: {a['name']!r}"
        + (f", parent: {a['parent']}" if a["parent"] else "")
        + "}"
        for a in AGENCIES
    )
    return (
        textwrap.dedent("""\
        gateway: {{database: "{db}", public_url: "http://127.0.0.1:8000", data_dir: "{data}"}}
        central: {{url: "{central}", token: "${{CENTRAL_TOKEN}}", timeout: 5s}}
        agencies:
        {agencies}
        routing:
          default: nasional
          rules:
            - {{name: wbs, when: {{kind: whistleblowing}}, agency: inspektorat}}
            - {{name: jalan, when: {{keywords: [jalan rusak, jembatan]}}, agency: upt-jalan}}
        forwarder: {{interval: 0.2s, backoff_base: 0.05s, backoff_max: 0.5s, concurrency: 4}}
        channels:
          - {{name: web, type: webform}}
          - {{name: web-signed, type: webform, secret: "${{WEB_SECRET}}",
              fields: {{body: isi_aduan, name: nama, phone: no_hp, email: surel,
                       "external id": nomor, location: lokasi}}}}
          - {{name: surat, type: letter}}
        """).format(
            db=db_url, central=central_url, agencies=agencies.replace("\n", "\n"), data=data_dir
        )
        + textwrap.indent(textwrap.dedent(channels), "  ")
        + textwrap.dedent(extra)
    )


WEB_SECRET = "test-web-secret-0123456789"


def load_test_config(text: str, **env: str) -> Any:
    """Parse a config with the test environment (plus `env`)."""
    from config.loader import parse_config

    return parse_config(
        text, "test.yaml", {"WEB_SECRET": WEB_SECRET, "CENTRAL_TOKEN": "test-token", **env}
    )


def validate_reports(payloads: list[dict[str, Any]]) -> None:
    """Every payload must validate against the binding report schema."""
    path = CONTRACTS / "report.schema.json"
    import jsonschema

    schema = json.loads(path.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    for payload in payloads:
        errors = sorted(validator.iter_errors(payload), key=lambda e: list(e.path))
        assert not errors, f"report {payload.get('id')} breaks the schema: {errors[0].message}"
