"""End to end through the real SMS daemons, on loopback only.

- Gammu: an SMS placed in gammu-smsd's dummy phone travels dummy phone -> SMSD -> MariaDB ->
  gateway -> sandbox central, and the acknowledgement with the tracking id goes back through
  Gammu's outbox and is sent by SMSD (the dummy phone's send succeeds; SMSD records it in
  `sentitems`).
- Kannel: fakesmsc -> bearerbox -> smsbox -> the gateway's webhook (a real HTTP server),
  and the reply goes back through Kannel's sendsms to fakesmsc.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote_to_bytes

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from adapters.base import OutgoingReply
from store.models import ReplyItem, Report
from tests.adapters.sms.daemons import Kannel, gammu_smsd, kannel, wait_for
from tests.adapters.sms.gammu_db import gammu_database
from tests.adapters.sms.runtime import sms_runtime
from tests.helpers import free_port

pytestmark = pytest.mark.slow
CITIZEN = "+6281200000031"
OTHER = "+6281200000032"
LONG = "Saluran air tersumbat sampah sehingga banjir setiap hujan turun di RT 03. " * 5


def _reports(runtime: Any) -> list[Report]:
    with runtime.sessions() as session:
        return list(session.scalars(select(Report)))


def _has_reports(runtime: Any, count: int) -> bool:
    return len(_reports(runtime)) == count


def _replies(runtime: Any) -> list[ReplyItem]:
    with runtime.sessions() as session:
        return list(session.scalars(select(ReplyItem)))


def test_gammu_dummy_phone_to_central_and_ack_back(tmp_path: Path, sandbox: Any) -> None:
    with (
        gammu_database("mariadb-v17", tmp_path) as db,
        gammu_smsd(tmp_path, database=str(make_url(db.url).database)) as phone,
    ):
        runtime = sms_runtime(
            tmp_path,
            central_url=sandbox.url,
            channel_yaml=f"""\
  - {{name: hotline, type: gammu_smsd, database: "{db.url}", time_zone: UTC}}
