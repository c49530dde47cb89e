"""Fixtures of the email tests: a real Dovecot per test (`dovecot.py`), aiosmtpd, a CA.

Missing Dovecot or openssl skips (laptop) or fails (SP4N_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import shutil
import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.adapters.email.dovecot import Dovecot, find_program, make_certificate
from tests.adapters.email.smtp_server import Recorder
from tests.helpers import free_port, need_service


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A running Dovecot with one user and an empty mailbox, removed at teardown."""
    binary = find_program("dovecot")
    if binary is None:
        need_service("Dovecot", "the dovecot binary is not installed (apt install dovecot-imapd)")
    assert binary is not None
    root = Path(tempfile.mkdtemp(prefix="sp4n-dovecot-"))
    root.chmod(0o755)  # the mail user (nobody when we are root) must reach its maildir
    server = Dovecot(root=root, binary=binary)
    try:
        server.write_config()
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate (cert, key) that clients trust through ca_file."""
    return make_certificate(tmp_path)


@pytest.fixture
def smtp_server(certificate: tuple[Path, Path]) -> Iterator[tuple[Recorder, int]]:
    """aiosmtpd with STARTTLS (our private CA) and AUTH PLAIN/LOGIN on a loopback port."""
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = Recorder()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=handler.authenticate,
        auth_required=True,
    )
    controller.start()
    yield handler, port
    controller.stop()
