"""Scale-out on PostgreSQL with real `sp4n-gateway web` processes: no 5xx, nothing lost.

Issue 8.1: a provider's retry may land on another web process while the first is still
storing the message; both insert the same keys in different orders. Rows are written in key
order (no deadlock) and a batch that loses a race is settled message by message, so every
request gets its own answer: the same report id from both processes, zero 5xx.
"""

from __future__ import annotations

import json
import random
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.gateway.test_hostile_input import HOSTILE
from tests.helpers import free_port
from tests.processes import Process, http_up, wait_for

pytestmark = pytest.mark.slow


class WebPair:
    """Two web processes on one PostgreSQL database."""

    def __init__(self, tmp: Path, database: str) -> None:
        self.database = database
        self.ports = [free_port(), free_port()]
        config = tmp / "gateway.yaml"
        config.write_text(
            textwrap.dedent(f"""\
            gateway: {{database: "{database}", public_url: "http://127.0.0.1:{self.ports[0]}",
                      data_dir: "{tmp / "data"}"}}
            central: {{url: "http://127.0.0.1:{free_port()}", token: "${{CENTRAL_TOKEN}}"}}
            agencies: [{{code: nasional, name: Admin Nasional}}]
            routing: {{default: nasional}}
            channels:
              - {{name: web-open, type: webform}}
            """),
            encoding="utf-8",
        )
        env = {"CENTRAL_TOKEN": "scale-token-000000000000"}
        self.procs = [
            Process(
                ["web", "--config", str(config), "--port", str(port), "--threads", "16"],
                tmp / f"web-{port}.log",
                env,
            ).start()
            for port in self.ports
        ]
        try:
            for port in self.ports:
                wait_for(http_up(f"http://127.0.0.1:{port}/healthz"), 60, "a web process")
        except AssertionError:
            self.stop()
            raise AssertionError(self.logs()[-3000:]) from None

    def url(self, which: int) -> str:
        return f"http://127.0.0.1:{self.ports[which]}/channels/web-open/inbound"

    def count(self, sql: str) -> int:
        engine = create_engine(self.database.replace("postgresql://", "postgresql+psycopg://"))
        try:
            with engine.connect() as conn:
                return int(conn.execute(text(sql)).scalar_one())
        finally:
            engine.dispose()

    def logs(self) -> str:
        return "\n".join(p.output() for p in self.procs)

    def stop(self) -> None:
        for proc in self.procs:
            proc.stop()


@pytest.fixture
def pair(postgres_url: str, tmp_path: Path) -> Iterator[WebPair]:
    web = WebPair(tmp_path, postgres_url)
    yield web
    web.stop()


def _session() -> requests.Session:
    local = _LOCAL.__dict__
    if "session" not in local:
        local["session"] = requests.Session()
    session: requests.Session = local["session"]
    return session


_LOCAL = threading.local()


def test_the_same_messages_on_two_processes_make_one_report_each(pair: WebPair) -> None:
    messages = [
        json.dumps({"body": f"Sampah menumpuk di pasar blok {i}", "external_id": f"dup-{i}"})
        for i in range(2000)
    ]
    work = [(i, side) for i in range(2000) for side in (0, 1)]
    random.Random(8).shuffle(work)

    def post(item: tuple[int, int]) -> tuple[int, int, str | None]:
        i, side = item
        response = _session().post(
            pair.url(side),
            data=messages[i],
            headers={"Content-Type": "application/json"},
            timeout=60,
        )
        body = response.json() if response.status_code < 500 else {}
        return i, response.status_code, body.get("id")

    with ThreadPoolExecutor(max_workers=24) as pool:
        results = list(pool.map(post, work))
    statuses = [status for _, status, _ in results]
    assert all(s in (200, 201) for s in statuses), sorted(set(statuses))
    ids: dict[int, set[str | None]] = {}
    for i, _, report_id in results:
        ids.setdefault(i, set()).add(report_id)
    assert all(len(found) == 1 for found in ids.values()), "a repeat got another id"
    assert statuses.count(201) == 2000
    assert pair.count("SELECT count(*) FROM reports") == 2000
    assert pair.count("SELECT count(*) FROM forward_outbox") == 2000
    assert "Traceback" not in pair.logs()


def test_32_clients_with_every_eighth_request_malformed(pair: WebPair) -> None:
    """Issue 8's must-show: 20 s of load, well-formed 201 and stored, malformed 400 and kept."""
    deadline = time.monotonic() + 20
    counter = iter(range(10**9))
    lock = threading.Lock()
    sent: list[tuple[bool, int]] = []

    def client(worker: int) -> None:
        while time.monotonic() < deadline:
            with lock:
                n = next(counter)
            if n % 8 == 7:
                _, body, _ = HOSTILE[(n // 8) % len(HOSTILE)]
                data: Any = body.encode() if isinstance(body, str) else body
                good = False
            else:
                data = json.dumps({"body": f"Lampu mati di gang {n}", "external_id": f"l-{n}"})
                good = True
            response = _session().post(
                pair.url(worker % 2),
                data=data,
                headers={"Content-Type": "application/json"},
                timeout=60,
            )
            with lock:
                sent.append((good, response.status_code))

    threads = [threading.Thread(target=client, args=(w,)) for w in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    good = [s for ok, s in sent if ok]
    bad = [s for ok, s in sent if not ok]
    assert good and bad
    assert all(s == 201 for s in good), sorted(set(good))
    assert all(s == 400 for s in bad), sorted(set(bad))
    assert pair.count("SELECT count(*) FROM reports") == len(good)
    assert pair.count("SELECT count(*) FROM inbound_messages WHERE state = 'rejected'") == len(bad)
