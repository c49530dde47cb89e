"""End to end in a real browser: Debian's chromium driven by Playwright against a real
`sp4n-gateway run` process and the sandbox central process.

The story: a report posted while the central is down becomes a dead letter; an admin signs
in, replays it, types in a letter with its scan, finds it in the list and reads its timeline
after the central moved it on with a response, releases a quarantined message; a citizen uses
`/lapor` and reads the status through the private link; an operator cannot see a
whistleblower's contact. Screenshots land in `docs/screenshots/` with
`SP4N_SAVE_SCREENSHOTS=1` (otherwise in the test's temporary directory).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.helpers import ROOT, free_port, need_service
from tests.processes import Process, db_rows, http_up, wait_for
from vocabulary.holds import HoldReason

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
TOKEN = "browser-token"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PASSWORDS = {"admin": "admin-sandi-e2e-1", "operator": "operator-sandi-e2e-2"}


class Stack:
    """A gateway process, a sandbox process, and their files."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.port, self.sb_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.sb_url = f"http://127.0.0.1:{self.sb_port}"
        self.db = tmp / "gateway.db"
        self.config = tmp / "gateway.yaml"
        self.env = {"CENTRAL_TOKEN": TOKEN}
        self.processes: list[Process] = []
        self.write_config()

    def write_config(self, channels: str = "") -> None:
        """The deployment's YAML; `channels` are more entries, indented as the others."""
        self.config.write_text(
            textwrap.dedent(f"""\
            gateway: {{database: "sqlite:///{self.db}", public_url: "{self.url}",
                      data_dir: "{self.tmp / "data"}"}}
            central: {{url: "{self.sb_url}", token: "${{CENTRAL_TOKEN}}", timeout: 3s}}
            agencies:
              - {{code: nasional, name: Admin Nasional LAPOR!}}
              - {{code: pemkab, name: Pemerintah Kabupaten Contoh, parent: nasional}}
              - {{code: dinas-pupr, name: Dinas PUPR Kabupaten Contoh, parent: pemkab}}
              - {{code: inspektorat, name: Inspektorat Kabupaten Contoh, parent: pemkab}}
            routing:
              default: nasional
              rules:
                - {{when: {{kind: whistleblowing}}, agency: inspektorat}}
                - {{when: {{keywords: [jalan, drainase, jembatan]}}, agency: dinas-pupr}}
            forwarder: {{interval: 0.3s, max_attempts: 1, sync_interval: 0.5s,
                        reply_interval: 0.5s}}
            channels:
              - {{name: web-kabupaten, type: webform, description: Situs pengaduan kabupaten}}
              - {{name: surat, type: letter, description: Surat kertas}}
              - {{name: telepon, type: phone, description: Saluran telepon pengaduan}}
              - {{name: lapor, type: public_form, description: Formulir /lapor}}
            """)
            + channels,
            encoding="utf-8",
        )

    def cli(self, *args: str, password: str | None = None) -> str:
        env = {**os.environ, **self.env}
        if password is not None:
            env["SP4N_NEW_PASSWORD"] = password
        done = subprocess.run(
            [sys.executable, "-m", "gateway", *args, "--config", str(self.config)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def start_gateway(self) -> None:
        proc = Process(
            ["run", "--config", str(self.config), "--port", str(self.port)],
            self.tmp / "gateway.log",
            self.env,
        ).start()
        self.processes.append(proc)
        wait_for(http_up(f"{self.url}/healthz"), 30, "the gateway to listen")

    def restart_gateway(self) -> None:
        """Stop the gateway process and start it again on the same port and files."""
        (gateway,) = [p for p in self.processes if p.args[0] == "run"]
        gateway.stop()
        self.processes.remove(gateway)
        self.start_gateway()

    def start_sandbox(self) -> None:
        proc = Process(
            [
                "sandbox",
                "--port",
                str(self.sb_port),
                "--token",
                TOKEN,
                "--db",
                str(self.tmp / "sandbox.db"),
            ],
            self.tmp / "sandbox.log",
        ).start()
        self.processes.append(proc)
        wait_for(http_up(f"{self.sb_url}/sandbox/stats"), 30, "the sandbox to listen")

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return db_rows(self.db, sql)

    def stop(self) -> None:
        for proc in reversed(self.processes):
            proc.stop()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    if not Path(CHROMIUM).exists():
        need_service("chromium", f"{CHROMIUM} is missing (Debian package chromium)")
    deployment = Stack(tmp_path)
    yield deployment
    deployment.stop()


@pytest.fixture
def browser(stack: Stack) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


class Shots:
    """Screenshots of the run: kept in the repo when asked to."""

    def __init__(self, tmp: Path) -> None:
        self.dir = tmp / "screenshots"
        self.dir.mkdir()
        self.keep = os.environ.get("SP4N_SAVE_SCREENSHOTS") == "1"

    def take(self, page: Any, name: str) -> None:
        path = self.dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if self.keep:
            target = ROOT / "docs" / "screenshots"
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target / path.name)


def _login(page: Any, stack: Stack, role: str) -> None:
    page.goto(f"{stack.url}/admin/")
    assert page.url.startswith(f"{stack.url}/admin/login")
    page.get_by_label("Nama pengguna").fill(role)
    page.get_by_label("Kata sandi").fill(PASSWORDS[role])
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(f"{stack.url}/admin/")


def _post_web(stack: Stack, payload: dict[str, Any]) -> str:
    answer = requests.post(f"{stack.url}/channels/web-kabupaten/inbound", json=payload, timeout=10)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _hold_a_message(stack: Stack) -> str:
    """A message held in quarantine (an auto-reply), stored by the intake on the same database."""
    from adapters.letter.adapter import LetterAdapter, LetterEntry
    from config.loader import load_config
    from gateway.runtime import build_runtime

    runtime = build_runtime(load_config(stack.config, stack.env), base_dir=stack.tmp)
    try:
        adapter = runtime.adapters["surat"]
        assert isinstance(adapter, LetterAdapter)
        message = adapter.message_from_entry(
            LetterEntry(
                body="Terima kasih, surat Anda sudah kami terima (balasan otomatis).",
                received_at=dt.datetime.now(dt.UTC),
                sender_name="Kantor Pos",
                number="AUTO/1",
            )
        )
        message.hold = HoldReason.AUTO_REPLY
        return runtime.intake.accept(adapter, [message])[0].report_id
    finally:
        runtime.close()


def _warn_a_channel(stack: Stack, channel: str, message: str) -> None:
    """A channel warning (a gap after an outage, say), raised by the channel's own adapter."""
    from config.loader import load_config
    from gateway.runtime import build_runtime

    runtime = build_runtime(load_config(stack.config, stack.env), base_dir=stack.tmp)
    try:
        runtime.adapters[channel].warn("gap", message)
    finally:
        runtime.close()


def test_admin_operator_and_citizen_in_a_real_browser(
    stack: Stack, browser: Any, tmp_path: Path
) -> None:
    shots = Shots(tmp_path)
    stack.cli(
        "user",
        "add",
        "admin",
        "--role",
        "admin",
        "--name",
        "Admin Diskominfo",
        password=PASSWORDS["admin"],
    )
    stack.cli(
        "user",
        "add",
        "operator",
        "--role",
        "operator",
        "--name",
        "Petugas Loket",
        password=PASSWORDS["operator"],
    )
    stack.start_gateway()
    # The central is down: with max_attempts 1 the report becomes a dead letter at once.
    dead_id = _post_web(
        stack,
        {
            "external_id": "w-1",
            "name": "Budi",
            "phone": "081234567890",
            "body": "Jembatan di Desa Sukamaju retak, berbahaya dilalui.",
        },
    )
    wait_for(
        lambda: stack.rows(f"SELECT state FROM reports WHERE id = '{dead_id}'") == [("dead",)],
        30,
        "the dead letter",
    )
    stack.start_sandbox()
    wbs_id = _post_web(
        stack,
        {
            "external_id": "w-2",
            "kind": "whistleblowing",
            "name": "Saksi Rahasia",
            "phone": "081298765432",
            "body": "Ada pungutan liar dalam pengurusan izin di kecamatan.",
        },
    )

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
    page = context.new_page()
    _login(page, stack, "admin")
    page.goto(f"{stack.url}/admin/repair")
    dead_row = page.locator("#dead-letters tr", has_text="connect")
    dead_row.get_by_role("button", name="Kirim ulang").click()
    assert "diantrekan ulang" in page.locator(".flash").inner_text()
    wait_for(
        lambda: stack.rows(f"SELECT state FROM reports WHERE id = '{dead_id}'") == [("submitted",)],
        30,
        "the replayed report at the central",
    )

    # A letter with its scan: preview, submit, receipt with the tracking id.
    scan = tmp_path / "surat-rt02.pdf"
    scan.write_bytes(PDF)
    page.goto(f"{stack.url}/admin/entry")
    page.get_by_role("link", name="Surat").click()
    page.get_by_label("Nama").fill("Ketua RT 02 RW 05")
    page.get_by_label("Nomor surat").fill("005/RT02/XI/2026")
    page.get_by_label("Tanggal surat").fill("2026-11-20")
    page.get_by_label("Isi").fill(
        "Drainase di Jalan Melati tersumbat sehingga banjir setiap hujan."
    )
    page.get_by_label("Pindaian surat").set_input_files(str(scan))
    page.get_by_role("button", name="Pratinjau").click()
    assert "Dinas PUPR Kabupaten Contoh" in page.locator(".preview").inner_text()
    shots.take(page, "entry-letter-preview")
    page.get_by_role("button", name="Kirim", exact=True).click()
    page.wait_for_url("**/admin/receipt/**")
    letter_id = page.url.rsplit("/", 1)[1]
    page.wait_for_function(
        "() => /LPR\\d{7}/.test(document.querySelector('#tracking-id').innerText)",
        timeout=30000,
    )
    tracking = page.locator("#tracking-id").inner_text().strip()
    shots.take(page, "receipt")

    # The central moves it on and answers; the sync brings both onto the timeline.
    requests.post(
        f"{stack.sb_url}/sandbox/reports/{tracking}/status",
        json={"status": "in_progress", "note": "Tim UPT dijadwalkan Kamis"},
        timeout=5,
    )
    requests.post(
        f"{stack.sb_url}/sandbox/reports/{tracking}/responses",
        json={"text": "Saluran akan dibersihkan pekan ini."},
        timeout=5,
    )
    wait_for(
        lambda: (
            stack.rows(
                f"SELECT count(*) FROM timeline_events WHERE report_id ="
                f" '{letter_id}' AND event = 'response'"
            )
            == [(1,)]
        ),
        30,
        "the response on the timeline",
    )
    page.goto(f"{stack.url}/admin/reports")
    page.get_by_label("Cari (judul, isi, nomor lacak)").fill(tracking)
    page.get_by_role("button", name="Saring").click()
    shots.take(page, "reports-list")
    page.get_by_role("link", name=tracking).click()
    timeline = page.locator(".timeline").inner_text()
    assert "sedang ditindaklanjuti" in timeline and "Saluran akan dibersihkan" in timeline
    assert "surat-rt02.pdf" in page.content()
    shots.take(page, "report-detail")

    # A held message, released by the admin.
    held = _hold_a_message(stack)
    page.goto(f"{stack.url}/admin/repair")
    page.locator("#quarantine tr", has_text=held).get_by_role(
        "button", name="Lepas sebagai laporan"
    ).click()
    assert "dilepas sebagai laporan" in page.locator(".flash").inner_text()
    assert stack.rows(f"SELECT state FROM inbound_messages WHERE id = '{held}'") == [("released",)]
    page.goto(f"{stack.url}/admin/")
    shots.take(page, "dashboard")
    gap = "pesan mungkin ada yang terlewat: periksa kotak masuk penyedia"
    _warn_a_channel(stack, "surat", gap)
    page.goto(f"{stack.url}/admin/channels")
    card = page.locator("body").inner_text()
    assert "Peringatan terakhir" in card and gap in card  # kept across the runtime's close
    shots.take(page, "channels")
    page.goto(f"{stack.url}/admin/reports/{wbs_id}")
    assert "Saksi Rahasia" in page.content()  # the admin sees it (and it is audited)
    page.get_by_role("button", name="Keluar").click()
    page.wait_for_url("**/admin/login")

    # The operator cannot see the whistleblower's contact.
    _login(page, stack, "operator")
    page.goto(f"{stack.url}/admin/reports/{wbs_id}")
    content = page.content()
    assert "Identitas pelapor disembunyikan" in content
    assert "Saksi Rahasia" not in content and "98765432" not in content
    shots.take(page, "operator-whistleblowing")
    assert page.goto(f"{stack.url}/admin/repair").status == 403
    context.close()

    # A citizen: /lapor with a photo, then the private status link.
    citizen = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = citizen.new_page()
    photo = tmp_path / "jalan.png"
    photo.write_bytes(PNG)
    page.goto(f"{stack.url}/lapor")
    page.get_by_label("Jenis laporan").select_option("pengaduan")
    page.get_by_label("Isi laporan *").fill("Jalan berlubang di depan Pasar Baru membahayakan.")
    page.get_by_label("Nama").fill("Ani")
    page.get_by_label("Foto pendukung").set_input_files(str(photo))
    shots.take(page, "lapor-form")
    page.get_by_role("button", name="Kirim laporan").click()
    page.wait_for_url("**/lapor/terkirim/**")
    page.wait_for_function(
        "() => /LPR\\d{7}/.test(document.querySelector('#tracking-id').innerText)",
        timeout=30000,
    )
    citizen_tracking = page.locator("#tracking-id").inner_text().strip()
    shots.take(page, "lapor-sent")
    page.locator("#private-link").click()
    assert "Dinas PUPR Kabupaten Contoh" in page.locator("main").inner_text()
    assert "Diteruskan ke LAPOR!" in page.locator("#timeline").inner_text()
    shots.take(page, "status-private")
    page.goto(f"{stack.url}/status/{citizen_tracking}")
    coarse = page.locator("main").inner_text()
    assert "diterima" in coarse and "Dinas PUPR" not in coarse and "Pengaduan" not in coarse
    shots.take(page, "status-coarse")
    citizen.close()
    audit = {a for (a,) in stack.rows("SELECT action FROM audit_log")}
    assert {"login", "replay", "entry", "release", "view_personal_data", "logout"} <= audit


def test_rejected_rows_are_reprocessed_after_the_config_is_fixed(
    stack: Stack, browser: Any, tmp_path: Path
) -> None:
    """Issue 11.4: a legacy site's rows refused for a config mistake are re-read from the
    repair page once the admin fixed the YAML and restarted the gateway (README, "Konsol").
    """
    import sqlite3

    site = tmp_path / "situs.db"
    with sqlite3.connect(site) as conn:
        conn.execute("CREATE TABLE aduan (id INTEGER PRIMARY KEY, isi TEXT, hp TEXT)")
        conn.execute(
            "INSERT INTO aduan VALUES (1, 'Jalan rusak di depan Puskesmas Sukamaju.', '0812')"
        )
    stack.env["LEGACY_DB_URL"] = f"sqlite:///{site}"
    legacy = (
        '  - {{name: situs-lama, type: legacy_db, database: "${{LEGACY_DB_URL}}", table: aduan,'
        " poll: 0.3s, description: Situs pengaduan lama, fields: {{body: {column}}}}}\n"
    )
    stack.write_config(legacy.format(column="isi_aduan"))  # the mistake: the column is `isi`
    shots = Shots(tmp_path)
    stack.cli("user", "add", "admin", "--role", "admin", password=PASSWORDS["admin"])
    stack.start_sandbox()
    stack.start_gateway()
    (rejected,) = wait_for(
        lambda: stack.rows(
            "SELECT id FROM inbound_messages WHERE channel = 'situs-lama' AND state = 'rejected'"
        ),
        30,
        "the refused row",
    )
    row_id = rejected[0]

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
    page = context.new_page()
    _login(page, stack, "admin")
    page.goto(f"{stack.url}/admin/repair")
    line = page.locator("#rejected tr", has_text=row_id)
    # The reason names the missing column, in Bahasa Indonesia (issue 11.8).
    assert "isian `isi_aduan` wajib diisi" in line.inner_text()
    shots.take(page, "repair")
    line.get_by_role("button", name="Proses ulang").click()  # not fixed yet
    assert "Masih ditolak" in page.locator(".flash").inner_text()

    stack.write_config(legacy.format(column="isi"))  # the fix, then a restart (README)
    stack.restart_gateway()
    page.goto(f"{stack.url}/admin/repair")  # the session outlives the restart
    page.locator("#rejected tr", has_text=row_id).get_by_role("button", name="Proses ulang").click()
    assert "diproses ulang: 1 pesan tersimpan" in page.locator(".flash").inner_text()
    assert page.locator("#rejected tr", has_text=row_id).count() == 0
    ((state, report_id),) = stack.rows(
        f"SELECT state, report_id FROM inbound_messages WHERE id = '{row_id}'"
    )
    assert state == "reprocessed" and report_id
    wait_for(
        lambda: stack.rows(f"SELECT tracking_id FROM reports WHERE id = '{report_id}'")[0][0],
        30,
        "the re-processed report at the central",
    )
    page.goto(f"{stack.url}/admin/reports/{report_id}")
    assert "Jalan rusak di depan Puskesmas Sukamaju." in page.locator("main").inner_text()
    assert "Diproses ulang" in page.locator(".timeline").inner_text()
    # One report for the row: the poll after the restart did not read it a second time.
    assert stack.rows("SELECT count(*) FROM reports WHERE channel = 'situs-lama'") == [(1,)]
    audit = stack.rows("SELECT action, target, detail FROM audit_log WHERE action = 'reprocess'")
    assert [(a, t) for a, t, _ in audit] == [("reprocess", row_id)] * 2
    assert ['"ok": false' in d for _, _, d in audit] == [True, False]
    context.close()
