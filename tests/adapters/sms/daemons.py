"""Start and stop the real SMS daemons (gammu-smsd with its dummy phone, Kannel with fakesmsc)
for end-to-end tests: throw-away configs on free loopback ports, killed reliably at teardown."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from tests.helpers import free_port, need_service

GAMMU = shutil.which("gammu")
GAMMU_SMSD = shutil.which("gammu-smsd")
BEARERBOX = shutil.which("bearerbox") or "/usr/sbin/bearerbox"
SMSBOX = shutil.which("smsbox") or "/usr/sbin/smsbox"
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `check` until it holds; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate a daemon we started (its whole process group), then kill it if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=5)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class DummyPhone:
    """Gammu's dummy phone: a directory gammu-smsd reads received SMS from."""

    device: Path
    staging: Path
    log: Path
    received: int = 0

    def receive(self, sender: str, text: str, *, reverse: bool = False) -> int:
        """An SMS arrives on the phone; returns how many parts it took.

        The gammu CLI encodes it (a long text becomes parts with a concatenation UDH); the
        files are moved into the phone's inbox folder, last part first with `reverse`.
        """
        assert GAMMU
        shutil.rmtree(self.staging, ignore_errors=True)
        self.staging.mkdir()
        rc = self.staging / "gammurc"
        rc.write_text(f"[gammu]\ndevice = {self.staging}\nconnection = none\nmodel = dummy\n")
        subprocess.run(
            [
                GAMMU,
                "-c",
                str(rc),
                "savesms",
                "TEXT",
                "-folder",
                "1",
                "-sender",
                sender,
                "-unread",
                "-len",
                str(len(text)),
                "-text",
                text,
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
        saved = sorted(
            (self.staging / "sms" / "1").iterdir(), key=lambda p: int(p.name), reverse=reverse
        )
        inbox = self.device / "sms" / "1"
        inbox.mkdir(parents=True, exist_ok=True)
        for part in saved:
            # `savesms` writes a message as sent from the phone (PDU Submit); a received one
            # is a Deliver PDU, which is what gammu-smsd takes from an inbox folder.
            part.write_text(part.read_text().replace("PDU = Submit", "PDU = Deliver"))
            self.received += 1
            os.replace(part, inbox / str(100 + self.received))
        return len(saved)


@contextmanager
def gammu_smsd(
    tmp: Path,
    *,
    database: str,
    user: str = "root",
    password: str = "",
    host: str = "127.0.0.1",
    phone_id: str = "dummy1",
) -> Iterator[DummyPhone]:
    """gammu-smsd on the dummy phone, storing into a MariaDB database."""
    if not (GAMMU and GAMMU_SMSD):
        need_service("gammu-smsd", "the gammu and gammu-smsd Debian packages are not installed")
    device = tmp / "phone"
    device.mkdir()
    log = tmp / "smsd.log"
    config = tmp / "smsdrc"
    config.write_text(
        textwrap.dedent(f"""\
        [gammu]
        device = {device}
        connection = none
        model = dummy

        [smsd]
        service = sql
        driver = native_mysql
        host = {host}
        user = {user}
        password = {password}
        database = {database}
        logfile = {log}
        debuglevel = 1
        loopsleep = 1
        commtimeout = 1
        receivefrequency = 1
        checksecurity = 0
        checkbattery = 0
        checksignal = 0
        phoneid = {phone_id}
        """)
    )
    assert GAMMU_SMSD is not None
    process = _start([GAMMU_SMSD, "-c", str(config)], tmp / "smsd.stdout")
    try:
        wait_for(
            lambda: log.exists() and "Starting phone communication" in log.read_text(),
            20,
            "gammu-smsd to start (see smsd.log)",
        )
        yield DummyPhone(device, tmp / "staging", log)
    finally:
        stop(process)


@dataclass
class Kannel:
    """bearerbox + smsbox + fakesmsc on loopback."""

    sendsms_url: str
    fakesmsc: subprocess.Popen[bytes]
    fakesmsc_log: Path
    logs: list[Path] = field(default_factory=list)

    def send(self, sender: str, receiver: str, text: str) -> None:
        """A mobile-originated SMS enters Kannel through fakesmsc."""
        assert self.fakesmsc.stdin is not None
        self.fakesmsc.stdin.write(f"{sender} {receiver} text {text}\n".encode())
        self.fakesmsc.stdin.flush()

    def send_ucs2(self, sender: str, receiver: str, text: str) -> None:
        """A mobile-originated SMS in UCS-2 (data coding 8): fakesmsc's `ucs2` type takes the
        UTF-16BE bytes URL-encoded."""
        assert self.fakesmsc.stdin is not None
        data = quote(text.encode("utf-16-be"), safe="")
        self.fakesmsc.stdin.write(f"{sender} {receiver} ucs2 {data}\n".encode())
        self.fakesmsc.stdin.flush()

    def delivered(self) -> list[str]:
        """The mobile-terminated messages fakesmsc received from Kannel, as it printed them."""
        text = self.fakesmsc_log.read_text(errors="replace")
        return [line for line in text.splitlines() if "Got message" in line]


@contextmanager
def kannel(tmp: Path, *, get_url: str, username: str, password: str) -> Iterator[Kannel]:
    """Kannel with a fake SMSC, a catch-all sms-service calling `get_url`, a sendsms user."""
    if not (Path(BEARERBOX).exists() and Path(SMSBOX).exists() and Path(FAKESMSC).exists()):
        need_service("Kannel", "the kannel and kannel-extras Debian packages are not installed")
    admin, box, smsc, sendsms = free_port(), free_port(), free_port(), free_port()
    config = tmp / "kannel.conf"
    config.write_text(
        textwrap.dedent(f"""\
        group = core
        admin-port = {admin}
        admin-password = admin-{admin}
        admin-allow-ip = "127.0.0.1"
        smsbox-port = {box}
        box-allow-ip = "127.0.0.1"
        log-file = "{tmp}/bearerbox.log"
        log-level = 0

        group = smsc
        smsc = fake
        smsc-id = fake
        host = 127.0.0.1
        port = {smsc}
        connect-allow-ip = "127.0.0.1"

        group = smsbox
        bearerbox-host = 127.0.0.1
        bearerbox-port = {box}
        sendsms-port = {sendsms}
        sendsms-interface = 127.0.0.1
        log-file = "{tmp}/smsbox.log"
        log-level = 0

        group = sendsms-user
        username = {username}
        password = {password}
        max-messages = 10
        concatenation = true

        group = sms-service
        keyword = default
        catch-all = true
        max-messages = 0
        omit-empty = true
        get-url = "{get_url}"
        """)
    )
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(_start([BEARERBOX, str(config)], tmp / "bearerbox.stdout"))
        wait_for(lambda: _port_open(box) and _port_open(smsc), 20, "bearerbox to listen")
        processes.append(_start([SMSBOX, str(config)], tmp / "smsbox.stdout"))
        wait_for(lambda: _port_open(sendsms), 20, "smsbox's sendsms port")
        fake_log = tmp / "fakesmsc.log"
        with fake_log.open("ab") as out:
            fake = subprocess.Popen(
                [FAKESMSC, "-H", "127.0.0.1", "-r", str(smsc), "-i", "0.1", "-m", "1000"],
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        processes.append(fake)
        yield Kannel(
            f"http://127.0.0.1:{sendsms}/cgi-bin/sendsms",
            fake,
            fake_log,
            [tmp / "bearerbox.log", tmp / "smsbox.log"],
        )
    finally:
        for process in reversed(processes):
            stop(process)
