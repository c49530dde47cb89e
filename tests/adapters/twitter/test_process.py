"""A real `sp4n-gateway run` polling the local X API, killed with SIGKILL mid-walk.

Two pages of mentions are committed, the third is held at the X server, the process is
killed before the walk can finish and move `since_id`; after a restart every mention is
stored exactly once and `since_id` ends at the newest.
"""

from __future__ import annotations

import signal
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.twitter.cursor import Cursor
from tests.adapters.twitter.conftest import X_ENV, channel_yaml
from tests.adapters.twitter.fake_x import FakeX, serve
from tests.helpers import free_port
from tests.processes import Process, db_rows, http_up, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    yield from serve()


def _config(tmp: Path, x: FakeX, port: int) -> Path:
    path = tmp / "gateway.yaml"
    path.write_text(
        textwrap.dedent(f"""\
        gateway: {{database: "sqlite:///{tmp / "gateway.db"}", public_url: "http://127.0.0.1:{port}",
                  data_dir: "{tmp / "data"}"}}
        central: {{url: "http://127.0.0.1:{free_port()}", token: "${{CENTRAL_TOKEN}}", timeout: 1s}}
        agencies:
          - {{code: nasional, name: Admin Nasional}}
        routing: {{default: nasional}}
        forwarder: {{interval: 5s}}
        channels:
        """)
        + channel_yaml(x, poll="0.3s", direct_messages="false"),
        encoding="utf-8",
    )
    return path


def test_sigkill_between_our_commit_and_the_since_id_advance(fake_x: FakeX, tmp_path: Path) -> None:
    for i in range(300):
        fake_x.add_mention(f"@LAPOR1708 got tersumbat di RT {i}")
    newest = max(int(p["id"]) for p in fake_x.posts)
    held = threading.Event()
    fake_x.hold["mentions:3"] = held  # the third page waits: two pages are committed
    port = free_port()
    config = _config(tmp_path, fake_x, port)
    db = tmp_path / "gateway.db"
    args = ["run", "--config", str(config), "--port", str(port)]
    env = {"CENTRAL_TOKEN": "t", **X_ENV}
    gateway = Process(args, tmp_path / "gateway.log", env).start()
    try:
        wait_for(http_up(f"http://127.0.0.1:{port}/healthz"), 30, "the gateway to listen")
        wait_for(
            lambda: db_rows(db, "SELECT count(*) FROM inbound_messages")[0][0] == 200,
            30,
            "two pages to be committed",
        )
        (cursor,) = db_rows(db, "SELECT value FROM sync_state WHERE key = 'poll:x-lapor'")[0]
        assert Cursor.loads(cursor).mentions.walking  # since_id has not moved yet
        gateway.kill(signal.SIGKILL)
        held.set()
        gateway = Process(args, tmp_path / "gateway.log", env).start()
        wait_for(
            lambda: (
                Cursor.loads(
                    db_rows(db, "SELECT value FROM sync_state WHERE key = 'poll:x-lapor'")[0][0]
                ).mentions.since_id
                == str(newest)
            ),
            60,
            "the walk to finish after the restart",
        )
    finally:
        gateway.stop()
    rows = db_rows(db, "SELECT external_id FROM inbound_messages")
    assert len(rows) == len(set(rows)) == 300, "a mention was lost or stored twice"
    assert db_rows(db, "SELECT count(*) FROM reports") == [(300,)]
