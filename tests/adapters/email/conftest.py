"""Fixtures of the email tests: a real Dovecot per test (see `dovecot.py`).

Missing Dovecot or openssl skips (laptop) or fails (SP4N_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.adapters.email.dovecot import Dovecot, find_program
from tests.helpers import need_service


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A running Dovecot with one user and an empty mailbox, removed at teardown."""
    binary = find_program("dovecot")
    if binary is None:
        need_service("Dovecot", "the dovecot binary is not installed (apt install"
                     " dovecot-imapd)")
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
