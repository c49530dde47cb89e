"""The guided conversation end to end: a real gateway process, Telegram webhooks, the prompts
sent through python-telegram-bot to a local Bot API, a SIGKILL and restart in the middle, and
the completed report at the sandbox central with its tracking id sent back to the chat.
And in process (fast, on SQLite, in the mutation selection): a WhatsApp conversation that
becomes one report with its photo, and no report while it is still going."""

from __future__ import annotations

import hashlib
import json
import signal
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from normalizer import conversation as machine
from store.models import Conversation, InboundMessage, Report
from tests.adapters.harness import InboundCase, make_gateway, send
from tests.adapters.meta import wa
from tests.adapters.meta.fake_graph import PHOTO, FakeGraph
from tests.adapters.telegram.fake_api import TOKEN, FakeTelegram
from tests.conftest import GatewayHarness
from tests.helpers import free_port
from tests.processes import Process, db_rows, http_up, wait_for

SECRET = "conv-secret-token"
CHAT = 3333333


def _update(update_id: int, **message: Any) -> dict[str, Any]:
    user = {"id": CHAT, "is_bot": False, "first_name": "Siti", "username": "siti_contoh"}
    chat = {"id": CHAT, "type": "private", "first_name": "Siti"}
    if "data" in message:
        return {
            "update_id": update_id,
            "callback_query": {
                "id": f"cb{update_id}",
                "from": user,
                "chat_instance": "1",
                "data": message["data"],
                "message": {"message_id": 9, "chat": chat, "date": 1764000000, "text": "?"},
            },
        }
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": user,
            "chat": chat,
            "date": 1764000000,
            **message,
        },
    }


