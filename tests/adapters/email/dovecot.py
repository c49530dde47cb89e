"""A throw-away Dovecot for the email tests and bench: IMAP with TLS on a private CA.

Dovecot runs as a child process (`dovecot -F -c <conf>`) with a config written for the test:
one passwd-file user, maildirs in a temporary directory, listeners on free loopback ports
(143-style with STARTTLS and 993-style implicit TLS), a self-signed certificate made with the
`openssl` CLI.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.helpers import free_port, need_service

IMAP_USER = "aduan"
IMAP_PASSWORD = "rahasia-uji-123"  # a throw-away test account


def find_program(program: str) -> str | None:
    return shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin")


def _wait_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dovecot exited: {log.read_text(errors='replace')[-2000:]}")
        with socket.socket() as sock, contextlib.suppress(OSError):
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("dovecot did not start listening within 15 s")


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert.pem, key.pem): our own private CA."""
    if find_program("openssl") is None:
        need_service("openssl", "the openssl CLI makes the test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            find_program("openssl") or "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass
class Dovecot:
    """A throw-away Dovecot: start, stop, restart on the same ports; append helpers."""

    root: Path
    binary: str
    imap_port: int = field(default_factory=free_port)
    imaps_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def ca_file(self) -> str:
        """The self-signed certificate, used as the private CA by clients."""
        return str(self.root / "cert.pem")

    def write_config(self) -> None:
        """Certificate, passwd-file and dovecot.conf under root."""
        root = self.root
        for sub in ("run", "state", "mail", "home"):
            (root / sub).mkdir(exist_ok=True)
        make_certificate(root)
        (root / "passwd").write_text(f"{IMAP_USER}:{{PLAIN}}{IMAP_PASSWORD}\n")
        if os.geteuid() == 0:
            # Dovecot refuses to run mail processes as root: use nobody, give it the maildir.
            user, group = "nobody", grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
            for sub in ("mail", "home"):
                shutil.chown(root / sub, user, group)
            extra = ""
        else:
            user = pwd.getpwuid(os.getuid()).pw_name
            group = grp.getgrgid(os.getgid()).gr_name
            extra = f"default_login_user = {user}\ndefault_internal_user = {user}\n"
        (root / "dovecot.conf").write_text(f"""\
base_dir = {root}/run
state_dir = {root}/state
instance_name = sp4n-test-{root.name}
protocols = imap
listen = 127.0.0.1
log_path = {root}/dovecot.log
{extra}ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
""")

    def start(self) -> None:
        """Run dovecot in the foreground as our child; wait until it listens."""
        log = self.root / "dovecot.log"
        self.process = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _wait_port(self.imaps_port, self.process, log)

    def stop(self) -> None:
        """SIGTERM Dovecot's whole process group and wait for the master.

        The group, not only the master: Dovecot lets logged-in imap processes outlive a
        master restart, and a restart in these tests must cut every connection.
        """
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        self.process = None

    def restart(self) -> None:
        """Stop and start again on the same ports (connections are cut)."""
        self.stop()
        self.start()

    def client(self) -> Any:
        """A logged-in IMAPClient over implicit TLS, verified against our CA."""
        from imapclient import IMAPClient

        context = ssl.create_default_context(cafile=self.ca_file)
        client = IMAPClient(
            "127.0.0.1", port=self.imaps_port, ssl=True, ssl_context=context, timeout=10
        )
        client.login(IMAP_USER, IMAP_PASSWORD)
        return client

    @contextlib.contextmanager
    def session(self) -> Iterator[Any]:
        """A logged-in client, logged out afterwards."""
        client = self.client()
        try:
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def append(self, folder: str, *messages: bytes) -> None:
        """Deliver messages into a folder (created when missing) without flags."""
        with self.session() as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for raw in messages:
                client.append(folder, raw)

    def uids(self, folder: str, criteria: list[str] | None = None) -> list[int]:
        """UIDs in a folder matching criteria (ALL by default)."""
        with self.session() as client:
            client.select_folder(folder, readonly=True)
            return sorted(client.search(criteria or ["ALL"]))