""",
        )
        try:
            adapter = runtime.adapters["hotline"]
            assert phone.receive(CITIZEN, "LAPOR jalan rusak di depan balai desa") == 1
            assert phone.receive(OTHER, LONG, reverse=True) == 3
            wait_for(lambda: len(db.rows("inbox", "ID")) == 4, 30, "SMSD to store the SMS")
            # Gammu wrote the parts' concatenation headers itself (the parts reached the phone
            # last first; SMSD links them before storing).
            udh = [r["UDH"] for r in db.rows("inbox", "UDH")]
            assert udh[0] == "" and sorted(u[-4:] for u in udh[1:]) == ["0301", "0302", "0303"]

            # The runner's own poll loop: messages and cursor in one transaction, then
            # Gammu's rows are marked Processed.
            (poller,) = runtime.pollers()
            assert poller.adapter is adapter
            assert poller.run_once() == 2
            assert [r["Processed"] for r in db.rows("inbox", "Processed")] == ["true"] * 4

            forwarder = runtime.forwarder()
            forwarder.drain(30.0)
            report, long_report = sorted(_reports(runtime), key=lambda r: r.external_id)
            assert report.tracking_id and report.payload["reporter"]["phone"] == CITIZEN
            assert long_report.payload["body"] == LONG.strip()
            assert long_report.payload["reporter"]["phone"] == OTHER
            central = requests.get(f"{sandbox.url}/sandbox/reports.json", timeout=5).json()
            assert len(central) == 2

            assert runtime.reply_sender().run_once() == 2
            replies = _replies(runtime)
            assert [r.state for r in replies] == ["sent", "sent"], [r.last_error for r in replies]

            def sent() -> list[dict[str, Any]]:
                return db.rows(
                    "sentitems", "DestinationNumber", "TextDecoded", "Status", "CreatorID"
                )

            wait_for(lambda: len(sent()) == 2, 30, "SMSD to send the acknowledgements")
            rows = {r["DestinationNumber"]: r for r in sent()}
            assert report.tracking_id in rows[CITIZEN]["TextDecoded"]
            assert long_report.tracking_id in rows[OTHER]["TextDecoded"]
            for row in rows.values():
                assert row["Status"] in ("SendingOK", "SendingOKNoReport")
                assert row["CreatorID"].startswith("sp4n-gateway:")

            # The citizen asks for the status, then adds to the report, both by SMS.
            assert phone.receive(CITIZEN, f"STATUS {report.tracking_id}") == 1
            assert (
                phone.receive(CITIZEN, f"{report.tracking_id} sudah seminggu belum diperbaiki") == 1
            )
            wait_for(lambda: len(db.rows("inbox", "ID")) == 6, 30, "SMSD to store the SMS")
            assert poller.run_once() == 2
            forwarder.drain(30.0)
            forwarder.close()
            assert len(_reports(runtime)) == 2  # neither became a report of its own
            central = {
                c["tracking_id"]: c
                for c in requests.get(f"{sandbox.url}/sandbox/reports.json", timeout=5).json()
            }
            (follow_up,) = central[report.tracking_id]["followups"]
            assert "sudah seminggu belum diperbaiki" in follow_up["body"]
            assert runtime.reply_sender().run_once() == 1  # the answer to STATUS
            wait_for(lambda: len(sent()) == 3, 30, "SMSD to send the status answer")
            answer = [
                r["TextDecoded"]
                for r in sent()
                if r["DestinationNumber"] == CITIZEN and "Status laporan" in r["TextDecoded"]
            ]
            assert answer and report.tracking_id in answer[0]
            assert "diterima" in answer[0]

            # A long agency response: held while its parts are written, then sent whole.
            long_answer = "Tanggapan Dinas PUPR: " + "perbaikan dijadwalkan minggu ini. " * 10
            adapter.send_reply(
                OutgoingReply(
                    reply_id="01LONGANSWER",
                    report_id=report.id,
                    tracking_id=report.tracking_id,
                    event="response:1",
                    text=long_answer,
                    reply_to={"phone": CITIZEN},
                    external_id=report.external_id,
                )
            )

            def long_parts() -> list[dict[str, Any]]:
                rows = db.rows(
                    "sentitems", "TextDecoded", "CreatorID", order=("ID", "SequencePosition")
                )
                return [r for r in rows if r["CreatorID"] == "sp4n-gateway:01LONGANSWER"]

            wait_for(lambda: len(long_parts()) == 3, 30, "SMSD to send the 3 parts")
            assert "".join(r["TextDecoded"] for r in long_parts()) == long_answer.strip()
        finally:
            runtime.close()


@pytest.fixture
def kannel_gateway(tmp_path: Path, sandbox: Any) -> Iterator[tuple[Any, str, Any]]:
    """The gateway's web app on a real loopback port, a Kannel channel, the sandbox."""
    from gateway.app import create_app

    port = free_port()
    runtime = sms_runtime(
        tmp_path,
        central_url=sandbox.url,
        channel_yaml="""\
  - {name: sms-kannel, type: kannel_sms, secret: "${KANNEL_SECRET}", username: gateway,
      password: "${KANNEL_PASSWORD}", sendsms_url: "${KANNEL_SENDSMS}"}
""",
        env={
            "KANNEL_SECRET": "kannel-e2e-secret",
            "KANNEL_PASSWORD": "kannel-e2e-password",
            "KANNEL_SENDSMS": "http://127.0.0.1:1/placeholder",
        },
    )
    server = make_server("127.0.0.1", port, create_app(runtime), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield runtime, f"http://127.0.0.1:{port}", sandbox
    finally:
        server.shutdown()
        runtime.close()


def documented_get_url(base: str, secret: str) -> str:
    """The README's sms-service `get-url` line, pointed at `base` with `secret` filled in."""
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("**Kannel**") :]
    match = re.search(r'^get-url = "(.+)"$', section, re.M)
    assert match, "the README's Kannel section has no get-url line"
    url = match.group(1)
    assert url.startswith("http://127.0.0.1:8000/channels/sms-kannel/inbound?")
    return url.replace("http://127.0.0.1:8000", base).replace("THE_SECRET", quote(secret))


