"""`telegram` with `receive: polling`: the real poll runner against a local Bot API.

`getUpdates`'s offset is what tells Telegram to forget updates, so it must only grow past
updates the gateway has committed. Checked in-process (the offsets each call carried) and
with a real gateway process killed by SIGKILL while its offset is on the way.
"""

from __future__ import annotations

import signal
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from gateway.poller import Poller
from store.cursors import cursor_key, load_cursor
from store.models import InboundMessage, Report
from tests.adapters.sms.runtime import sms_runtime
from tests.adapters.telegram.fake_api import TOKEN, FakeTelegram
from tests.helpers import free_port
from tests.processes import Process, db_rows, http_up, wait_for


def _update(update_id: int, text: str | None = None, *, edited: bool = False) -> dict[str, Any]:
    chat_id = 2000000 + update_id % 7
    message = {
        "message_id": update_id,
        "from": {"id": chat_id, "is_bot": False, "first_name": "Warga"},
        "chat": {"id": chat_id, "type": "private", "first_name": "Warga"},
        "date": 1764000000 + update_id,
        "text": text or f"Laporan nomor {update_id}: lampu jalan mati di gang {update_id}",
    }
    return {"update_id": update_id, "edited_message" if edited else "message": message}


@pytest.fixture
def api() -> Iterator[FakeTelegram]:
    server = FakeTelegram()
    yield server
    server.stop()


def _runtime(tmp_path: Path, api: FakeTelegram, db_url: str) -> Any:
    return sms_runtime(
        tmp_path,
        db_url=db_url,
        channel_yaml=(
            f'  - {{name: tg, type: telegram, token: "${{TG_TOKEN}}", receive: polling,'
            f' api_url: "{api.url}", batch_size: 40, conversation: false}}\n'
        ),
        env={"TG_TOKEN": TOKEN},
    )


def test_offset_only_moves_past_committed_updates(
    db_url: str, tmp_path: Path, api: FakeTelegram
) -> None:
    api.updates = [_update(i, edited=(i % 10 == 0)) for i in range(500, 600)]
    runtime = _runtime(tmp_path, api, db_url)
    adapter = runtime.adapters["tg"]
    poller = Poller(adapter, runtime.engine, runtime.sessions, runtime.intake)
    try:
        # A page whose updates are not all stored (edits are passed over) ends the run: the
        # runner commits the rest before the next page may be asked, at the next interval.
        assert sum(poller.run_once() for _ in range(4)) == 90
        # pages of 40: each next page's offset is one past a committed update
        assert api.offsets[:3] == [None, 540, 580]
        with runtime.sessions() as session:
            assert load_cursor(session, cursor_key("tg")) == "599"
        assert len({r.external_id for r in _rows(runtime, Report)}) == 90
        # a fresh process (nothing in memory) starts from the saved cursor: nothing again
        adapter.close()
        poller.adapter = type(adapter)(adapter.options)
        api.updates += [_update(600)]
        assert poller.run_once() == 1
        assert api.offsets[-1] == 601 or api.offsets[-2] == 600
        assert len(_rows(runtime, Report)) == 91
    finally:
        poller.adapter.close()
        runtime.close()


def test_unreachable_api_loses_nothing(db_url: str, tmp_path: Path, api: FakeTelegram) -> None:
    runtime = _runtime(tmp_path, api, db_url)
    adapter = runtime.adapters["tg"]
    adapter.options.api_url = f"http://127.0.0.1:{free_port()}"
    adapter._bot = None
    poller = Poller(adapter, runtime.engine, runtime.sessions, runtime.intake)
    try:
        assert poller.run_once() == 0  # AdapterUnavailable, logged, tried again later
        adapter.close()
        adapter.options.api_url = api.url
        api.updates = [_update(1), _update(2)]
        assert poller.run_once() == 2
    finally:
        adapter.close()
        runtime.close()


