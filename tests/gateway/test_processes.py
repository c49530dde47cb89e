"""Reliability with real processes: outages, SIGKILL, a flaky central — nothing lost, no repeat.

A real `sp4n-gateway run` (waitress, scheduler, SQLite) forwards to a real
`sp4n-gateway sandbox` over HTTP. "Exactly once" is read from the sandbox's own database:
one report per gateway id, and every id the gateway handed out is there.
"""

from __future__ import annotations

import concurrent.futures
import json
import re
import signal
import socket
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.helpers import free_port
from tests.processes import Process, db_rows, http_up, wait_for

pytestmark = pytest.mark.slow

TOKEN = "proc-token"


class Deployment:
    """A gateway process and a sandbox process in a temporary directory."""

    def __init__(self, tmp: Path, *, log_level: str = "INFO") -> None:
        self.tmp = tmp
        self.port = free_port()
        self.sb_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.sb_url = f"http://127.0.0.1:{self.sb_port}"
        self.db = tmp / "gateway.db"
        self.config = tmp / "gateway.yaml"
        self.config.write_text(
            textwrap.dedent(f"""\
            gateway: {{database: "sqlite:///{self.db}", public_url: "{self.url}",
                      data_dir: "{tmp / "data"}", log_level: {log_level}}}
            central: {{url: "{self.sb_url}", token: "${{CENTRAL_TOKEN}}", timeout: 5s}}
            agencies:
              - {{code: nasional, name: Admin Nasional}}
              - {{code: pemkab, name: Pemkab Contoh, parent: nasional}}
              - {{code: dinas-pupr, name: Dinas PUPR, parent: pemkab}}
            routing:
              default: nasional
              rules:
                - {{when: {{keywords: [jalan]}}, agency: dinas-pupr}}
            forwarder: {{interval: 0.2s, backoff_base: 0.1s, backoff_max: 1s,
                        concurrency: 4, sync_interval: 0.5s, reply_interval: 0.5s}}
            channels:
              - {{name: web, type: webform, secret: "${{WEB_SECRET}}"}}
              - {{name: web-open, type: webform}}
            """),
            encoding="utf-8",
        )
        self.env = {"CENTRAL_TOKEN": TOKEN, "WEB_SECRET": "proc-secret-0123456789"}
        self.gateway: Process | None = None
        self.sandbox: Process | None = None
        self.ids: list[str] = []

    def start_gateway(self) -> None:
        self.gateway = Process(
            ["run", "--config", str(self.config), "--port", str(self.port)],
            self.tmp / "gateway.log",
            self.env,
        ).start()
        wait_for(http_up(f"{self.url}/healthz"), 30, "the gateway to listen")

    def start_sandbox(self, *args: str) -> None:
        self.sandbox = Process(
            [
                "sandbox",
                "--port",
                str(self.sb_port),
                "--token",
                TOKEN,
                "--db",
                str(self.tmp / "sandbox.db"),
                *args,
            ],
            self.tmp / "sandbox.log",
        ).start()
        wait_for(http_up(f"{self.sb_url}/sandbox/stats"), 30, "the sandbox to listen")

    def post(self, n: int, prefix: str) -> None:
        import hashlib
        import hmac

        def one(i: int) -> str:
            body = json.dumps(
                {"body": f"Laporan {prefix} nomor {i}: jalan rusak", "external_id": f"{prefix}-{i}"}
            ).encode()
            sig = "sha256=" + hmac.new(b"proc-secret-0123456789", body, hashlib.sha256).hexdigest()
            response = requests.post(
                f"{self.url}/channels/web/inbound",
                data=body,
                timeout=30,
                headers={"Content-Type": "application/json", "X-Signature-256": sig},
            )
            assert response.status_code == 201, response.text
            return str(response.json()["id"])

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            self.ids.extend(pool.map(one, range(n)))

    def central(self) -> list[dict[str, Any]]:
        return list(requests.get(f"{self.sb_url}/sandbox/reports.json", timeout=10).json())

    def assert_exactly_once(self, expected: int) -> None:
        wait_for(
            lambda: (
                len(self.central()) >= expected
                and db_rows(self.db, "SELECT count(*) FROM reports WHERE state = 'submitted'")[0][0]
                == expected
            ),
            120,
            f"{expected} reports at the central",
        )
        central = self.central()
        gateway_ids = [c["gateway_id"] for c in central]
        assert len(gateway_ids) == len(set(gateway_ids)) == expected, "a duplicate arrived"
        assert set(gateway_ids) == set(self.ids), "a report was lost"
        tracking = [c["tracking_id"] for c in central]
        assert len(set(tracking)) == expected
        assert db_rows(self.db, "SELECT count(*) FROM forward_outbox WHERE state = 'dead'") == [
            (0,)
        ]
        stored = dict(db_rows(self.db, "SELECT id, tracking_id FROM reports"))
        assert stored == {c["gateway_id"]: c["tracking_id"] for c in central}

    def stop(self) -> None:
        for proc in (self.gateway, self.sandbox):
            if proc is not None:
                proc.stop()


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    dep = Deployment(tmp_path)
    yield dep
    dep.stop()