@contextmanager
def documented_kannel(tmp_path: Path, kannel_gateway: Any) -> Iterator[tuple[Any, Kannel, Any]]:
    """Kannel running the README's get-url line against the gateway, replies through it."""
    runtime, base, _sandbox = kannel_gateway
    get_url = documented_get_url(base, "kannel-e2e-secret")
    with kannel(
        tmp_path, get_url=get_url, username="gateway", password="kannel-e2e-password"
    ) as gw:
        adapter = runtime.adapters["sms-kannel"]
        adapter.options.sendsms_url = gw.sendsms_url
        yield runtime, gw, adapter


def test_kannel_fakesmsc_to_central_and_reply_back(tmp_path: Path, kannel_gateway: Any) -> None:
    with documented_kannel(tmp_path, kannel_gateway) as (runtime, gw, _adapter):
        gw.send(CITIZEN, "1708", "LAPOR jembatan retak di desa kami")
        wait_for(lambda: bool(_reports(runtime)), 30, "Kannel to call the webhook")
        (report,) = _reports(runtime)
        assert report.payload["body"] == "jembatan retak di desa kami"
        assert report.payload["reporter"]["phone"] == CITIZEN
        forwarder = runtime.forwarder()
        forwarder.drain(30.0)
        forwarder.close()
        assert runtime.reply_sender().run_once() == 1
        (reply,) = _replies(runtime)
        assert reply.state == "sent", reply.last_error
        (report,) = _reports(runtime)
        tracking = report.tracking_id
        assert tracking is not None
        wait_for(
            lambda: any(tracking in line for line in gw.delivered()),
            30,
            "fakesmsc to receive the acknowledgement",
        )
        # max-messages = 0: Kannel never turned the webhook's answer into an SMS.
        assert len(gw.delivered()) == 1


UCS2_TEXTS = [
    "Jalan \u201crusak\u201d \U0001f621 di depan SD",
    "Lampu \u2018mati\u2019 sudah seminggu \U0001f64f",
    "\ua997\ua9ad\ua9a4\ua9c0 \ua9ab\ua9b8\ua9b1\ua98f\ua9c0 \U0001f6a7 desa",
]


def test_kannel_documented_get_url_keeps_ucs2_text(
    tmp_path: Path, kannel_gateway: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with documented_kannel(tmp_path, kannel_gateway) as (runtime, gw, adapter):
        # One at a time: fakesmsc reads only the first of several lines that arrive together.
        for n, text in enumerate(UCS2_TEXTS):
            gw.send_ucs2(f"+62812000001{n:02d}", "1708", text)
            wait_for(partial(_has_reports, runtime, n + 1), 30, f"UCS-2 SMS {n}")
        gw.send(OTHER, "1708", "Caf\u00e9 di pasar tutup, jalan rusak")
        wait_for(lambda: len(_reports(runtime)) == 4, 30, "the GSM-7 SMS")
        bodies = {r.payload["body"] for r in _reports(runtime)}
        assert bodies == {*UCS2_TEXTS, "Caf\u00e9 di pasar tutup, jalan rusak"}

        # A UCS-2 reply through the real sendsms, every logger at DEBUG.
        caplog.set_level(logging.DEBUG)
        for name in ("urllib3", "requests"):
            caplog.set_level(logging.DEBUG, logger=name)
        answer = "Tanggapan: \u201csudah diperbaiki\u201d \U0001f64f"
        adapter.send_reply(
            OutgoingReply(
                reply_id="01UCS2",
                report_id="r",
                tracking_id="LPR1234567",
                event="response",
                text=answer,
                reply_to={"phone": CITIZEN, "to": "1708"},
                external_id="x",
            )
        )
        wait_for(lambda: bool(gw.delivered()), 30, "fakesmsc to receive the reply")
        (line,) = gw.delivered()
        sender, to, kind, data = line.split("<", 1)[1].rstrip(">").split(" ")
        assert (sender, to, kind) == ("1708", CITIZEN, "ucs-2")
        # fakesmsc prints the bytes form-encoded: "+" is a space byte.
        assert unquote_to_bytes(data.replace("+", "%20")).decode("utf-16-be") == answer
        assert any(r.name.startswith("urllib3") for r in caplog.records)
        for value in ("kannel-e2e-password", CITIZEN, CITIZEN[1:], quote(CITIZEN)):
            assert value not in caplog.text
