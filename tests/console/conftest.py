"""A gateway with console accounts, the entry channels and `/lapor`, and a signed-in client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import GatewayHarness
from tests.helpers import config_text, free_port, load_test_config

ADMIN_PASSWORD = "admin-sandi-123"
OPERATOR_PASSWORD = "operator-sandi-456"

CHANNELS = """\
- {name: lapor, type: public_form}
- {name: telepon, type: phone}
- {name: tatap-muka, type: walk_in}
- {name: faks, type: fax}
"""
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Console(GatewayHarness):
    """The harness plus console helpers."""

    def csrf(self, client: Any, path: str = "/admin/login") -> str:
        page = client.get(path)
        found = _CSRF.search(page.get_data(as_text=True))
        assert found, f"no CSRF token on {path} ({page.status_code})"
        return found.group(1)

    def client_for(self, role: str | None) -> Any:
        """A new test client, signed in as `role` (admin/operator) or anonymous (None)."""
        client = self.app.test_client()
        if role is not None:
            password = ADMIN_PASSWORD if role == "admin" else OPERATOR_PASSWORD
            answer = client.post(
                "/admin/login",
                data={"username": role, "password": password, "csrf_token": self.csrf(client)},
            )
            assert answer.status_code == 302, answer.get_data(as_text=True)
        return client

    def post_form(self, client: Any, path: str, data: dict[str, Any], page: str = "") -> Any:
        """POST a console form with a valid CSRF token."""
        token = self.csrf(client, page or "/lapor")
        return client.post(path, data={**data, "csrf_token": token})


def build_console(db_url: str, central: Any, tmp_path: Path, extra: str = "") -> Console:
    from gateway.console.accounts import add_user
    from gateway.runtime import build_runtime

    url = central.url if central is not None else f"http://127.0.0.1:{free_port()}"
    text = config_text(db_url, url, channels=CHANNELS, extra=extra)
    runtime = build_runtime(load_test_config(text), base_dir=tmp_path)
    with runtime.sessions.begin() as session:
        add_user(session, "admin", ADMIN_PASSWORD, "admin", "Admin Satu")
        add_user(session, "operator", OPERATOR_PASSWORD, "operator", "Operator Dua")
    return Console(runtime, central)


@pytest.fixture
def console(db_url: str, sandbox: Any, tmp_path: Path) -> Iterator[Console]:
    """A console on SQLite and PostgreSQL, forwarding to the sandbox."""
    harness = build_console(db_url, sandbox, tmp_path)
    yield harness
    harness.forwarder.close()
    harness.runtime.close()


@pytest.fixture
def sqlite_console(sqlite_url: str, sandbox: Any, tmp_path: Path) -> Iterator[Console]:
    """The same on SQLite only (for tests about pages, not databases)."""
    harness = build_console(sqlite_url, sandbox, tmp_path)
    yield harness
    harness.forwarder.close()
    harness.runtime.close()