def test_reports_taken_while_the_central_is_down_arrive_once(deployment: Deployment) -> None:
    deployment.start_gateway()
    deployment.post(100, "outage")
    assert len(deployment.ids) == 100
    wait_for(
        lambda: db_rows(deployment.db, "SELECT min(attempts) FROM forward_outbox")[0][0] >= 1,
        30,
        "every row to have been tried against the stopped central",
    )
    deployment.start_sandbox()
    deployment.assert_exactly_once(100)


def test_sigkill_while_forwarding_loses_and_repeats_nothing(deployment: Deployment) -> None:
    deployment.start_sandbox("--latency-ms", "40")
    deployment.start_gateway()
    deployment.post(200, "kill")
    wait_for(lambda: len(deployment.central()) >= 20, 60, "forwarding to be under way")
    assert deployment.gateway is not None
    deployment.gateway.kill(signal.SIGKILL)
    arrived = len(deployment.central())
    assert arrived < 200, "the kill came too late to prove anything"
    deployment.start_gateway()
    deployment.assert_exactly_once(200)


def test_flaky_central_still_gets_everything_once(deployment: Deployment) -> None:
    deployment.start_sandbox("--fail-rate", "0.3")
    deployment.start_gateway()
    deployment.post(150, "flaky")
    deployment.assert_exactly_once(150)
    stats = requests.get(f"{deployment.sb_url}/sandbox/stats", timeout=5).json()
    assert stats["failures_injected"] > 0


def test_oversize_and_bad_signature_over_real_http(deployment: Deployment) -> None:
    deployment.start_gateway()
    big = json.dumps({"body": "x" * (2 * 1024 * 1024)}).encode()
    response = requests.post(
        f"{deployment.url}/channels/web-open/inbound",
        data=big,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    # A client announcing a huge body is refused before it sends it.
    with socket.create_connection(("127.0.0.1", deployment.port), timeout=10) as sock:
        sock.sendall(
            b"POST /channels/web-open/inbound HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 900000000\r\n\r\n"
        )
        head = sock.recv(200)
    assert head.startswith(b"HTTP/1.1 413")
    response = requests.post(
        f"{deployment.url}/channels/web/inbound",
        data=b'{"body":"x"}',
        headers={"Content-Type": "application/json", "X-Signature-256": "sha256=00"},
        timeout=10,
    )
    assert response.status_code == 403
    assert db_rows(deployment.db, "SELECT count(*) FROM inbound_messages") == [(0,)]


def test_no_personal_data_in_logs_on_a_full_run(tmp_path: Path) -> None:
    dep = Deployment(tmp_path, log_level="DEBUG")
    phone, email, nik = "081398765432", "siti.pelapor@example.org", "3201234567890123"
    secret_body = "Rahasia-isi-laporan-XYZZY"
    try:
        dep.start_sandbox()
        dep.start_gateway()
        payload = {
            "body": f"{secret_body} jalan rusak, hubungi {phone} atau {email}",
            "name": "Siti Pelapor",
            "phone": phone,
            "email": email,
            "identity_number": nik,
            "external_id": "pii-1",
        }
        ok = requests.post(f"{dep.url}/channels/web-open/inbound", json=payload, timeout=10)
        assert ok.status_code == 201
        dep.ids.append(ok.json()["id"])
        bad = requests.post(
            f"{dep.url}/channels/web-open/inbound",
            timeout=10,
            data=json.dumps({**payload, "body": "", "external_id": "pii-2"}),
            headers={"Content-Type": "application/json"},
        )
        assert bad.status_code == 400
        broken = requests.post(
            f"{dep.url}/channels/web-open/inbound",
            timeout=10,
            data=f'{{"body": "{secret_body} {phone}", '.encode(),
            headers={"Content-Type": "application/json"},
        )
        assert broken.status_code == 400
        # A form, percent-encoded, with the NIK written in groups: refused (400) and logged.
        form = requests.post(
            f"{dep.url}/channels/web-open/inbound",
            timeout=10,
            data=(
                "body=&phone=%2B62"
                + phone[1:]
                + "&email="
                + email.replace("@", "%40")
                + "&identity_number="
                + " ".join([nik[:4], nik[4:8], nik[8:12], nik[12:]])
            ),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert form.status_code == 400
        dep.assert_exactly_once(1)
        (tracking_id,) = [c["tracking_id"] for c in dep.central()]
        requests.post(
            f"{dep.sb_url}/sandbox/reports/{tracking_id}/responses",
            timeout=5,
            json={"text": f"Kami hubungi {phone}", "agency": "dinas-pupr"},
        )
        wait_for(
            lambda: (
                db_rows(dep.db, "SELECT count(*) FROM timeline_events WHERE event = 'response'")
                == [(1,)]
            ),
            30,
            "the sync",
        )
    finally:
        dep.stop()
    logs = dep.gateway.output() if dep.gateway else ""
    assert "DEBUG" in logs or "INFO" in logs, "the gateway logged nothing at all"
    for value in (
        phone,
        phone[1:],
        "+62" + phone[1:],
        email,
        email.replace("@", "%40"),
        nik,
        " ".join([nik[:4], nik[4:8], nik[8:12], nik[12:]]),
        "%2B62" + phone[1:],
        secret_body,
        "Siti Pelapor",
        "proc-secret-0123456789",
        TOKEN,
    ):
        assert value not in logs, f"{value!r} appears in the gateway's log"
    assert not re.search(r"\b\d{10,16}\b", logs.replace(tracking_id, "")), (
        "a long digit run (phone or NIK) appears in the log"
    )