def test_a_failed_save_never_lets_the_offset_pass_an_uncommitted_update(
    db_url: str, tmp_path: Path, api: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = _runtime(tmp_path, api, db_url)
    adapter = runtime.adapters["tg"]
    poller = Poller(adapter, runtime.engine, runtime.sessions, runtime.intake)
    messages = {5, 10, 11, 13}  # the others are edits: passed over, never stored
    asked: list[tuple[int | None, set[int]]] = []  # each offset, with what was committed
    serve = api._m_getUpdates

    def get_updates(params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = params.get("offset")
        stored = {int(m.external_id) for m in _rows(runtime, InboundMessage)}
        asked.append((None if offset is None else int(offset), stored))
        return serve(params)

    monkeypatch.setattr(api, "_m_getUpdates", get_updates)
    writer = runtime.intake.writer
    store, failed = writer.store, list[int]()

    def store_once_failing(session: Any, jobs: Any) -> None:
        if not failed:  # the database goes away while the first page is written
            failed.append(len(jobs))
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        store(session, jobs)

    try:
        api.updates = [_update(5)]
        assert poller.run_once() == 1  # a committed cursor ("5") to start from
        monkeypatch.setattr(writer, "store", store_once_failing)
        api.updates += [_update(10), _update(11), _update(12, edited=True)]
        with pytest.raises(OperationalError):
            poller.run_once()  # 10 and 11 are read, 12 passed over; nothing committed
        assert failed == [1]
        api.updates += [_update(13), _update(14, edited=True)]
        for _ in range(3):
            poller.run_once()
        for offset, stored in asked:
            assert {m for m in messages if offset is not None and m < offset} <= stored
        assert asked[-1][0] == 15  # once all is committed, the edits are passed for good
        ids = [int(m.external_id) for m in _rows(runtime, InboundMessage)]
        assert sorted(ids) == sorted(messages)
        assert len(_rows(runtime, Report)) == len(messages)
    finally:
        adapter.close()
        runtime.close()


def _rows(runtime: Any, model: Any) -> list[Any]:
    from sqlalchemy import select

    with runtime.sessions() as session:
        return list(session.scalars(select(model)))


@pytest.mark.slow
def test_sigkill_between_commit_and_offset_loses_and_repeats_nothing(
    tmp_path: Path, api: FakeTelegram
) -> None:
    port, db = free_port(), tmp_path / "gateway.db"
    config = tmp_path / "gateway.yaml"
    config.write_text(
        textwrap.dedent(f"""\
        gateway: {{database: "sqlite:///{db}", public_url: "http://127.0.0.1:{port}",
                  data_dir: "{tmp_path / "data"}"}}
        central: {{url: "http://127.0.0.1:{free_port()}", token: "${{CENTRAL_TOKEN}}"}}
        agencies: [{{code: nasional, name: Admin Nasional}}]
        routing: {{default: nasional}}
        channels:
          - {{name: tg, type: telegram, token: "${{TG_TOKEN}}", receive: polling,
              api_url: "{api.url}", poll: 0.2s, batch_size: 25, conversation: false}}
        """)
    )
    env = {"CENTRAL_TOKEN": "t", "TG_TOKEN": TOKEN}
    api.updates = [_update(i) for i in range(1, 61)]
    api.hold_offset_above = 1  # the first page is read; the offset after it never arrives
    gateway = Process(
        ["run", "--config", str(config), "--port", str(port)], tmp_path / "g.log", env
    )
    gateway.start()
    try:
        wait_for(http_up(f"http://127.0.0.1:{port}/healthz"), 30, "the gateway to listen")
        count = "SELECT count(*) FROM inbound_messages"
        wait_for(lambda: db_rows(db, count)[0][0] == 25, 30, "the first page to be committed")
        wait_for(lambda: api.held == 26, 10, "the next page to be asked")
        gateway.kill(signal.SIGKILL)  # committed, but Telegram never got the new offset
        assert all(u["update_id"] >= 1 for u in api.updates) and len(api.updates) == 60
        api.hold_offset_above = None
        gateway = Process(
            ["run", "--config", str(config), "--port", str(port)], tmp_path / "g2.log", env
        )
        gateway.start()
        wait_for(lambda: db_rows(db, count)[0][0] == 60, 60, "every update to be stored")
        time.sleep(1.0)  # a few more polls: nothing is stored twice
        ids = [r[0] for r in db_rows(db, "SELECT external_id FROM inbound_messages")]
        assert sorted(map(int, ids)) == list(range(1, 61))
        assert db_rows(db, "SELECT count(*) FROM reports")[0][0] == 60
        assert 26 in api.offsets  # the restart asked from the committed cursor
    finally:
        gateway.stop()
        print(gateway.output()[-3000:])
