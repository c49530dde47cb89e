"""Email intake throughput: a real Dovecot mailbox drained through the `imap` adapter + intake.

Fills a throw-away Dovecot (same harness as the tests) with N messages of mixed shapes and
sizes (plain text, HTML alternatives, photos and PDFs attached), then drains it with the
gateway's poll runner: a batch of messages and the cursor in one transaction, then the Seen
flag; auto-replies and bounces go to quarantine.
Prints messages/s, bytes/s and peak memory. Run by hand:

    .venv/bin/python bench/email_imap.py [--messages 2000] [--postgres postgresql://...]
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import resource
import shutil
import sys
import tempfile
import textwrap
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = [
    "jalan",
    "rusak",
    "berlubang",
    "lampu",
    "mati",
    "sampah",
    "menumpuk",
    "air",
    "keruh",
    "banjir",
    "drainase",
    "pungutan",
    "liar",
    "pelayanan",
    "lambat",
    "kelurahan",
    "puskesmas",
    "sekolah",
    "jembatan",
    "retak",
]


def _text(rng: random.Random, size: int) -> str:
    words = []
    length = 0
    while length < size:
        word = rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    return textwrap.fill(" ".join(words), 72)


def _message(n: int, rng: random.Random) -> bytes:
    head = (
        f"From: Warga {n} <warga{n}@example.org>\r\nTo: aduan@example.com\r\n"
        f"Subject: Laporan warga nomor {n}\r\nMessage-ID: <bench-{n}@example.org>\r\n"
        f"Date: Sun, 22 Nov 2026 08:00:00 +0700\r\nMIME-Version: 1.0\r\n"
    )
    shape = rng.random()
    if shape < 0.6:  # short plain text
        return (
            head
            + "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            + _text(rng, rng.randint(200, 2000))
            + "\r\n"
        ).encode()
    if shape < 0.85:  # Gmail-style alternative with HTML
        body = _text(rng, rng.randint(1000, 8000))
        html = '<div dir="ltr">' + body.replace("\n", "<br>") + "</div>"
        return (
            head + 'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
            f"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
            f"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n--b--\r\n"
        ).encode()
    size = rng.choice([30_000, 120_000, 400_000])  # a photo or a scanned letter
    name, ctype = rng.choice([("foto.jpg", "image/jpeg"), ("surat.pdf", "application/pdf")])
    blob = base64.encodebytes(rng.randbytes(size)).decode()
    return (
        head + 'Content-Type: multipart/mixed; boundary="m"\r\n\r\n'
        f"--m\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{_text(rng, 600)}\r\n"
        f'--m\r\nContent-Type: {ctype}; name="{name}"\r\n'
        f'Content-Disposition: attachment; filename="{name}"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{blob}\r\n--m--\r\n"
    ).encode()


def main() -> None:
    """Fill the mailbox, drain it, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument(
        "--postgres",
        default=None,
        metavar="ADMIN_URL",
        help="run on a throw-away PostgreSQL database created through this"
        " server URL (dropped afterwards); default: SQLite in a temp dir",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also trace Python allocations (slower; peak heap)",
    )
    args = parser.parse_args()

    from adapters.email.imap import ImapAdapter, ImapOptions
    from gateway.logging_setup import configure_logging
    from gateway.poller import Poller
    from gateway.runtime import build_runtime
    from store.models import InboundMessage
    from tests.adapters.email.dovecot import IMAP_PASSWORD, IMAP_USER, Dovecot, find_program
    from tests.helpers import config_text, free_port, load_test_config

    binary = find_program("dovecot")
    if binary is None:
        sys.exit("dovecot is not installed (apt install dovecot-imapd)")
    configure_logging("WARNING")
    work = Path(tempfile.mkdtemp(prefix="sp4n-bench-email-"))
    work.chmod(0o755)
    server = Dovecot(root=work / "dovecot", binary=binary)
    scratch: str | None = None
    server.root.mkdir()
    try:
        server.write_config()
        server.start()
        rng = random.Random(20261122)
        total_bytes = 0
        started = time.perf_counter()
        with server.session() as client:  # in batches: the mailbox never sits in our memory
            for start in range(0, args.messages, 100):
                batch = [_message(n, rng) for n in range(start, min(start + 100, args.messages))]
                total_bytes += sum(len(m) for m in batch)
                client.multiappend("INBOX", batch)
        fill_seconds = time.perf_counter() - started

        db_url = f"sqlite:///{work / 'gateway.db'}"
        if args.postgres:
            import psycopg

            scratch = f"sp4n_bench_{os.getpid()}_{int(time.time())}"
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{scratch}"')
            db_url = f"{args.postgres.rsplit('/', 1)[0]}/{scratch}"
        runtime = build_runtime(
            load_test_config(
                config_text(db_url, f"http://127.0.0.1:{free_port()}", data_dir=str(work / "data"))
            ),
            base_dir=work,
        )
        adapter = ImapAdapter(
            ImapOptions.model_validate(
                {
                    "name": "email-aduan",
                    "type": "imap",
                    "host": "127.0.0.1",
                    "port": server.imaps_port,
                    "user": IMAP_USER,
                    "password": IMAP_PASSWORD,
                    "ca_file": server.ca_file,
                    "batch_size": 500,
                }
            )
        )
        if args.tracemalloc:
            tracemalloc.start()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        poller = Poller(adapter, runtime.engine, runtime.sessions, runtime.intake)
        started = time.perf_counter()
        while poller.run_once():  # the gateway's poll runner: batch + cursor, then Seen
            pass
        seconds = time.perf_counter() - started
        heap_peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else None
        rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        adapter.close()
        with runtime.sessions() as session:
            rows = session.query(InboundMessage).count()
            held = (
                session.query(InboundMessage).filter(InboundMessage.state == "quarantined").count()
            )
            stored = rows - held
        runtime.close()
        unseen = len(server.uids("INBOX", ["UNSEEN"]))

        print(f"machine: {os.cpu_count()} CPUs; database: {db_url.split(':')[0]}")
        print(
            f"mailbox: {args.messages} messages, {total_bytes / 1e6:.1f} MB"
            f" (generated and filled by MULTIAPPEND in {fill_seconds:.1f} s)"
        )
        print(
            f"ingested: {stored} stored, {held} held, {rows} inbound rows, {unseen} left"
            f" unseen, in {seconds:.1f} s"
        )
        print(
            f"throughput: {args.messages / seconds:.0f} messages/s,"
            f" {total_bytes / 1e6 / seconds:.2f} MB/s"
        )
        print(
            f"peak RSS: {rss_peak / 1024:.0f} MiB (before the drain: {rss_before / 1024:.0f} MiB)"
        )
        if heap_peak is not None:
            print(f"peak Python heap during the drain (tracemalloc): {heap_peak / 2**20:.1f} MiB")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
        if scratch:
            import psycopg

            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


if __name__ == "__main__":
    main()
