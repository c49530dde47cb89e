"""Shared fixtures: databases (SQLite and PostgreSQL), the sandbox central, a gateway runtime.

Tests never reach beyond loopback: a guard refuses any other socket address. A test that
needs a service this machine does not offer skips on a laptop and fails under CI
(`SP4N_REQUIRE_SERVICES=1`).
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import CONTRACTS, need_service

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _loopback_only(address: Any) -> None:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        try:
            if not ipaddress.ip_address(host).is_loopback:
                raise OSError(f"test tried to reach {host}: tests stay on loopback")
        except ValueError:
            if host not in ("localhost",):
                raise OSError(f"test tried to reach {host}: tests stay on loopback") from None


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _loopback_only(address)
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _loopback_only(address)
    return _real_connect_ex(self, address)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]


def _postgres_admin_url() -> str | None:
    return os.environ.get("SP4N_TEST_POSTGRES_URL")


def _throwaway_postgres() -> Iterator[str]:
    admin = _postgres_admin_url()
    if not admin:
        need_service("PostgreSQL", "SP4N_TEST_POSTGRES_URL is not set")
    import psycopg

    name = f"sp4n_test_{uuid.uuid4().hex[:12]}"
    base = admin.rsplit("/", 1)[0]
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        need_service("PostgreSQL", f"cannot connect to {admin}: {exc}")
    yield f"{base}/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty gateway database: SQLite file, or a throw-away PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.db'}"
        return
    yield from _throwaway_postgres()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL database only (scale-out tests)."""
    yield from _throwaway_postgres()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A gateway database on SQLite only (for tests about the embedded default)."""
    return f"sqlite:///{tmp_path / 'gateway.db'}"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Any]:
    """The sandbox central on a free loopback port."""
    from tests.helpers import start_sandbox

    server = start_sandbox(tmp_path)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def report_schema() -> dict[str, Any]:
    """The binding report schema (the repo's copy of ../shared/contracts)."""
    path = CONTRACTS / "report.schema.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


class GatewayHarness:
    """A runtime, its Flask test client and the sandbox it forwards to."""

    def __init__(self, runtime: Any, sandbox: Any) -> None:
        from gateway.app import create_app

        self.runtime = runtime
        self.sandbox = sandbox
        self.app = create_app(runtime)
        self.client = self.app.test_client()
        self.forwarder = runtime.forwarder()

    def post(
        self,
        channel: str,
        payload: Any = None,
        *,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Any:
        """POST to a channel's webhook."""
        body = data if data is not None else json.dumps(payload).encode()
        return self.client.post(
            f"/channels/{channel}/inbound",
            data=body,
            headers=headers or {},
            content_type=content_type,
        )

    def drain(self) -> int:
        """Forward everything due now."""
        return int(self.forwarder.drain(30.0))

    def central_reports(self) -> list[dict[str, Any]]:
        """What the sandbox holds."""
        import requests

        return list(requests.get(f"{self.sandbox.url}/sandbox/reports.json", timeout=5).json())

    def rows(self, model: Any) -> list[Any]:
        """Every row of a table."""
        from sqlalchemy import select

        with self.runtime.sessions() as session:
            return list(session.scalars(select(model)))


def _harness(
    db_url: str, central: Any, tmp_path: Path, *, extra: str = ""
) -> Iterator[GatewayHarness]:
    from gateway.runtime import build_runtime
    from tests.helpers import config_text, free_port, load_test_config

    url = central.url if central is not None else f"http://127.0.0.1:{free_port()}"
    runtime = build_runtime(
        load_test_config(config_text(db_url, url, extra=extra)), base_dir=tmp_path
    )
    harness = GatewayHarness(runtime, central)
    yield harness
    harness.forwarder.close()
    runtime.close()


@pytest.fixture
def gateway(db_url: str, sandbox: Any, tmp_path: Path) -> Iterator[GatewayHarness]:
    """A gateway on a fresh database (SQLite and PostgreSQL) forwarding to the sandbox."""
    yield from _harness(db_url, sandbox, tmp_path)


@pytest.fixture
def intake_gateway(db_url: str, tmp_path: Path) -> Iterator[GatewayHarness]:
    """A gateway whose central is not there: for intake tests that forward nothing."""
    yield from _harness(db_url, None, tmp_path)