class Gateway:
    """`sp4n-gateway run` with a Telegram webhook channel and the built-in sandbox."""

    def __init__(self, tmp: Path, api: FakeTelegram) -> None:
        self.tmp, self.port = tmp, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = tmp / "gateway.db"
        self.config = tmp / "gateway.yaml"
        self.config.write_text(
            textwrap.dedent(f"""\
            gateway: {{database: "sqlite:///{self.db}", public_url: "{self.url}",
                      data_dir: "{tmp / "data"}"}}
            central: {{url: sandbox, token: "${{CENTRAL_TOKEN}}",
                      sandbox: {{port: {free_port()}, db: "{tmp / "sandbox.db"}"}}}}
            agencies: [{{code: nasional, name: Admin Nasional}},
                       {{code: dinas-pupr, name: Dinas PUPR, parent: nasional}}]
            routing:
              default: nasional
              rules: [{{when: {{keywords: [jalan]}}, agency: dinas-pupr}}]
            forwarder: {{interval: 0.2s, reply_interval: 0.2s, sync_interval: 1s}}
            channels:
              - {{name: tg, type: telegram, token: "${{TG_TOKEN}}", secret_token: "${{TG_SECRET}}",
                  api_url: "{api.url}"}}
            """)
        )
        self.env = {"CENTRAL_TOKEN": "conv-token", "TG_TOKEN": TOKEN, "TG_SECRET": SECRET}
        self.process: Process | None = None
        self.runs = 0

    def start(self) -> None:
        self.runs += 1
        self.process = Process(
            ["run", "--config", str(self.config), "--port", str(self.port)],
            self.tmp / f"gateway-{self.runs}.log",
            self.env,
        ).start()
        wait_for(http_up(f"{self.url}/healthz"), 30, "the gateway to listen")

    def send(self, update: dict[str, Any]) -> dict[str, Any]:
        response = requests.post(
            f"{self.url}/channels/tg/inbound",
            data=json.dumps(update),
            headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture
def api() -> Iterator[FakeTelegram]:
    server = FakeTelegram()
    yield server
    server.stop()


def _prompt(api: FakeTelegram, count: int) -> dict[str, Any]:
    wait_for(lambda: len(api.sent) >= count, 20, f"prompt {count} to reach the chat")
    return api.sent[count - 1]


def _buttons(sent: dict[str, Any]) -> list[str]:
    markup = sent.get("reply_markup") or {}
    return [row[0]["callback_data"] for row in markup.get("inline_keyboard", [])]


@pytest.mark.slow
def test_guided_conversation_survives_a_restart(tmp_path: Path, api: FakeTelegram) -> None:
    gateway = Gateway(tmp_path, api)
    gateway.start()
    try:
        gateway.send(_update(1, text="/start"))
        kind = _prompt(api, 1)
        assert "Pilih jenis laporan" in kind["text"]
        assert _buttons(kind) == list(machine.KIND_CHOICES)
        answer = gateway.send(_update(2, data="kind:pengaduan"))
        assert answer == {"method": "answerCallbackQuery", "callback_query_id": "cb2"}
        assert "Ceritakan" in _prompt(api, 2)["text"]
        gateway.send(_update(3, text="Jalan rusak parah di depan SDN 3, lubang sedalam 30 cm."))
        assert "lokasinya" in _prompt(api, 3)["text"]
        assert db_rows(gateway.db, "SELECT count(*) FROM reports")[0][0] == 0

        assert gateway.process is not None
        gateway.process.kill(signal.SIGKILL)  # a real crash in the middle of the conversation
        gateway.start()

        gateway.send(_update(4, location={"latitude": -7.2504, "longitude": 112.7688}))
        assert "foto" in _prompt(api, 4)["text"]
        gateway.send(_update(4, location={"latitude": -7.2504, "longitude": 112.7688}))  # repeat
        gateway.send(_update(5, data="done"))
        assert _buttons(_prompt(api, 5)) == ["privacy:biasa", "privacy:anonim", "privacy:rahasia"]
        gateway.send(_update(6, data="privacy:anonim"))
        confirm = _prompt(api, 6)
        assert "Jenis: Pengaduan" in confirm["text"] and "-7.2504, 112.7688" in confirm["text"]
        assert db_rows(gateway.db, "SELECT count(*) FROM reports")[0][0] == 0
        gateway.send(_update(7, data="confirm:send"))
        assert "Terima kasih" in _prompt(api, 7)["text"]

        ack = _prompt(api, 8)  # the acknowledgement, once the central gave a tracking id
        (tracking,) = db_rows(gateway.db, "SELECT tracking_id FROM reports")[0]
        assert tracking and tracking in ack["text"]
        (payload,) = db_rows(gateway.db, "SELECT payload FROM reports")[0]
        report = json.loads(payload)
        assert report["kind"] == "pengaduan" and report["privacy"]["anonymous"] is True
        assert report["location"]["lat"] == -7.2504
        assert report["routing"]["agency"] == "dinas-pupr"
        assert db_rows(gateway.db, "SELECT count(*) FROM conversations")[0][0] == 0

        # outside the flow a plain message is still a report (no wrong door)
        gateway.send(_update(8, text="Lampu jalan di gang 4 mati sejak kemarin malam."))
        wait_for(
            lambda: db_rows(gateway.db, "SELECT count(*) FROM reports")[0][0] == 2, 10, "report"
        )
    finally:
        if gateway.process is not None:
            gateway.process.stop()


def test_a_whatsapp_conversation_becomes_one_report_with_its_photo(
    sqlite_url: str, tmp_path: Path
) -> None:
    graph = FakeGraph()
    channel = wa.channel(graph, "conversation: true, template_name: sp4n_status_update")
    gateways = make_gateway(sqlite_url, tmp_path, channel)
    gateway: GatewayHarness = next(gateways)
    description = "Jalan rusak parah di depan SDN 3 Desa Contoh, lubang sedalam 30 cm."

    def post(message: dict[str, Any]) -> None:
        case = InboundCase("chat", wa.notification([message]), content_type="application/json")
        response = send(gateway, channel.sign(channel.request(case)))
        assert response.status_code == 200, response.get_data(as_text=True)

    try:
        post(wa.message("C1", text="halo"))
        post(wa.message("C2", button=("kind:pengaduan", "Pengaduan"), context="wamid.P1"))
        post(wa.message("C3", text=description))
        post(wa.message("C4", text="lewati"))
        post(wa.message("C5", image=""))
        post(wa.message("C6", button=("done", "Selesai"), context="wamid.P5"))
        post(wa.message("C7", button=("privacy:anonim", "Anonim"), context="wamid.P6"))
        # Still talking: every message is taken by the conversation, no report yet.
        assert gateway.rows(Report) == []
        assert len(gateway.rows(Conversation)) == 1
        post(wa.message("C8", button=("confirm:send", "Kirim"), context="wamid.P7"))
        (report,) = gateway.rows(Report)
        assert report.payload["body"] == description
        assert report.payload["kind"] == "pengaduan"
        (photo,) = report.payload["attachments"]
        assert photo["sha256"] == hashlib.sha256(PHOTO).hexdigest()
        confirm = next(m for m in gateway.rows(InboundMessage) if m.external_id.endswith("C8"))
        assert confirm.report_id == report.id
        assert gateway.rows(Conversation) == []
    finally:
        for _ in gateways:
            pass
        graph.stop()
